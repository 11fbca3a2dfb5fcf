"""The numbers the learned models read: one row per candidate sentence for the ranker, one row per
question for the abstainer. Everything here is computed from what the answerer already has at
question time (the question, the hits, their sentences and vectors, the corpus IDF), in well under a
millisecond per candidate."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from rag.answer.qtypes import QUANTITY, SPOTTABLE, TIME, answer_type, spots
from rag.answer.text import content_terms, stem, words

# Chosen by two-fold cross-validation on the dev halves (SQuAD: Normans vs Sky; PDFs: by document):
# the units' neighbours' coverage, novelty, length and the hit's rank fitted dev and lost on the
# held-out fold, so they are not features.
RANK_FEATURES = ("cosine", "coverage", "retrieval", "kind_held", "kind_missing", "kind_x_coverage", "number_by_focus",
                 "table_row")
ABSTAIN_FEATURES = ("best_logit", "margin", "best_cosine", "best_coverage", "top_retrieval", "unnamed_terms",
                    "polarity_missing", "kind_missing", "kind_wanted", "max_missing_idf", "chunk_coverage")

POLARITY = {"not", "never", "no", "none", "nor", "without", "least", "fewest", "lowest", "worst", "minimum",
            "lose", "lost", "fail", "failed", "unable", "false"}
TABLE_ROW = re.compile(r"\t|\s\|\s")  # the loaders keep a table row on one line, cells split by tabs or " | "
WH_WORD = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)
NEAR = 6  # a number this many words after a word of the question's focus stands for it: "Age: 17", "3455 ft"
TERMINAL = re.compile(r"[.!?:;][\"'”’)\]]*$")


def is_table_row(unit: str) -> bool:
    return "\n" not in unit and len(TABLE_ROW.split(unit)) >= 2


def is_question(unit: str) -> bool:
    """A sentence that asks rather than states: never an answer by itself."""
    return unit.rstrip("\"'”’)] ").endswith("?")


def is_heading(unit: str) -> bool:
    """A title or heading line: short, no sentence-final punctuation, no number, not a table row. It
    names a topic; it states nothing an answer could rest on."""
    if is_table_row(unit) or TERMINAL.search(unit) or any(ch.isdigit() for ch in unit):
        return False
    tokens = unit.split()
    return len(tokens) <= 12


def coverage(question_terms: set[str], terms: set[str], idf: Callable[[str], float]) -> float:
    """Share of the question's IDF mass that the text contains: 1.0 when every rare word is there."""
    total = sum(idf(t) for t in question_terms)
    return sum(idf(t) for t in question_terms & terms) / total if total else 0.0


def focus(question: str) -> str:
    """The clause that asks: after the last comma before the question word. "In the NTSB report on the
    December 8 accident near Tallahassee, what was the airframe total time?" asks about the airframe
    total time; the rest says where to look, which retrieval uses but the answering unit need not repeat."""
    wh = WH_WORD.search(question)
    if not wh:
        return question
    comma = question.rfind(",", 0, wh.start())
    return question[comma + 1:] if comma >= 0 else question


def number_by(terms: set[str], unit: str) -> bool:
    """The unit holds a number within NEAR words after one of the terms ("Runway Length/Width: 3455 ft")."""
    tokens = words(unit)
    hits = [i for i, t in enumerate(tokens) if stem(t) in terms]
    return any(any(ch.isdigit() for ch in t) for i in hits for t in tokens[i + 1:i + 1 + NEAR])


class Question:
    """What the features need of the question, computed once per question."""

    def __init__(self, question: str, asked: str, idf: Callable[[str], float]) -> None:
        self.text, self.asked, self.idf = question, asked, idf
        # The words a unit must cover: the follow-up's own, when it has any ("what did she say?" has
        # none), and of those only the focus clause's: the clause before it says where to look.
        self.terms = content_terms(focus(asked)) or content_terms(asked) or content_terms(question)
        self.kind = answer_type(asked)
        self.wants_kind = self.kind in SPOTTABLE
        self.polarity = set(words(asked)) & POLARITY

    def kind_held(self, unit: str) -> bool:
        return self.wants_kind and self.kind in spots(unit, self.asked)


def candidate_rows(q: Question, units: list[str], cosines: np.ndarray, retrieval: float) -> np.ndarray:
    """RANK_FEATURES of the units (sentences, table rows, list items) of one chunk, in order."""
    rows = []
    for unit, cos in zip(units, cosines):
        held = q.kind_held(unit)
        cov = coverage(q.terms, content_terms(unit), q.idf)
        near = q.kind in (QUANTITY, TIME) and is_table_row(unit) and number_by(q.terms, unit)
        rows.append([float(cos), cov, retrieval, float(held), float(q.wants_kind and not held), float(held) * cov,
                     float(near), float(is_table_row(unit))])
    return np.array(rows, dtype=float).reshape(-1, len(RANK_FEATURES))


def abstain_row(q: Question, best: np.ndarray, best_logit: float, runner_up_logit: float, best_text: str,
                context: str, chunk_text: str, unnamed: int) -> np.ndarray:
    """ABSTAIN_FEATURES of a question's best evidence. `context`: the best unit with its neighbours;
    `unnamed`: the names and numbers of the question that its document never mentions."""
    f = dict(zip(RANK_FEATURES, best))
    around = content_terms(context)
    missing = q.terms - around
    top_idf = max((q.idf(t) for t in q.terms), default=0.0) or 1.0
    row = {"best_logit": best_logit, "margin": best_logit - runner_up_logit, "best_cosine": f["cosine"],
           "best_coverage": f["coverage"], "top_retrieval": f["retrieval"], "unnamed_terms": float(unnamed),
           "polarity_missing": float(bool(q.polarity - set(words(best_text)))), "kind_missing": f["kind_missing"],
           "kind_wanted": float(q.wants_kind),
           "max_missing_idf": max((q.idf(t) for t in missing), default=0.0) / top_idf,
           "chunk_coverage": coverage(q.terms, content_terms(chunk_text), q.idf)}
    return np.array([row[name] for name in ABSTAIN_FEATURES], dtype=float)
