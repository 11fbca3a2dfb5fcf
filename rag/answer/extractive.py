"""The default answerer: picks the retrieved units (sentences, table rows, list items) that answer
the question, verbatim.

Each unit of the top chunks gets a row of features (rag.answer.features: MiniLM cosine to the
question, IDF-weighted coverage of the question's words, its chunk's retrieval score, whether it holds
the kind of answer asked for, …) and a learned lexical ranker scores it. The reading model
(rag.answer.reader) then reads the lexical ranker's READ best units with the question, and a fuser
weighs both scores. The best unit is the answer; the runner-up joins it when it scores nearly as well.
A learned abstainer reads the best unit's features and its reading, and refuses below its operating
point. The models and the operating points were fitted on the dev halves of the question sets
(bench/fit_abstention.py). Because every answer unit *is* a source span, its citation is exact by
construction."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from rag.answer.citations import starts_a_unit
from rag.answer.countries import other_names
from rag.answer.features import (ABSTAIN_FEATURES, FUSE_FEATURES, TERMINAL, UNIT_FEATURES, Question, abstain_row,
                                 answers_nothing, candidate_rows, focus, head_units, is_heading, is_question)
from rag.answer.model import weights
from rag.answer.qtypes import PERSON, QUANTIFIER, QUANTITY, TIME, measure_asked
from rag.answer.reader import Reading, reader
from rag.answer.text import STOPWORDS, content_terms, fold, mentioned_terms, sentence_spans, stem
from rag.cards import line_key
from rag.embeddings import BF16_CHUNK_NOISE, BF16_SENTENCE_NOISE
from rag.types import Chunk, Hit

_TOKEN = re.compile(r"\w+(?:[.,]\d+)*(?:['’]s)?")  # as rag.answer.text.words splits: "4.1.1", "100,000" whole
PageText = Callable[[str, int | None], str | None]
COVERAGE = UNIT_FEATURES.index("coverage")
DOCUMENT_NAMED = UNIT_FEATURES.index("document_named")
WORDY = re.compile(r"[^\W\d_]{2}")  # a unit worth citing has a word in it
MAX_WIDEN = 600  # characters looked at beyond a cut unit for the rest of its sentence
# The units the reader reads per question, best first by the lexical ranker. Dev-half questions whose
# chosen unit holds the gold (mean of SQuAD, seed and PDF dev halves, refitted for each): the lexical
# ranker alone 0.812; reading its best 2: 0.838, 4: 0.837, 6: 0.839, 8: 0.839, 12: 0.835. Warm answers
# on the seed (bf16 index, 2 cores), p50: 35.6 ms reading 4, 42.5 ms reading 6; the budget is
# 40 ms, so 4.
READ = 4


@dataclass(frozen=True)
class Evidence:
    """One unit of a retrieved chunk; start/end are offsets in the chunk's page text. `score` is the
    fuser's logit (the lexical ranker's until the unit is read); `row` the lexical features; `lexical`
    the lexical ranker's logit; `reading` what the reader made of it (None: not read); `context` the
    unit with its neighbours."""

    chunk: Chunk
    start: int
    end: int
    text: str
    score: float
    row: np.ndarray = field(compare=False, repr=False)
    context: str = field(default="", repr=False)
    lexical: float = 0.0
    reading: Reading | None = field(default=None, compare=False)

    @property
    def cosine(self) -> float:
        return float(self.row[0])


def rank_sentences(question: str, question_vector: np.ndarray, hits: list[Hit],
                   sentence_vectors: Callable[[list[Chunk]], list[np.ndarray]],
                   idf: Callable[[str], float], asked: str | None = None,
                   page_text: PageText | None = None, readings: dict[str, Reading] | None = None,
                   repeated: Callable[[str], frozenset[str]] | None = None) -> list[Evidence]:
    """Every answerable unit of the hits, best first by the lexical ranker and the reader (`read`).
    Questions and headings are left out (they are features of their neighbours, never answers), and
    so are a document's running lines: `repeated(source)` gives the line keys (rag.cards.line_key)
    that recur on its pages.
    `sentence_vectors` gives each chunk's unit embeddings, rows in sentence_spans(chunk.text) order
    (Store.sentence_vectors). The words that count are those of `asked`, the part of a follow-up that
    is new, when it has any. With `page_text`, a unit cut by its chunk's edge is widened to the whole
    sentence on the page. `readings` keeps what the reader read, for a caller that ranks again."""
    q = Question(question, asked or question, idf)
    ranker = weights().ranker
    named = _named_share(question, hits)
    ranked, seen = [], set()
    for hit, vectors in zip(hits, sentence_vectors([h.chunk for h in hits])):
        chunk = hit.chunk
        spans = sentence_spans(chunk.text)[:len(vectors)]
        if not spans:
            continue
        units = [chunk.text[s:e] for s, e in spans]
        running = repeated(chunk.source) if repeated else frozenset()
        rows = candidate_rows(q, units, np.asarray(vectors, dtype=float) @ question_vector, hit.score,
                              chunk.source == hits[0].chunk.source, named[chunk.source],
                              head_units(chunk.page, chunk.start, units))
        logits = ranker.logits(rows, UNIT_FEATURES)
        for i, ((s, e), unit) in enumerate(zip(spans, units)):
            where = (chunk.source, chunk.page, chunk.start + s)
            if (where in seen or is_question(unit) or is_heading(unit) or answers_nothing(q, unit)
                    or not WORDY.search(unit) or (running and line_key(unit) in running)):
                continue  # overlapping chunks repeat units; "1." or "—" says nothing
            seen.add(where)
            context = " ".join(units[max(i - 1, 0):i + 2])
            ranked.append(Evidence(chunk, chunk.start + s, chunk.start + e, unit, float(logits[i]), rows[i], context,
                                   float(logits[i])))
    ranked.sort(key=lambda ev: -ev.score)
    ranked = read(asked or question, ranked, {} if readings is None else readings)
    if page_text is not None and ranked:
        ranked[:2] = [whole(ev, page_text) for ev in ranked[:2]]
    return ranked


def read(question: str, ranked: list[Evidence], readings: dict[str, Reading]) -> list[Evidence]:
    """The units, lexically ranked, scored again by the fuser from their lexical logit and the reader's,
    best first. The reader reads the READ lexically best; a unit below them is taken as read no better
    than the worst of them, so it can pass only a read unit that it beats lexically."""
    top = ranked[:READ]
    unread = list(dict.fromkeys(ev.text for ev in top if ev.text not in readings))
    readings.update(zip(unread, reader().read(question, unread)))
    if not top:
        return ranked
    floor = unread_logit(readings[ev.text] for ev in top)
    rows = np.array([[ev.lexical, readings[ev.text].logit if i < READ else floor] for i, ev in enumerate(ranked)])
    scores = weights().fuser.logits(rows, FUSE_FEATURES)
    fused = [dataclasses.replace(ev, score=float(z), reading=readings[ev.text] if i < READ else None)
             for i, (ev, z) in enumerate(zip(ranked, scores))]
    return sorted(fused, key=lambda ev: -ev.score)


def unread_logit(read: Iterable[Reading]) -> float:
    """The reader's logit taken for a unit it did not read: that of the worst unit it read."""
    return min((r.logit for r in read), default=0.0)


def _named_share(question: str, hits: list[Hit]) -> dict[str, float]:
    """For each document among the hits, the share of the names and numbers of the whole question
    (where to look included: "… Aerostar 601 … Lorain County Regional Airport in Elyria, Ohio, …") that
    its retrieved chunks and its name mention: the document the question is about mentions them all."""
    names = named_terms(question)
    texts: dict[str, list[str]] = {}
    for hit in hits:
        texts.setdefault(hit.chunk.source, [hit.chunk.context]).append(hit.chunk.text)
    return {source: share_named(names, "\n".join(parts)) for source, parts in texts.items()}


def whole(ev: Evidence, page_text: PageText) -> Evidence:
    """The unit widened to the whole sentence when its chunk's edge cut it (see `widen`)."""
    chunk, start, end = widen(ev.chunk, ev.start, ev.end, page_text)
    if chunk is ev.chunk:
        return ev
    reading = ev.reading and dataclasses.replace(ev.reading, start=ev.reading.start + ev.start - start,
                                                 end=ev.reading.end + ev.start - start)
    return dataclasses.replace(ev, chunk=chunk, start=start, end=end, reading=reading,
                               text=chunk.text[start - chunk.start:end - chunk.start])


def widen(chunk: Chunk, start: int, end: int, page_text: PageText) -> tuple[Chunk, int, int]:
    """The span page[start:end] of `chunk` widened to the sentence it is part of on the page, with a
    chunk widened to hold it, when the chunk's edge cut it ("with a strong advocate in Senator …"
    from a chunk that starts mid-sentence). Only a span at its chunk's edge costs a page read."""
    cut_start = start == chunk.start and chunk.start > 0
    cut_end = end == chunk.end and not TERMINAL.search(chunk.text)
    if not (cut_start or cut_end):
        return chunk, start, end
    page = page_text(chunk.source, chunk.page)
    if page is None or page[chunk.start:chunk.end] != chunk.text:
        return chunk, start, end
    cut_start = cut_start and not starts_a_unit(page, start)
    cut_end = cut_end and end < len(page) and page[end] != "\n"
    if not (cut_start or cut_end):
        return chunk, start, end
    spans = sentence_spans(page, max(0, start - MAX_WIDEN), min(len(page), end + MAX_WIDEN))
    new_start = next((s for s, e in spans if s <= start < e), start) if cut_start else start
    new_end = next((e for s, e in spans if s < end <= e), end) if cut_end else end
    if new_start > start or new_end < end or (new_start, new_end) == (start, end):
        return chunk, start, end
    lo, hi = min(new_start, chunk.start), max(new_end, chunk.end)
    return dataclasses.replace(chunk, start=lo, end=hi, text=page[lo:hi]), new_start, new_end


def select(ranked: list[Evidence]) -> list[Evidence]:
    """The best unit, plus the runner-up when its logit is within the fitted margin, in document order."""
    if not ranked:
        return []
    chosen = [ranked[0]]
    if len(ranked) > 1 and ranked[0].score - ranked[1].score <= weights().runner_up_margin:
        chosen.append(ranked[1])
    return sorted(chosen, key=lambda ev: (ev.chunk.source, ev.chunk.page or 0, ev.start))


# --- abstention -------------------------------------------------------------------------------
def specific_terms(question: str) -> set[str]:
    """Numbers and capitalised words (after the first word) of the question's focus clause: what it
    is specifically about. The clause before the focus ("In the NTSB report on the December 8
    accident near Tallahassee, …") only says where to look, and documents write such things their
    own way ("12/08/2007", "FL")."""
    return named_terms(focus(question))


def named_terms(text: str) -> set[str]:
    """Numbers and capitalised words (after the first word) of `text`, as content_terms stems them."""
    tokens = _TOKEN.findall(text)
    return {_term(t) for i, t in enumerate(tokens)
            if t.lower() not in STOPWORDS and (any(ch.isdigit() for ch in t) or (i > 0 and t[:1].isupper()))}


def share_named(names: set[str], text: str) -> float:
    """Share of `names` that `text` mentions (1.0 when there are none)."""
    if not names:
        return 1.0
    mentioned = mentioned_terms(text)
    return sum(_mentions(mentioned, t) for t in names) / len(names)


def _term(token: str) -> str:
    """A name as content_terms stems it, accents folded: "Macron's" -> "macron", "Hervé" -> "herve";
    a model number in the plural is the model: "the Cessna 152s" -> "152"."""
    return stem(fold(re.sub(r"['’]s$|(?<=\d)s$", "", token.lower())))


def _mentions(text_terms: set[str], term: str) -> bool:
    """Stems that share five letters count as one name (Ukraine/Ukrainian, Russia/Russian), and so do
    a misspelling one letter off a word of five or more ("Primier League", "Sentanta Sports"), and a
    country's other names ("Moscow" for Russia, "American" for the United States: rag.answer.countries)."""
    if term in text_terms or term.isdigit() and any(term in t.split(".") for t in text_terms):
        return True
    if len(term) >= 5 and any(t[:5] == term[:5] or one_edit(t, term) for t in text_terms):
        return True
    return any(all(w in text_terms for w in name) for name in other_names(term))


def one_edit(a: str, b: str) -> bool:
    """a and b differ by at most one inserted, deleted, replaced or swapped letter."""
    if abs(len(a) - len(b)) > 1 or a[:1] != b[:1]:
        return False
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return a[i + 1:] == b[i + 1:] or a[i:] == b[i + 1:] or a[i + 1:] == b[i:] or a[i:i + 2] == b[i:i + 2][::-1] \
        and a[i + 2:] == b[i + 2:]


def unnamed_terms(question: str, document: str | set[str]) -> list[str]:
    """The names and numbers of the question that the document (its text, or its `mentioned_terms`)
    never mentions."""
    mentioned = mentioned_terms(document) if isinstance(document, str) else document
    return sorted(t for t in specific_terms(question) if not _mentions(mentioned, t))


def shares_a_word(question: str, best: Evidence) -> bool:
    """The best evidence's chunk has a word of the question, or the unit covers some (a document's head
    covers what the question calls the document: rag.answer.features.head_units)."""
    return bool(content_terms(question) & content_terms(best.chunk.text)) or best.row[COVERAGE] > 0


def vetoed(q: Question, best: Evidence, unnamed: list[str], best_named: float = 0.0) -> str | None:
    """The refusals no score overrides, because they are evidence of absence rather than weak evidence: the
    best evidence's chunk shares no word with the question ("What is the boiling point of liquid nitrogen?"
    over a news article); the question names something the retrieved document never mentions (`unnamed`);
    the best evidence comes from a document that is not the top one and mentions fewer of the question's
    names and numbers than another retrieved document does (`best_named`: the most any of them mentions), so
    the document the question is about lacks the answer and another of its kind holds its own ("the pilot's
    flight hours" of another accident, "Revenue" of another company's filing); it asks for a number or a
    date (digits, number words, dates, days) and the best evidence holds none (a quantity may be vague: "how
    many partners" is answered by "several of our partners", which counts nothing); it asks for someone and
    the evidence names no one new; it asks how many of a unit of measure ("how many flight hours") or
    how long, and the evidence states no amount in such a unit ("Total Injuries: 1 Fatal"). A place is left to the abstainer: "in France" does not answer "which
    city", and telling them apart needs more than a pattern."""
    if not shares_a_word(q.text, best):
        return "the evidence shares no word with the question"
    if unnamed:
        return f"the documents never mention: {', '.join(unnamed)}"
    row = dict(zip(UNIT_FEATURES, best.row))
    if not row["top_document"] and row["document_named"] < best_named:
        return "the evidence comes from another document than the one the question names"
    vague = q.kind == QUANTITY and bool(QUANTIFIER.search(best.text))
    if q.kind in (QUANTITY, TIME, PERSON) and row["kind_missing"] and not vague:
        return f"a {q.kind} was asked for, and the evidence gives none"
    measured = measure_asked(q.text)
    if measured and not measured.search(best.text):
        return "an amount in a unit of measure was asked for, and the evidence states none in it"
    return None


def abstention_inputs(q: Question, best: Evidence, logit: float, runner_up: float, candidates: list[Evidence],
                      document: str | set[str]) -> tuple[np.ndarray, str | None]:
    """(the abstainer's row for the best evidence, a unit of `document` scored `logit` by the ranker,
    the runner-up `runner_up`; the veto that refuses it regardless, if any). `document`: its text, or
    the terms it mentions (`mentioned_terms`), which is all that is read of it."""
    unnamed = unnamed_terms(q.text, document)
    reading = best.reading.logit if best.reading else unread_logit(ev.reading for ev in candidates if ev.reading)
    row = abstain_row(q, best.row, logit, runner_up, best.text, best.context, best.chunk.text, len(unnamed), reading)
    named = max(ev.row[DOCUMENT_NAMED] for ev in candidates)
    return row, vetoed(q, best, unnamed, named)


def judge(question: str, ranked: list[Evidence], document: str | set[str], idf: Callable[[str], float],
          asked: str | None = None) -> tuple[float, str | None]:
    """(the abstainer's probability that the best evidence, a unit of `document`, answers the
    question; the veto that refuses it regardless, if any). The kind of answer wanted is read from
    `asked`, a follow-up's own words, when given."""
    if not ranked:
        return 0.0, "nothing retrieved"
    best = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else best.score - 10.0
    row, veto = abstention_inputs(Question(question, asked or question, idf), best, best.score, runner_up, ranked,
                                  document)
    return weights().abstainer.probability(row, ABSTAIN_FEATURES), veto


def unsupported_reason(question: str, ranked: list[Evidence], document: str | set[str], idf: Callable[[str], float],
                       asked: str | None = None) -> str | None:
    """Why the best evidence does not answer the question (None when it does)."""
    p, veto = judge(question, ranked, document, idf, asked)
    threshold = weights().abstain_below
    if veto:
        return veto
    return f"the evidence answers it with probability {p:.2f} < {threshold:.2f}" if p < threshold else None


# --- bf16 indexes: which decisions need exact vectors ------------------------------------------
def logit_noise(dense_weight: float) -> float:
    """How far bf16's rounding can move a unit's lexical logit: through its cosine (BF16_SENTENCE_NOISE)
    and its chunk's retrieval score (BF16_CHUNK_NOISE, weighted as the fusion weighs the cosine). The
    reader reads text, which rounding does not touch."""
    return weights().ranker.slack({"cosine": BF16_SENTENCE_NOISE, "retrieval": BF16_CHUNK_NOISE * dense_weight})


def unsettled(ranked: list[Evidence], exact: set[str], noise: float) -> set[str]:
    """The chunks (not yet on exact vectors) of the units whose order bf16's rounding could change
    where it decides the answer: which units the reader reads (the lexical order across READ), the
    best unit against every other, the runner-up's gap against the margin, and, when the runner-up may
    join the answer, the runner-up against the units below it. `noise`: logit_noise."""
    if len(ranked) < 2:
        return set()
    lexical = {id(ev): 0.0 if ev.chunk.id in exact else noise for ev in ranked}
    by_lexical = sorted(ranked, key=lambda ev: -ev.lexical)
    pairs = [(a, b) for a in by_lexical[:READ] for b in by_lexical[READ:]
             if a.lexical - b.lexical <= lexical[id(a)] + lexical[id(b)]]
    fused = weights().fuser.slack({"lexical": 1.0})
    slack = {i: fused * move for i, move in lexical.items()}
    best, second, margin = ranked[0], ranked[1], weights().runner_up_margin
    pairs += [(best, ev) for ev in ranked[1:] if best.score - ev.score <= slack[id(best)] + slack[id(ev)]]
    gap, both = best.score - second.score, slack[id(best)] + slack[id(second)]
    if abs(gap - margin) <= both:
        pairs.append((best, second))
    if gap <= margin + both:
        pairs += [(second, ev) for ev in ranked[2:] if second.score - ev.score <= slack[id(second)] + slack[id(ev)]]
    return {ev.chunk.id for pair in pairs for ev in pair} - exact


def abstention_unsettled(question: str, ranked: list[Evidence], document: str, idf: Callable[[str], float],
                         asked: str | None, exact: set[str], noise: float, dense_weight: float) -> set[str]:
    """The best and runner-up units' chunks (not yet on exact vectors) when bf16's rounding could move
    the abstainer's logit across its threshold; a veto does not move with it."""
    best = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else None
    row, veto = abstention_inputs(Question(question, asked or question, idf), best, best.score,
                                  runner_up.score if runner_up else best.score - 10.0, ranked, document)
    if veto:
        return set()
    model, threshold = weights().abstainer, weights().abstain_below
    if threshold <= 0:
        return set()
    fused = weights().fuser.slack({"lexical": noise})
    noisy = float(best.chunk.id not in exact)
    slack = model.slack({"best_cosine": BF16_SENTENCE_NOISE * noisy,
                         "top_retrieval": BF16_CHUNK_NOISE * dense_weight * noisy, "best_logit": fused * noisy,
                         "margin": fused * (noisy + float(runner_up is not None and runner_up.chunk.id not in exact))})
    z = float(model.logits(row[None, :], ABSTAIN_FEATURES)[0])
    if abs(z - math.log(threshold / (1 - threshold))) > slack:
        return set()
    return {ev.chunk.id for ev in (best, runner_up) if ev is not None} - exact


ABSTAIN_BELOW = weights().abstain_below  # what rag eval's report draws its threshold line at
