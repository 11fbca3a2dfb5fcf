"""How sure an answer is: each cited span's probability of answering the question, from the reading
model, and the words the faces show for it.

The bands were read off the dev halves (SQuAD, seed, PDF; bench/fit_abstention.py's units, the reader
reading the lexical ranker's 4 best): when the answer's unit had P < 0.2 it held the gold answer for
34% of the answerable questions, 0.2–0.9 for 72%, ≥ 0.9 for 93% (test halves: 25%, 71%, 88%). With
today's models and cards (`bench/fit_abstention.py --keep` prints them, 2026-12-06): 45%, 78%, 93%
(test halves: 29%, 74%, 90%)."""

from __future__ import annotations

import dataclasses

from rag.answer.reader import Reading, reader
from rag.types import Answer

STRONG = 0.9
WEAK = 0.2


def words(strength: float | None) -> str | None:
    """"strong", "moderate" or "weak" evidence (None when unknown)."""
    if strength is None:
        return None
    return "strong" if strength >= STRONG else "weak" if strength < WEAK else "moderate"


def weak(answer: Answer) -> bool:
    """The answer rests on weak evidence: none of its citations is better than weak."""
    known = [c.strength for c in answer.citations if c.strength is not None]
    return bool(known) and max(known) < WEAK


def with_strengths(answer: Answer, question: str, read: dict[tuple, Reading]) -> Answer:
    """The answer with each citation's strength: from `read` ((source, page, start, end) -> what the
    reader made of that unit, for the units it already read) or read now (an LLM's spans)."""
    keys = [(c.source, c.page, c.start, c.end) for c in answer.citations]
    unread = [c.text for c, key in zip(answer.citations, keys) if key not in read]
    fresh = iter(reader().read(question, unread)) if unread else iter(())
    readings = [read[key] if key in read else next(fresh) for key in keys]
    answer.citations = [dataclasses.replace(c, strength=round(r.probability, 4))
                        for c, r in zip(answer.citations, readings)]
    return answer
