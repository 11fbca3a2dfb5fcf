"""What matching questions to the documents' cards costs with many documents: the cards of
bench/scale.py's corpus (its --workdir's n<N>/docs), made and embedded here, and 200 SQuAD 2.0 dev
questions scored against them as every question is (CardIndex.scores, passed_over, documents), after a
warm-up pass over the same questions.

    .venv/bin/python bench/card_scale.py [--docs /tmp/scale/n100000/docs] [--squad ../shared/data/squad2_dev.json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

from quality import SHARED, squad_cases

from rag.card_index import CardIndex
from rag.cards import make_card
from rag.config import Settings
from rag.embeddings import Embedder
from rag.loaders import discover, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=Path("/tmp/scale/n100000/docs"))
    parser.add_argument("--squad", type=Path, default=SHARED / "squad2_dev.json")
    args = parser.parse_args()
    print(f"# bench/card_scale.py {time.strftime('%Y-%m-%d %H:%M')}; command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    settings = Settings()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cards = [make_card(load(path, path.relative_to(root).as_posix(), 10**9, settings))
                 for root, path in discover([args.docs])]
    made = time.perf_counter() - started
    embedder = Embedder()
    started = time.perf_counter()
    vectors = embedder.encode([card.label for card in cards])
    embedded = time.perf_counter() - started
    started = time.perf_counter()
    index = CardIndex({card.source: (card, vector) for card, vector in zip(cards, vectors)}, settings.dense_weight)
    built = time.perf_counter() - started
    questions = [case.item.question for case in squad_cases(args.squad)[1]][:200]
    asked = list(zip(questions, embedder.encode(questions)))
    times = []
    for warm in (True, False):  # the first pass warms up (bm25s's first scores cost ~10 ms each)
        for question, vector in asked:
            started = time.perf_counter()
            scores = index.scores(question, vector)
            index.passed_over(question, scores)
            index.documents(question, scores)
            if not warm:
                times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"{len(cards)} documents: cards made in {made:.1f} s, labels embedded in {embedded:.1f} s, index built in "
          f"{built * 1000:.0f} ms; per question p50 {statistics.median(times):.2f} ms, p95 {times[int(0.95 * len(times))]:.2f} ms")


if __name__ == "__main__":
    main()
