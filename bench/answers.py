"""Extractive answers on SQuAD 2.0 dev and on the shipped seed test set.

Measures, in one run:
  squad2_dev answerable: gold answer contained in the answer (SQuAD normalisation), median words,
      both with abstention off (answer quality) and on (what users get);
  squad2_dev unanswerable: share abstained; the whole trade-off curve of the abstainer's threshold
      on P(answerable), with and without the vetoes (a name the document never mentions, a number,
      date or person asked for and absent, no shared word);
  citation validity over every answer (verbatim spans, every sentence marked, every marker used);
  the seed test set (tests/data/seed_qa.jsonl): answerable correct, unanswerable abstained;
  warm `Rag.ask` latency on the seed corpus (index loaded, extractive), p50/p95.

Run from the repo root:  .venv/bin/python bench/answers.py [--data PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from rag.answer.citations import problems
from rag.answer.extractive import ABSTAIN_BELOW, rank_sentences, select
from rag.config import Settings
from rag.metrics import contains_answer
from rag.service import Rag
from rag.testsets import load_squad, write_corpus

ROOT = Path(__file__).resolve().parent.parent


def squad(rag: Rag, data: Path, tmp: Path) -> None:
    paragraphs, items = load_squad(data)
    rag.index([write_corpus(paragraphs, tmp / "squad")], progress=False)
    rows, invalid = [], 0
    for item in items:
        answer = rag.ask(item.question)
        invalid += bool(problems(answer, rag.store.page_text))
        vector = rag.embedder.encode([item.question])[0]
        hits = rag.retriever.search(item.question, vector=vector)
        ranked = rank_sentences(item.question, vector, hits, rag.store.sentence_vectors, rag.retriever.idf)
        text = " ".join(ev.text for ev in select(ranked))  # what it would answer with abstention off
        _, best, flag = rag.answerer.evidence(item.question)
        rows.append({"answerable": item.answerable, "best": best, "flagged": flag is not None,
                     "raw_correct": item.answerable and contains_answer(text, item.answers),
                     "raw_words": len(text.split()), "abstained": answer.abstained,
                     "correct": item.answerable and contains_answer(answer.answer, item.answers)})
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    print(f"squad2_dev: {len(ans)} answerable, {len(una)} unanswerable questions; "
          f"{len(rows) - invalid}/{len(rows)} answers with valid citations")
    print(f"  abstention off: gold in answer {np.mean([r['raw_correct'] for r in ans]):.3f}, "
          f"median {statistics.median(r['raw_words'] for r in ans):.0f} words")
    print(f"  abstention on (P(answerable) < {ABSTAIN_BELOW} or a veto): gold in answer "
          f"{np.mean([r['correct'] for r in ans]):.3f}, answerable refused {np.mean([r['abstained'] for r in ans]):.3f}, "
          f"unanswerable abstained {np.mean([r['abstained'] for r in una]):.3f}")
    print("  trade-off (abstain when P(answerable) < t [or a veto fires]):")
    print("  | t | unanswerable abstained | answerable refused | with vetoes: abstained | refused |")
    print("  |---|---|---|---|---|")
    for t in np.arange(0.0, 0.71, 0.05):
        plain_u = np.mean([r["best"] < t for r in una]); plain_a = np.mean([r["best"] < t for r in ans])
        both_u = np.mean([r["best"] < t or r["flagged"] for r in una])
        both_a = np.mean([r["best"] < t or r["flagged"] for r in ans])
        print(f"  | {t:.2f} | {plain_u:.3f} | {plain_a:.3f} | {both_u:.3f} | {both_a:.3f} |")


def seeds(rag: Rag) -> None:
    rag.index([ROOT / "seeds"], progress=False)
    items = [json.loads(line) for line in (ROOT / "tests/data/seed_qa.jsonl").read_text(encoding="utf-8").splitlines()]
    answers = [rag.ask(i["question"]) for i in items]
    invalid = sum(bool(problems(a, rag.store.page_text)) for a in answers)
    correct = sum(contains_answer(a.answer, i["answers"]) for a, i in zip(answers, items) if i["answerable"])
    abstained = sum(a.abstained for a, i in zip(answers, items) if not i["answerable"])
    n_ans = sum(i["answerable"] for i in items)
    print(f"seed test set: answerable correct {correct}/{n_ans}, unanswerable abstained "
          f"{abstained}/{len(items) - n_ans}, valid citations {len(answers) - invalid}/{len(answers)}")
    times = []
    for _ in range(3):
        for i in items:
            start = time.perf_counter()
            rag.ask(i["question"])
            times.append((time.perf_counter() - start) * 1000)
    print(f"warm rag.ask on the seed corpus: p50 {np.percentile(times, 50):.1f} ms, "
          f"p95 {np.percentile(times, 95):.1f} ms over {len(times)} questions")


def seeds_llm(rag: Rag) -> None:
    """Every seed question through the LLM: how often its answer survives citation enforcement."""
    items = [json.loads(line) for line in (ROOT / "tests/data/seed_qa.jsonl").read_text(encoding="utf-8").splitlines()]
    answers = [rag.ask(i["question"], use_llm=True) for i in items]
    invalid = sum(bool(problems(a, rag.store.page_text)) for a in answers)
    kinds = Counter("abstained" if a.abstained else a.answerer for a in answers)
    correct = sum(contains_answer(a.answer, i["answers"]) for a, i in zip(answers, items) if i["answerable"])
    print(f"seed test set with the LLM at {rag.settings.llm_url}: {dict(kinds)}; answerable correct "
          f"{correct}/{sum(i['answerable'] for i in items)}; valid citations {len(answers) - invalid}/{len(answers)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/squad2_dev.json")
    parser.add_argument("--llm-url", help="also answer the seed set with this OpenAI-compatible LLM (…/v1)")
    parser.add_argument("--llm-model", default="smollm2")
    args = parser.parse_args()
    print(f"# bench/answers.py, {dt.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    with tempfile.TemporaryDirectory() as tmp:
        first = Rag(Settings(index_dir=Path(tmp) / "squad-index"))
        squad(first, args.data, Path(tmp))
        seeds(Rag(Settings(index_dir=Path(tmp) / "seed-index"), first.embedder))
        if args.llm_url:
            seeds_llm(Rag(Settings(index_dir=Path(tmp) / "seed-index", llm_url=args.llm_url,
                                   llm_model=args.llm_model), first.embedder))


if __name__ == "__main__":
    main()
