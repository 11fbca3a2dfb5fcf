"""Scale: indexing time, warm query latency, answer recall and `rag serve` memory at N chunks (issue: speed).
Targets: warm answer p50 ≤ 80 ms at 50k chunks; peak RSS of `rag serve` with 100k chunks ≤ 2.5 GB.

Corpus: every SQuAD 2.0 dev paragraph stays intact as its own file (squad/pNNN.txt, so its questions stay
answerable), plus filler files gen/NNN/dNNNNN.txt (200 per folder, ~10k chars, ~20 chunks each) of real English
prose found offline: the docstrings (ast.get_docstring of modules, classes, functions) of the .py files and the
.md/.rst/.txt files under the stdlib and the venv's site-packages, in sorted path order, deduped, prose-like
only (≥200 chars, mostly letters and spaces), shuffled by --seed and packed until rag's own splitter
(chunk_size/overlap from Settings) counts about N chunks; a pool too small for N is cycled, with a warning.
Per N:
  index     `rag index DOCS --index INDEX` as a whole process: wall time, chars/s (its tqdm bars pass through)
  latency   in process, after a warm-up: `Rag.ask` (what `rag ask` calls) on --questions seeded SQuAD questions
            (half answerable), p50/p95; then per question the stages timed alone: embed the question,
            Retriever.dense (Chroma HNSW), Retriever.lexical (bm25s); rest = answer − the three
  R@5       answerable questions with a gold answer (rag.metrics.contains_answer) in a top-5 hit's text;
            own@5: with a top-5 hit from the question's own paragraph (stricter: filler may hold the answer)
  serve     `rag serve` on 127.0.0.1, --requests POST /v1/ask from --clients threads; VmHWM (peak RSS)
            and VmRSS of the server from /proc/<pid>/status, answered requests/s, errors
--workdir keeps corpus and index per N (WORK/n<N>/) and reuses them when a previous run finished indexing.

Run from the repo root:
    .venv/bin/python bench/scale.py --chunks 50000,100000 --workdir /tmp/scale [--questions 200]
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import functools
import json
import os
import platform
import random
import subprocess
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RAG = str(Path(sys.executable).parent / "rag")
sys.path.insert(0, str(ROOT))

from rag.chunking import make_splitter, split
from rag.config import Settings
from rag.metrics import contains_answer
from rag.testsets import load_squad, write_corpus
from rag.types import Page
from tests.net import free_port, wait_for

PER_FOLDER, DOC_CHARS = 200, 10_000
FILLER = "python-prose-v2"  # in corpus.json: a workdir made by another generator is not reused


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
def prose_pool() -> tuple[str, ...]:
    t, paths = time.perf_counter(), sysconfig.get_paths()
    roots = [Path(paths["stdlib"]), Path(paths["purelib"])]
    files = [f for root in roots for f in sorted(root.rglob("*")) if f.suffix in (".py", ".md", ".rst", ".txt")
             and f.is_file() and (root == roots[1] or "site-packages" not in f.parts)]
    pool = tuple(dict.fromkeys(text for f in files for text in texts_in(f) if prose(text)))
    print(f"filler pool: {len(pool)} distinct texts, {sum(map(len, pool)) / 1e6:.1f} M chars, from {len(files)} "
          f"files under {roots[0]} and {roots[1]} (collected in {time.perf_counter() - t:.0f} s)", flush=True)
    return pool


def generate(paragraphs: dict[str, str], docs: Path, target: int, seed: int) -> dict:
    """Write the corpus; returns files, chars and chunks as rag's splitter counts them."""
    settings = Settings()
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    count = lambda name, text: len(split(Page(name, None, text), splitter))
    write_corpus(paragraphs, docs / "squad")
    chunks = sum(count(name, text) for name, text in paragraphs.items())
    chars, files = sum(map(len, paragraphs.values())), len(paragraphs)
    pool = list(prose_pool())
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


def build(work: Path, paragraphs: dict[str, str], target: int, seed: int) -> dict:
    """Corpus and index for one N, reused from WORK/n<N>/ when a previous run finished them."""
    docs, index, done = work / "docs", work / "index", work / "index.json"
    if any(f.exists() and json.loads(f.read_text()).get("filler") != FILLER for f in (done, work / "corpus.json")):
        sys.exit(f"{work} holds a corpus made by another generator: remove it or pick another --workdir")
    if done.exists():
        info = json.loads(done.read_text())
        print(f"reused index {index}: {info['chunks']} chunks in {info['files']} files, "
              f"indexed in {info['index_s']:.0f} s on {info['when']}")
        return info | {"reused": True}
    t, corpus = time.perf_counter(), work / "corpus.json"
    if not corpus.exists():
        corpus.write_text(json.dumps(generate(paragraphs, docs, target, seed)))
    info = json.loads(corpus.read_text())
    print(f"corpus {docs}: {info['files']} files, {info['chars'] / 1e6:.1f} M chars, ~{info['chunks']} chunks "
          f"(generated in {time.perf_counter() - t:.0f} s)", flush=True)
    if index.exists():
        print("an interrupted run left a partial index: rag index goes on from it; the time covers the rest only")
    t = time.perf_counter()
    out = subprocess.run([RAG, "index", str(docs), "--index", str(index)], stdout=subprocess.PIPE, text=True, check=False)
    index_s = time.perf_counter() - t
    print(out.stdout.strip())
    if out.returncode:
        sys.exit(f"rag index failed with exit code {out.returncode}")
    print(f"indexed in {index_s:.1f} s: {info['chars'] / index_s:,.0f} chars/s, "
          f"{index_s / info['chunks'] * 1000:.1f} s per 1000 chunks", flush=True)
    info |= {"index_s": index_s, "when": time.strftime("%Y-%m-%d %H:%M")}
    done.write_text(json.dumps(info))
    return info | {"reused": False}


def latency(index: Path, items: list) -> dict:
    from rag.service import Rag

    t = time.perf_counter()
    rag = Rag(Settings(index_dir=index))
    rag.warm_up()  # model, all chunks, BM25: what `rag serve` does before its first request
    load_s = time.perf_counter() - t
    ret, n = rag.retriever, max(rag.settings.candidates, rag.settings.top_k)
    collection = rag.store.collection
    bm25 = ret.lexicon.bm25
    print(f"chroma hnsw {collection.configuration.get('hnsw')}; bm25s {bm25.method} k1={bm25.k1} b={bm25.b}")
    for item in items[:5]:
        rag.ask(item.question)
    ms: dict[str, list[float]] = {"answer": [], "embed": [], "dense": [], "bm25": []}
    found, own = [], []

    def clock(name, f, *a):
        t, out = time.perf_counter(), f(*a)
        ms[name].append((time.perf_counter() - t) * 1000)
        return out

    for item in items:
        clock("answer", rag.ask, item.question)
        vector = clock("embed", lambda q: rag.embedder.encode([q])[0], item.question)
        clock("dense", ret.dense, vector, n)
        clock("bm25", ret.lexical, item.question, n)
        if item.answerable:
            hits = rag.search(item.question, 5)
            found.append(any(contains_answer(h.chunk.text, item.answers) for h in hits))
            own.append(any(h.chunk.source == f"squad/{item.source}" for h in hits))
    ms["rest"] = [a - e - d - b for a, e, d, b in zip(ms["answer"], ms["embed"], ms["dense"], ms["bm25"])]
    p = lambda name, q=50: float(np.percentile(ms[name], q))
    out = {"chunks": len(ret.lexicon), "load s": load_s, "p50": p("answer"), "p95": p("answer", 95),
           **{f"p50 {k}": p(k) for k in ("embed", "dense", "bm25", "rest")},
           "R@5": float(np.mean(found)), "own@5": float(np.mean(own)), "answerable": len(found)}
    print(f"in process: {out['chunks']} chunks loaded in {load_s:.1f} s; {len(items)} questions "
          f"({len(found)} answerable): answer p50 {out['p50']:.1f} ms, p95 {out['p95']:.1f} ms; p50 of the "
          f"stages alone: embed {out['p50 embed']:.1f}, dense {out['p50 dense']:.1f}, bm25 {out['p50 bm25']:.1f}, "
          f"rest {out['p50 rest']:.1f} ms; R@5 {out['R@5']:.3f}, own@5 {out['own@5']:.3f}", flush=True)
    return out


def memory(pid: int) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmHWM", "VmRSS")}


def serve(index: Path, questions: list[str], requests: int, clients: int, log: Path) -> dict:
    port = free_port()
    url, t = f"http://127.0.0.1:{port}", time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen([RAG, "serve", "--index", str(index), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        while proc.poll() is None:  # loading 100k chunks takes a while; a server that died fails at once
            try:
                wait_for(f"{url}/health", timeout=5)
                break
            except TimeoutError:
                pass
        else:
            raise RuntimeError(f"rag serve exited with code {proc.returncode}")
        start_s, idle = time.perf_counter() - t, memory(proc.pid)
        with httpx.Client(base_url=url, timeout=600) as http, ThreadPoolExecutor(clients) as pool:
            def ask(question: str) -> bool:
                try:
                    http.post("/v1/ask", json={"question": question}).raise_for_status()
                    return True
                except httpx.HTTPError:
                    return False

            began = time.perf_counter()
            ok = list(pool.map(ask, [questions[i % len(questions)] for i in range(requests)]))
            elapsed = time.perf_counter() - began
        mem = memory(proc.pid)
    except Exception:
        print(f"rag serve failed; last lines of its stderr ({log}):\n" + "\n".join(log.read_text().splitlines()[-20:]))
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    out = {"start s": start_s, "idle MB": idle["VmRSS"], "peak MB": mem["VmHWM"], "rss MB": mem["VmRSS"],
           "req/s": sum(ok) / elapsed, "errors": ok.count(False)}
    print(f"rag serve: ready in {start_s:.1f} s at {out['idle MB']:.0f} MB RSS; {requests} /v1/ask from {clients} "
          f"clients: {out['req/s']:.1f} answered/s, errors {out['errors']}; peak RSS (VmHWM) {out['peak MB']:.0f} MB, "
          f"RSS at end {out['rss MB']:.0f} MB", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", action="append", required=True, help="target chunk counts: 50000,100000 or repeat")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, help="keep corpus and index per N here and reuse them (default: temp)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/squad2_dev.json")
    args = ap.parse_args()
    targets = [int(n) for value in args.chunks for n in value.split(",") if n.strip()]
    s = Settings()
    print(f"# bench/scale.py, {dt.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# settings: chunk {s.chunk_size}/{s.chunk_overlap}, top_k {s.top_k}, candidates {s.candidates}, "
          f"dense_weight {s.dense_weight}; data {args.data.resolve()}")
    paragraphs, items = load_squad(args.data.resolve())
    rng, half = random.Random(args.seed), args.questions // 2  # as many answerable questions as not
    items = [i for want in (True, False) for i in rng.sample([i for i in items if i.answerable == want], half)]
    rng.shuffle(items)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for target in targets:
            work = (args.workdir or Path(tmp)) / f"n{target}"
            work.mkdir(parents=True, exist_ok=True)
            print(f"\n## ~{target} chunks ({work})", flush=True)
            built = build(work, paragraphs, target, args.seed)
            row = {"target": target, **built, **latency(work / "index", items)}
            rows.append(row | serve(work / "index", [i.question for i in items], args.requests, args.clients,
                                    work / "serve.log"))
    print("\n| chunks | files | index s | s/1k chunks | load s | p50 answer ms | p95 answer ms | p50 embed | "
          "p50 dense | p50 bm25 | p50 rest | R@5 | own@5 | serve ready s | serve peak RSS MB | req/s | errors |")
    print("|" + "---|" * 17)
    for r in rows:
        reused = " (reused)" if r["reused"] else ""
        print(f"| {r['chunks']} | {r['files']} | {r['index_s']:.0f}{reused} | {r['index_s'] / r['chunks'] * 1000:.1f} | "
              f"{r['load s']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p50 embed']:.1f} | {r['p50 dense']:.1f} | "
              f"{r['p50 bm25']:.1f} | {r['p50 rest']:.1f} | {r['R@5']:.3f} | {r['own@5']:.3f} | {r['start s']:.1f} | "
              f"{r['peak MB']:.0f} | {r['req/s']:.1f} | {r['errors']} |")
    print(f"\n# load avg 1/5/15 min at end: {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
