"""Do answers depend on the arithmetic the index was embedded in? Every question set is indexed twice,
once with the encoder in fp32 and once in bf16 (native where the CPU has it, emulated elsewhere), and
every question asked of both; it prints, per set, how many answers differ (answer text, citations,
abstained) and the quality metrics of each side.

A user's answers must not change with the CPU they happen to run on (issue 24): the target is ≤ 0.5%
of answers differing on every set and every quality metric within 0.01.

    .venv/bin/python bench/precision.py [--sets squad,seed,pdf,followups] [--work /tmp/rag-precision]
                                        [--squad ../shared/data/squad2_dev.json] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from quality import ROOT, conversations, pdf_cases, pdf_halves, seed_cases, set_arguments, squad_cases

from rag.answer.citations import problems
from rag.config import Settings
from rag.embeddings import BF16_CHUNK_NOISE, BF16_SENTENCE_NOISE, Embedder, bf16_supported
from rag.evaluate import aggregate, evaluate
from rag.metrics import contains_answer
from rag.service import Rag
from rag.testsets import Item, write_corpus

PRECISIONS = ("fp32", "bf16")
COMPARED = ("answer", "citations", "abstained")
METRICS = ("answer_recall_at_1", "answer_recall_at_k", "gold_in_answer", "answer_words_median",
           "unanswerable_abstained", "answerable_refused", "citation_validity", "latency_total_p50",
           "latency_total_p95")
NOISE_QUESTIONS = 300  # questions whose cosines to every sentence and chunk of both indexes are compared


def answers_of(rag: Rag, items: list[Item]) -> list[dict]:
    """`rag eval`'s rows for the questions: the answer contract plus the per-question metrics."""
    return evaluate(rag, items, progress=False).results


def conversation_answers(rag: Rag, convs) -> list[dict]:
    """Every turn of every conversation, asked with the answerer's own earlier answers as history,
    with the figures bench/quality.py reports for follow-ups."""
    rows = []
    for conv in convs:
        history: list[dict] = []
        for turn in conv.turns:
            answer = rag.ask(turn.question, history)
            rows.append(answer.to_dict() | {"answerable": turn.answerable, "right": turn.answerable and contains_answer(
                answer.answer, turn.answers), "valid": not problems(answer, rag.store.page_text)})
            history += [{"role": "user", "content": turn.question}, {"role": "assistant", "content": answer.answer}]
    return rows


def follow_up_metrics(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    share = lambda flags: round(sum(flags) / len(flags), 4) if flags else None
    return {"gold_in_answer": share([r["right"] for r in answerable]),
            "answerable_refused": share([r["abstained"] for r in answerable]),
            "unanswerable_abstained": share([r["abstained"] for r in unanswerable]),
            "citation_validity": share([r["valid"] for r in rows])}


def cosine_noise(a: Rag, b: Rag, questions: list[str]) -> dict[str, float]:
    """The largest change, between the two indexes, of a question's cosine to a sentence and to a
    chunk: what rag.embeddings.BF16_SENTENCE_NOISE and BF16_CHUNK_NOISE must cover."""
    q = a.embedder.encode(questions[:NOISE_QUESTIONS])
    out = {}
    chunks = a.store.all_chunks()
    for name, vectors in (("sentence", lambda rag: np.concatenate(rag.store.sentence_vectors(chunks))),
                          ("chunk", lambda rag: np.asarray(rag.store.collection.get(
                              ids=[c.id for c in chunks], include=["embeddings"])["embeddings"]))):
        out[name] = round(float(np.abs(q @ vectors(a).T - q @ vectors(b).T).max()), 5)
    return out


def counting_exact(rag: Rag) -> dict[str, set]:
    """The questions (by their order of asking) whose answers needed exact vectors (Store.exact), and
    the chunks those were computed for, gathered as the questions are asked."""
    settled: dict[str, set] = {"questions": set(), "chunks": set()}
    asked, ask, exact = [0], rag.answerer.ask, rag.store.exact

    def counted_ask(*args, **kwargs):
        asked[0] += 1
        return ask(*args, **kwargs)

    def counted_exact(chunks):
        settled["questions"].add(asked[0])
        settled["chunks"].update(c.id for c in chunks)
        return exact(chunks)

    rag.answerer.ask, rag.store.exact = counted_ask, counted_exact
    return settled


def citations_key(row: dict) -> list[tuple]:
    return [(c["source"], c["page"], c["start"], c["end"]) for c in row["citations"]]


KEYS = {"answer": lambda r: r["answer"], "citations": citations_key, "abstained": lambda r: r["abstained"]}


def differences(a: list[dict], b: list[dict]) -> dict:
    """How many of the paired answers differ, in each part of the contract and in any of them, and
    the questions that do (with both answers), to see which decision moved."""
    pairs = list(zip(a, b, strict=True))
    out: dict = {part: sum(key(x) != key(y) for x, y in pairs) for part, key in KEYS.items()}
    moved = [(x, y) for x, y in pairs if any(key(x) != key(y) for key in KEYS.values())]
    out["any"] = len(moved)
    out["questions"] = [{"question": x["question"], "fp32": x["answer"], "bf16": y["answer"]} for x, y in moved]
    return out


def question_sets(wanted: set[str], args) -> list[tuple[str, Path, list[Item] | list]]:
    """(name, folder to index, questions or conversations) of every set asked for and available."""
    sets = []
    if "squad" in wanted:
        paragraphs, cases = squad_cases(args.squad)
        sets.append(("squad", write_corpus(paragraphs, args.work / "squad-docs"), [c.item for c in cases]))
    if "seed" in wanted:
        sets.append(("seed", ROOT / "seeds", [c.item for c in seed_cases(ROOT / "tests/data/seed_qa.jsonl")]))
    pdf_set = ROOT / "bench/data/pdf_qa.jsonl"
    if "pdf" in wanted and args.pdfs.is_dir():
        sets.append(("pdf", args.pdfs, [c.item for c in pdf_cases(pdf_set)]))
    if "followups" in wanted:
        convs = conversations(ROOT / "bench/data/followups.jsonl", pdf_halves(pdf_set))
        for docs, folder in (("seed", ROOT / "seeds"), ("pdf", args.pdfs)):
            mine = [c for c in convs if c.docs == docs]
            if mine and folder.is_dir():
                sets.append((f"followups-{docs}", folder, mine))
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    set_arguments(parser, "squad,seed,pdf,followups", "/tmp/rag-precision")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"# bench/precision.py {time.strftime('%Y-%m-%d %H:%M')}; native bf16: {bf16_supported()}; "
          f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    embedders = {p: Embedder(precision=p) for p in PRECISIONS}
    figures = {}
    for name, folder, questions in question_sets(set(args.sets.split(",")), args):
        answers, rags, settled = {}, {}, {}
        for precision in PRECISIONS:
            index = args.work / f"{folder.name}-{precision}-index"
            rag = rags[precision] = Rag(Settings(index_dir=index, embed_precision=precision), embedders[precision])
            rag.index([folder], progress=False)
            if precision == "bf16":
                settled = counting_exact(rag)
            follow_ups = name.startswith("followups")
            answers[precision] = (conversation_answers if follow_ups else answers_of)(rag, questions)
        scored = {p: follow_up_metrics(rows) if follow_ups else aggregate(rows) for p, rows in answers.items()}
        texts = [t.question for c in questions for t in c.turns] if follow_ups else [i.question for i in questions]
        figures[name] = {"answers": len(answers["fp32"]), "differ": differences(answers["fp32"], answers["bf16"]),
                         "settled": {k: len(v) for k, v in settled.items()}, "cosine_noise": cosine_noise(rags["fp32"], rags["bf16"], texts),
                         "metrics": {p: {m: scored[p].get(m) for m in METRICS} for p in scored}}
        print(report(name, figures[name]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")


def report(name: str, figs: dict) -> str:
    n, differ = figs["answers"], figs["differ"]
    lines = [f"\n## {name}: {n} answers; differ in any part {differ['any']} ({differ['any'] / n:.1%})",
             "  " + ", ".join(f"{part} {differ[part]}" for part in COMPARED),
             f"  largest cosine change, bf16 against fp32: {figs['cosine_noise']} (covered up to "
             f"{{'sentence': {BF16_SENTENCE_NOISE}, 'chunk': {BF16_CHUNK_NOISE}}}); bf16 answers that settled a decision on exact vectors: "
             f"{figs['settled']['questions']}, for {figs['settled']['chunks']} chunks"]
    for moved in differ["questions"]:
        lines += [f"  - {moved['question']}", f"    fp32: {moved['fp32'][:150]}", f"    bf16: {moved['bf16'][:150]}"]
    if figs["metrics"]:
        lines += ["| metric | fp32 | bf16 | Δ |", "|---|---|---|---|"]
        for metric in (m for m in METRICS if figs["metrics"]["fp32"].get(m) is not None):
            a, b = (figs["metrics"][p].get(metric) for p in PRECISIONS)
            delta = round(b - a, 4) if a is not None and b is not None else ""
            lines.append(f"| {metric} | {a} | {b} | {delta} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
