"""The numbers the learned models read: one row per candidate sentence for the ranker, one row per
question for the abstainer. Everything here is computed from what the answerer already has at
question time (the question, the hits, their sentences and vectors, the corpus IDF), in well under a
millisecond per candidate."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from rag.answer.qtypes import QUANTITY, QUESTION_WORD, SPOTTABLE, TIME, YESNO, answer_type, glued, holds
from rag.answer.text import STOPWORDS, content_terms, stem, words

# A unit's row. Chosen by two-fold cross-validation on the dev halves (SQuAD: Normans vs Sky; PDFs: by
# document): the units' neighbours' coverage, novelty, length and the hit's rank fitted dev and lost on
# the held-out fold, so they are not features.
UNIT_FEATURES = ("cosine", "coverage", "retrieval", "kind_held", "kind_missing", "number_by_focus", "top_document",
                 "document_named")
# What the lexical ranker reads of it. With the reader beside it (2026-12-06, bench/fit_abstention.py's
# data, each left out and the models refitted), leaving out kind_missing (within one question, the
# complement of kind_held), top_document, kind_held × coverage or whether the unit is a table row
# changed no dev-half figure, so they left the ranker; the abstainer and the vetoes still read
# kind_missing and top_document.
RANK_FEATURES = ("cosine", "coverage", "retrieval", "kind_held", "number_by_focus", "document_named")
# The fuser's: the lexical ranker's logit and the reader's (rag.answer.extractive.read).
FUSE_FEATURES = ("lexical", "reader")
ABSTAIN_FEATURES = ("best_logit", "margin", "best_cosine", "best_coverage", "top_retrieval", "unnamed_terms",
                    "polarity_missing", "kind_missing", "kind_wanted", "max_missing_idf", "chunk_coverage",
                    "top_document", "reader")

POLARITY = {"not", "never", "no", "none", "nor", "without", "least", "fewest", "lowest", "worst", "minimum",
            "lose", "lost", "fail", "failed", "unable", "false"}
TABLE_ROW = re.compile(r"\t|\s\|\s")  # the loaders keep a table row on one line, cells split by tabs or " | "
# "how old" asks for an age, which tables and forms label as such ("Age: 17"): the noun joins the words
# a unit should hold, and the words a number should stand next to.
ATTRIBUTES = {"old": "age", "long": "length duration", "tall": "height", "high": "height", "far": "distance",
              "heavy": "weight", "fast": "speed", "big": "size", "large": "size", "often": "frequency"}
HOW_ADJECTIVE = re.compile(r"\bhow (" + "|".join(ATTRIBUTES) + r")\b", re.I)
RAW_TOKEN = re.compile(r"\S+")
NUMBER_START = re.compile(r"[$€£¥(]?[-−–]?\d")
NEAR = 6  # a number this many words after a word of the question's focus stands for it: "Age: 17", "3455 ft"
CAPTION = re.compile(r"(table|figure|fig\.|exhibit|chart)\s+[A-Z]?\d+[\w.-]*\s*[:.–—-]\s", re.I)
TITLE_WORD = re.compile(r"[^\W\d_][\w'’-]*")
TERMINAL = re.compile(r"[.!?:;][\"'”’)\]]*$")


def is_table_row(unit: str) -> bool:
    return "\n" not in unit and len(TABLE_ROW.split(unit)) >= 2


def is_question(unit: str) -> bool:
    """A sentence that asks rather than states: never an answer by itself."""
    return unit.rstrip("\"'”’)] ").endswith("?")


def is_heading(unit: str) -> bool:
    """A title or heading line: short, no sentence-final punctuation, no number, not a table row; a line
    in title case, whatever its punctuation ("Evaluation Treatment Outcomes of Anterior Open Bite …
    Devices."); or a table's or figure's caption ("TABLE 2: General Characteristics of Patients"). It
    names a topic; it states nothing an answer could rest on."""
    if CAPTION.match(unit):
        return True
    if is_table_row(unit):
        return False
    if title_case(unit):
        return True
    if TERMINAL.search(unit) or any(ch.isdigit() for ch in unit):
        return False
    tokens = unit.split()
    return len(tokens) <= 12


def answers_nothing(q: Question, unit: str) -> bool:
    """A unit that cannot answer what is asked, whatever it scores: one that only restates the question
    ("THE DHS STRATEGIC PLAN Fiscal Years 2020-2024" for "According to the DHS Strategic Plan for Fiscal
    Years 2020-2024, in what year …?"; only a yes/no question is answered by its own words), or a form's
    row where the asked-for field is blank ("Year of Manufacture:  Amateur Built:  No" for "in what year
    was the airplane manufactured?")."""
    terms = content_terms(unit)
    if q.kind != YESNO and terms <= q.all_terms:
        return True
    found = q.terms & terms
    return bool(found) and found <= blank_labels(unit)


def blank_labels(unit: str) -> set[str]:
    """The words of a form row's labels that have no value: a cell ending with a colon followed by
    another such cell, or by nothing."""
    if not is_table_row(unit):
        return set()
    cells = [cell.strip() for cell in unit.split("\t")]
    blank = [cell for i, cell in enumerate(cells)
             if cell.endswith(":") and (i + 1 == len(cells) or cells[i + 1].endswith(":"))]
    return content_terms(" ".join(blank))


def title_case(unit: str) -> bool:
    """Written as titles are: every word but the small ones capitalised, at least three of them."""
    capitalised = [w[0].isupper() for w in TITLE_WORD.findall(unit) if w.lower() not in STOPWORDS]
    return len(capitalised) >= 3 and all(capitalised)


def coverage(question_terms: set[str], terms: set[str], idf: Callable[[str], float]) -> float:
    """Share of the question's IDF mass that the text contains: 1.0 when every rare word is there."""
    total = sum(idf(t) for t in question_terms)
    return sum(idf(t) for t in question_terms & terms) / total if total else 0.0


def focus(question: str) -> str:
    """The clause that asks: after the last comma before the question word. "In the NTSB report on the
    December 8 accident near Tallahassee, what was the airframe total time?" asks about the airframe
    total time; the rest says where to look, which retrieval uses but the answering unit need not repeat."""
    wh = QUESTION_WORD.search(question)
    if not wh:
        return question
    comma = question.rfind(",", 0, wh.start())
    return question[comma + 1:] if comma >= 0 else question


def number_by(terms: set[str], unit: str) -> bool:
    """The unit holds a number within NEAR words after one of the terms ("Runway Length/Width: 3455 ft",
    "Target  Reduced  2023-09-30  1.22"): a number that counts, not one in a name ("Part 91", "H2O"),
    unless a table's cell starts with it ("Investigational Site  4 US sites")."""
    tokens = list(RAW_TOKEN.finditer(unit))
    for i, token in enumerate(tokens):
        if not any(stem(w) in terms for w in words(token.group())):
            continue
        labelled = False  # the term's own label has ended ("Age:")
        for k in range(i, min(i + 1 + NEAR, len(tokens))):
            number, before = tokens[k], tokens[k - 1].group()
            if k > i and NUMBER_START.match(number.group()) and not glued(unit, number.start(), number.end()) and (
                    unit[number.start() - 1] == "\t" or not (before[:1].isupper() and before[-1:].isalnum())):
                return True
            if number.group().endswith(":"):
                if labelled:  # a form's next label: "Altimeter Setting:  Temperature/Dew Point:  24°C / 20°C"
                    break     # leaves the altimeter setting blank
                labelled = True
    return False


class Question:
    """What the features need of the question, computed once per question."""

    def __init__(self, question: str, asked: str, idf: Callable[[str], float]) -> None:
        self.text, self.asked, self.idf = question, asked, idf
        # The words a unit must cover: the follow-up's own, when it has any ("what did she say?" has
        # none), and of those only the focus clause's: the clause before it says where to look.
        self.terms = content_terms(focus(asked)) or content_terms(asked) or content_terms(question)
        self.terms |= content_terms(" ".join(ATTRIBUTES[m.group(1).lower()] for m in HOW_ADJECTIVE.finditer(asked)))
        self.all_terms = content_terms(question)
        self.kind = answer_type(asked)
        self.wants_kind = self.kind in SPOTTABLE
        self.polarity = set(words(asked)) & POLARITY

    def kind_held(self, unit: str) -> bool:
        return self.wants_kind and holds(self.kind, unit, self.asked)


# What a question calls the document itself, and what it asks of it ("when was the story posted?",
# "who wrote the report?"): the document's head states it ("7 Jun, 2024 22:52 / Updated …"). "Article"
# and "document" are stopwords (rag.answer.text), so a question that says only those ("what year is the
# article from?") has no word here to cover.
ABOUT_THE_DOCUMENT = content_terms("story report paper post posted published publication written wrote author "
                                   "dated updated released issued")


def head_units(page: int | None, start: int, units: list[str]) -> int:
    """How many of a chunk's first units are its document's head: the lines before its first sentence of
    prose (title, dateline, byline, standfirst) when the chunk opens the document's first page."""
    if start or page not in (None, 1):
        return 0
    return next((i for i, unit in enumerate(units) if TERMINAL.search(unit)), len(units))


def candidate_rows(q: Question, units: list[str], cosines: np.ndarray, retrieval: float,
                   top_document: bool = False, document_named: float = 1.0, head: int = 0) -> np.ndarray:
    """UNIT_FEATURES of the units (sentences, table rows, list items) of one chunk, in order.
    `top_document`: the chunk is of the document retrieval ranked first, the one the question most
    likely names ("Apple's Q2 2023 10-Q"); a unit of another filing's table of the same form
    ("Revenue … 94,836") answers another question. `document_named`: the share of the question's names
    and numbers that the chunk's document mentions (rag.answer.extractive). `head`: how many of the
    units are their document's head (head_units), which covers the words a question uses of a document."""
    rows, heading = [], ""
    for i, (unit, cos) in enumerate(zip(units, cosines)):
        row = is_table_row(unit)
        near = q.kind in (QUANTITY, TIME) and row and number_by(q.terms, unit)
        # a table row's numbers belong to its labels: it holds the quantity asked for only beside one of
        # the question's words ("Age:  17" for "how old"; not "Date & Time:  12/06/2007" for it)
        held = q.kind_held(unit) and (near or not row or q.kind != QUANTITY)
        # a row is read under its table's heading: "Flight Time:  42 hours (Total, all aircraft)" is the
        # student's under "Student Pilot Information", the instructor's under "Flight Instructor Information"
        heading = unit if is_heading(unit) else heading
        terms = content_terms(f"{heading} {unit}" if row else unit) | (ABOUT_THE_DOCUMENT if i < head else set())
        cov = coverage(q.terms, terms, q.idf)
        rows.append([float(cos), cov, retrieval, float(held), float(q.wants_kind and not held), float(near),
                     float(top_document), document_named])
    return np.array(rows, dtype=float).reshape(-1, len(UNIT_FEATURES))


def abstain_row(q: Question, best: np.ndarray, best_logit: float, runner_up_logit: float, best_text: str,
                context: str, chunk_text: str, unnamed: int, reader: float) -> np.ndarray:
    """ABSTAIN_FEATURES of a question's best evidence. `context`: the best unit with its neighbours;
    `unnamed`: the names and numbers of the question that its document never mentions; `reader`: the
    reader's logit for the best unit."""
    f = dict(zip(UNIT_FEATURES, best))
    around = content_terms(context)
    missing = q.terms - around
    top_idf = max((q.idf(t) for t in q.terms), default=0.0) or 1.0
    row = {"best_logit": best_logit, "margin": best_logit - runner_up_logit, "best_cosine": f["cosine"],
           "best_coverage": f["coverage"], "top_retrieval": f["retrieval"], "unnamed_terms": float(unnamed),
           "polarity_missing": float(bool(q.polarity - set(words(best_text)))), "kind_missing": f["kind_missing"],
           "kind_wanted": float(q.wants_kind),
           "max_missing_idf": max((q.idf(t) for t in missing), default=0.0) / top_idf,
           "chunk_coverage": coverage(q.terms, content_terms(chunk_text), q.idf),
           "top_document": f["top_document"],  # off the top document, the best unit may answer another's question
           "reader": reader}
    return np.array([row[name] for name in ABSTAIN_FEATURES], dtype=float)
