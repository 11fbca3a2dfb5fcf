"""The corpus of bench/scale.py: N chunks of real English prose around the SQuAD 2.0 dev paragraphs.

Every SQuAD paragraph stays intact as its own file (squad/pNNN.txt, so its questions stay answerable),
plus filler files gen/NNN/dNNNNN.txt (200 per folder, ~10k chars, ~20 chunks each) of prose found
offline: the docstrings (ast.get_docstring of modules, classes, functions) of the .py files and the
.md/.rst/.txt files under the stdlib and the venv's site-packages, in sorted path order, deduped,
prose-like only (≥200 chars, mostly letters and spaces), shuffled by --seed and packed until rag's own
splitter (chunk_size/overlap from Settings) counts about N chunks; a pool too small for N is cycled,
with a warning. The same seed writes the same files, so a larger N's corpus starts with a smaller one's.

Alone (only the docs folder, no index):
    .venv/bin/python bench/scale_corpus.py --chunks 100000 --workdir /tmp/scale
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import random
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.chunking import make_splitter, split
from rag.config import Settings
from rag.testsets import load_squad, write_corpus
from rag.types import Page

PER_FOLDER, DOC_CHARS = 200, 10_000
FILLER = "python-prose-v2"  # in corpus.json: a workdir made by another generator is not reused
SQUAD = ROOT.parent / "shared/data/squad2_dev.json"


def texts_in(path: Path) -> list[str]:
    """A .md/.rst/.txt file's text, or a .py file's docstrings (module, classes, functions); [] if unreadable."""
    try:
        if path.suffix != ".py":
            return [path.read_text(encoding="utf-8")]
        return [ast.get_docstring(node) or "" for node in ast.walk(ast.parse(path.read_bytes()))
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []


def prose(t: str) -> bool:
    """≥200 chars, mostly letters and spaces (no data tables, no word lists), no NUL (a docstring may hold
    one, as in fontTools' 'B&H\\x00', and rag index would skip the whole file as binary)."""
    n = len(t)
    return n >= 200 and "\0" not in t and sum(c.isalpha() or c == " " for c in t) >= .75 * n and t.count(" ") >= .08 * n


@functools.cache
def prose_pool(cache: Path | None = None) -> tuple[str, ...]:
    """The filler texts; `cache` (a JSON file) keeps them between runs: collecting them takes ~2.5 min."""
    t, paths = time.perf_counter(), sysconfig.get_paths()
    roots = [Path(paths["stdlib"]), Path(paths["purelib"])]
    key = {"filler": FILLER, "roots": [str(r) for r in roots]}
    if cache is not None and cache.exists() and (kept := json.loads(cache.read_text()))["key"] == key:
        pool = tuple(kept["pool"])
        print(f"filler pool: {len(pool)} distinct texts, {sum(map(len, pool)) / 1e6:.1f} M chars, from {cache}")
        return pool
    files = [f for root in roots for f in sorted(root.rglob("*")) if f.suffix in (".py", ".md", ".rst", ".txt")
             and f.is_file() and (root == roots[1] or "site-packages" not in f.parts)]
    pool = tuple(dict.fromkeys(text for f in files for text in texts_in(f) if prose(text)))
    print(f"filler pool: {len(pool)} distinct texts, {sum(map(len, pool)) / 1e6:.1f} M chars, from {len(files)} "
          f"files under {roots[0]} and {roots[1]} (collected in {time.perf_counter() - t:.0f} s)", flush=True)
    if cache is not None:
        cache.write_text(json.dumps({"key": key, "pool": pool}))
    return pool


def generate(paragraphs: dict[str, str], docs: Path, target: int, seed: int) -> dict:
    """Write the corpus; returns files, chars and chunks as rag's splitter counts them."""
    settings = Settings()
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    count = lambda name, text: len(split(Page(name, None, text), splitter))
    write_corpus(paragraphs, docs / "squad")
    chunks = sum(count(name, text) for name, text in paragraphs.items())
    chars, files = sum(map(len, paragraphs.values())), len(paragraphs)
    pool = list(prose_pool(docs.parent.parent / "pool.json"))
    random.Random(seed).shuffle(pool)  # so each N mixes all packages, not the alphabetically first ones
    used, i = 0, 0
    while chunks < target:
        parts: list[str] = []
        while sum(map(len, parts)) < DOC_CHARS:
            parts.append(pool[used % len(pool)])
            used += 1
        text = "\n\n".join(parts)
        path = docs / "gen" / f"{i // PER_FOLDER:03d}" / f"d{i:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        chunks, chars, files, i = chunks + count(path.name, text), chars + len(text), files + 1, i + 1
    cycled = f"; WARNING: the pool is too small for ~{target} chunks: cycled, texts repeat" * (used > len(pool))
    print(f"filler: {i} files of {used} texts, {used / len(pool):.0%} of the pool{cycled}", flush=True)
    return {"files": files, "chars": chars, "chunks": chunks, "filler": FILLER, "pool used": used / len(pool)}


def corpus(work: Path, paragraphs: dict[str, str], target: int, seed: int) -> dict:
    """WORK/docs for ~target chunks, described by WORK/corpus.json; reused when that file exists (it is
    written last, so an interrupted generation starts over)."""
    docs, described = work / "docs", work / "corpus.json"
    for f in (described, work / "index.json"):
        if f.exists() and json.loads(f.read_text()).get("filler") != FILLER:
            sys.exit(f"{work} holds a corpus made by another generator: remove it or pick another --workdir")
    t = time.perf_counter()
    if not described.exists():
        described.write_text(json.dumps(generate(paragraphs, docs, target, seed)))
    info = json.loads(described.read_text())
    print(f"corpus {docs}: {info['files']} files, {info['chars'] / 1e6:.1f} M chars, ~{info['chunks']} chunks "
          f"(generated in {time.perf_counter() - t:.0f} s)", flush=True)
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", action="append", required=True, help="target chunk counts: 50000,100000 or repeat")
    ap.add_argument("--workdir", type=Path, required=True, help="writes WORKDIR/n<N>/docs and corpus.json")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=SQUAD)
    args = ap.parse_args()
    paragraphs, _ = load_squad(args.data.resolve())
    for target in [int(n) for value in args.chunks for n in value.split(",") if n.strip()]:
        work = args.workdir / f"n{target}"
        work.mkdir(parents=True, exist_ok=True)
        corpus(work, paragraphs, target, args.seed)


if __name__ == "__main__":
    main()
