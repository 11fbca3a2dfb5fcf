"""`rag eval`: answer every question of a test set and measure retrieval, correctness, citations,
abstention and latency. The CLI, the UI's Evaluate tab and the benchmarks all call `evaluate_file`
or `score`; metric definitions are in the README and in rag/metrics.py."""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.answer.citations import MARKERS, SUPPORT_THRESHOLD, cited_sentences, problems, support
from rag.metrics import (Judge, answer_rank, citation_recall_precision, contains_answer, embedding_judge, exact_match,
                         gold_judge, token_f1)
from rag.service import Rag
from rag.testsets import Item, TestSet, read_testset, write_corpus
from rag.types import Answer, Citation

# metrics.json keys where smaller is better; --compare and the report mark their deltas that way
LOWER_IS_BETTER = {"answerable_refused", "answer_words_median"} | {
    f"latency_{stage}_{p}" for stage in ("retrieve", "answer", "total") for p in ("p50", "p95")}


@dataclass
class Evaluation:
    results: list[dict]  # one per question: the answer contract + gold + per-question metrics
    metrics: dict[str, float | int | None]
    run: dict  # what was evaluated and how


JUDGES = ("embedding", "gold", "lexical-enforcer", "llm")  # --judge; README "Evaluate" says what each sees


def lexical_judge(claim: str, evidence: str) -> bool:
    """The enforcer's own check (`lexical-enforcer`): the evidence holds ≥ 80% of the claim's content
    words, all its numbers and negations. Answers that passed enforcement pass it by construction."""
    return support(claim, evidence) >= SUPPORT_THRESHOLD


def score(item: Item, answer: dict, hit_texts: list[str], page_text: Callable[[str, int | None], str | None],
          judge: Judge, k: int) -> dict:
    """One results.jsonl row: the answer (a contract dict, from any answerer: bench/eval_peer.py
    scores the LangChain recipe with this too), the gold, and the per-question metrics."""
    fields = {f.name for f in dataclasses.fields(Answer)} - {"short_answer"}
    contract = Answer(**{key: value for key, value in answer.items() if key in fields}
                      | {"citations": [Citation(**c) for c in answer["citations"]]})
    sentences, trailing = cited_sentences(answer["answer"]) if not answer["abstained"] else ([], "")
    if trailing:
        sentences.append((trailing, []))  # uncited text is a sentence no citation supports
    claims = [(MARKERS.sub("", s).strip(), ns) for s, ns in sentences]
    cr_cp = citation_recall_precision(claims, {c["n"]: c["text"] for c in answer["citations"]}, judge)
    prediction = "" if answer["abstained"] else MARKERS.sub("", answer["answer"])
    short = "" if answer["abstained"] else (answer.get("short_answer") or {}).get("text") or prediction
    broken = problems(contract, page_text)
    row = {"valid": not broken, "problems": broken,
           "citation_recall": cr_cp[0] if cr_cp else None, "citation_precision": cr_cp[1] if cr_cp else None,
           "words": len(prediction.split())}
    if item.answerable:
        rank = answer_rank(hit_texts[:k], item.answers)
        row |= {"answer_rank": rank, "exact_match": exact_match(short, item.answers),
                "f1": token_f1(short, item.answers), "gold_in_answer": contains_answer(prediction, item.answers)}
    return {**answer, "gold": item.answers, "answerable": item.answerable, "metrics": row}


def _mean(values: list) -> float | None:
    values = [float(v) for v in values if v is not None]
    return round(float(np.mean(values)), 4) if values else None


def aggregate(results: list[dict]) -> dict[str, float | int | None]:
    """metrics.json: flat, so that `--fail-under name=value` and `--compare` can name any of them
    (answer_recall_at_k is at the run's k, recorded beside the metrics)."""
    answerable = [r for r in results if r["answerable"] is True]
    unanswerable = [r for r in results if r["answerable"] is False]
    answered = [r for r in results if not r["abstained"]]
    ranks = [r["metrics"]["answer_rank"] for r in answerable]
    metrics: dict[str, float | int | None] = {
        "questions": len(results), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "answer_recall_at_1": _mean([rank == 1 for rank in ranks]),
        "answer_recall_at_k": _mean([rank is not None for rank in ranks]),
        "mrr": _mean([1 / rank if rank else 0.0 for rank in ranks]),
        "exact_match": _mean([r["metrics"]["exact_match"] for r in answerable]),
        "f1": _mean([r["metrics"]["f1"] for r in answerable]),
        "gold_in_answer": _mean([r["metrics"]["gold_in_answer"] for r in answerable]),
        "answer_words_median": statistics.median([r["metrics"]["words"] for r in answered]) if answered else None,
        "citation_validity": _mean([r["metrics"]["valid"] for r in results]),
        "citation_recall": _mean([r["metrics"]["citation_recall"] for r in answered]),
        "citation_precision": _mean([r["metrics"]["citation_precision"] for r in answered]),
        "unanswerable_abstained": _mean([r["abstained"] for r in unanswerable]),
        "answerable_refused": _mean([r["abstained"] for r in answerable]),
    }
    for stage in ("retrieve", "answer", "total"):
        times = [r["timings_ms"][stage] for r in results if stage in r["timings_ms"]]
        for p in (50, 95):
            metrics[f"latency_{stage}_p{p}"] = round(float(np.percentile(times, p)), 2) if times else None
    return metrics


def evaluate(rag: Rag, items: list[Item], *, use_llm: bool = False, k: int | None = None, judge: str = "embedding",
             progress: bool | None = None) -> Evaluation:
    """Ask every question of `items` against `rag`'s index. `progress=None`: a bar on a terminal only."""
    k = k or rag.settings.top_k
    if judge == "llm" and rag.answerer.llm is None:
        raise ValueError("--judge llm needs an LLM: set RAG_LLM_URL (and RAG_LLM_MODEL)")
    if judge not in JUDGES:
        raise ValueError(f"no such judge: {judge!r}; choose one of {', '.join(JUDGES)}")
    judges: dict[str, Judge | None] = {"llm": rag.answerer.llm and rag.answerer.llm.supports,
                                       "lexical-enforcer": lexical_judge,
                                       "embedding": embedding_judge(rag.embedder.encode)}
    judged = judges.get(judge)  # None: "gold", a judge per question
    results = []
    bar_off = None if progress is None else not progress
    for item in tqdm(items, desc="evaluating", unit="question", disable=bar_off):
        answer = rag.ask(item.question, use_llm=use_llm, k=k).to_dict()
        hits, evidence_score, evidence_flag = rag.answerer.evidence(item.question, k)
        row = score(item, answer, [h.chunk.text for h in hits], rag.store.page_text, judged or gold_judge(item.answers),
                    k)
        row["metrics"] |= {"evidence_score": round(evidence_score, 4), "evidence_flag": evidence_flag}
        row["retrieved_contexts"] = [h.chunk.text for h in hits]  # what RAGAS's context metrics judge
        results.append(row)
    run = {"questions": len(items), "k": k, "judge": judge, "llm": use_llm,
           "answerer": rag.settings.llm_model if use_llm else "extractive"}
    return Evaluation(results, aggregate(results), run)


def evaluate_file(path: Path, rag: Rag, *, docs: Path | None = None, use_llm: bool = False, k: int | None = None,
                  judge: str = "embedding", progress: bool | None = None) -> Evaluation:
    """A test set file: read and checked whole before anything runs, then `evaluate_testset`."""
    return evaluate_testset(read_testset(path), rag, docs=docs, use_llm=use_llm, k=k, judge=judge, progress=progress)


def evaluate_testset(testset: TestSet, rag: Rag, *, docs: Path | None = None, use_llm: bool = False,
                     k: int | None = None, judge: str = "embedding", progress: bool | None = None) -> Evaluation:
    """A read test set against `rag`'s index, or against a temporary index of `docs` or of the set's
    own corpus (SQuAD). `run` says how the set's keys were read and what was not."""
    if docs is not None and not docs.exists():
        raise FileNotFoundError(f"no such folder: {docs}")
    corpus, items = testset.corpus, testset.items
    if corpus is None and docs is None:
        evaluation = evaluate(rag, items, use_llm=use_llm, k=k, judge=judge, progress=progress)
    else:
        with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
            scratch = Rag(rag.settings.model_copy(update={"index_dir": Path(tmp) / "index", "chroma_url": None}),
                          rag.embedder)
            scratch.index([docs if docs is not None else write_corpus(corpus, Path(tmp) / "docs")], progress=progress)
            evaluation = evaluate(scratch, items, use_llm=use_llm, k=k, judge=judge, progress=progress)
    detected = testset.detected
    evaluation.run |= {"testset": str(testset.path), "index": str(docs) if docs else "test set corpus" if corpus
                       else str(rag.settings.index_dir),
                       "format": detected.format, "mapping": detected.mapping, "not_read": detected.ignored,
                       "warnings": detected.warnings}
    return evaluation
