"""Question in, Answer out: condense a follow-up, retrieve, answer (extractive or LLM), enforce
citations, fall back or abstain. Every path returns verified citations or `abstained: true`."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
import time
from collections.abc import Callable

from rag.answer.citations import Span, abstain, compose, enforce
from rag.answer.extractive import (Evidence, abstention_unsettled, judge, logit_noise, rank_sentences, select,
                                   specific_terms, unnamed_terms, unsettled, unsupported_reason, widen)
from rag.answer.features import UNIT_FEATURES, focus
from rag.answer.llm import LLM, is_refusal, llm_errors
from rag.answer.qtypes import YESNO, answer_type
from rag.answer.strength import with_strengths
from rag.answer.text import content_terms, mentioned_terms
from rag.config import Settings
from rag.embeddings import Embedder
from rag.retrieval import MAX_EXACT, SPARE, Retriever, doubtful
from rag.types import Answer, Hit, ShortAnswer

RETRIEVAL = UNIT_FEATURES.index("retrieval")
# A follow-up that the plain rule would glue to the previous question is glued when it has fewer
# content words than OWN_TERMS, or when gluing raises the reader's probability for the best unit by
# more than GLUE_MARGIN. On the dev halves of bench/data/standalone.jsonl and followups.jsonl, of the
# follow-ups the plain rule would glue: every standalone one has at least 2 content words, 1 of 14
# follow-ups has fewer ("Why did he reject it?"); margin 0.1 kept 15 of 17 standalone ones as typed,
# 0.3 all 17, and both glued the same 1 follow-up more (the others find the same evidence alone).
OWN_TERMS = 2
GLUE_MARGIN = 0.3
ACROSS_HITS = 2  # chunks searched in each document, for each of two queries, a question across documents is about
MORE_OF_TOP = 3  # the answerer looks this many times k down the ranking for more of the top document
YES_OR_NO = re.compile(r"\W*(yes|no)\b", re.I)
FOLLOW_UP = re.compile(r"\b(it|its|that|this|those|these|they|them|their|he|him|his|she|her|there|then|"
                       r"one|ones|same|also|else)\b|^(and|but|so|what about|how about)\b", re.I)


def condense_plainly(question: str, history: list[dict]) -> str:
    """Without an LLM: a short or pronoun-laden follow-up is searched together with the previous question."""
    previous = [turn["content"] for turn in history if turn.get("role") == "user"]
    if previous and (FOLLOW_UP.search(question) or len(question.split()) <= 4):
        return f"{previous[-1]} {question}"
    return question


def unnamed(question: str, labels: list[str]) -> str:
    """The question without the words that its documents' labels hold (the words that name them),
    when at least OWN_TERMS content words are left; else the question."""
    named = {w.casefold() for label in labels for w in re.findall(r"\w+", label)}
    left = re.sub(r"\w+", lambda m: "" if m.group(0).casefold() in named else m.group(0), question)
    return " ".join(left.split()) if len(content_terms(left)) >= OWN_TERMS else question


def claims(evidence: list[Evidence]) -> list[tuple[str, list[Span]]]:
    """Each unit as a claim citing itself; a citation's score is its chunk's retrieval score (the
    documented contract), as on the LLM path."""
    return [(ev.text, [Span(ev.chunk, ev.start, ev.end, float(ev.row[RETRIEVAL]))]) for ev in evidence]


def short_answer(answer: Answer, best: Evidence) -> ShortAnswer | None:
    """The reader's short answer in the best unit, when a citation of the answer holds it (an LLM's
    answer may not cite that unit; a yes/no question's answer is its verdict, not a span)."""
    reading = best.reading
    if answer.abstained or reading is None or reading.end <= reading.start:
        return None
    start, end = best.start + reading.start, best.start + reading.end
    for c in answer.citations:
        if (c.source, c.page) == (best.chunk.source, best.chunk.page) and c.start <= start and end <= c.end:
            return ShortAnswer(c.text[start - c.start:end - c.start], c.n, start, end)
    return None


def passages(hits: list[Hit], read: list[Hit], ranked: list[Evidence]) -> list[Hit]:
    """What the LLM reads: as many chunks as the search returned, taken in turn from the chunks whose
    units the extractive ranker scored best (its fused score: the reader's and the lexical ranker's;
    the top document's chunks found further down the ranking and by the asking clause included) and
    from the search's own order, so the model sees the best units first. On the dev halves the search's
    hits alone held a gold answer for 59 of the PDF set's 91 answerable questions, this mix for 83
    (SQuAD 200 of 204 either way, seed 48 -> 49 of 50; bench/quality.py's gold_in_hits and
    gold_in_llm_passages): a filing's table page is often found only by looking inside the document
    the question names."""
    best: dict[str, float] = {}
    for ev in ranked:  # best first
        best.setdefault(ev.chunk.id, ev.score)
    by_unit = sorted({h.chunk.id: h for h in read if h.chunk.id in best}.values(), key=lambda h: -best[h.chunk.id])
    chosen: dict[str, Hit] = {}
    for hit in itertools.chain.from_iterable(itertools.zip_longest(by_unit, hits)):
        if hit is not None and len(chosen) < len(hits):
            chosen.setdefault(hit.chunk.id, hit)
    return [dataclasses.replace(hit, rank=rank) for rank, hit in enumerate(chosen.values(), 1)]


@dataclasses.dataclass(frozen=True)
class Found:
    """One search and its ranked units, as `Answerer.ask` makes them."""

    hits: list[Hit]
    read: list[Hit]
    ranked: list[Evidence]

    @property
    def passages(self) -> list[Hit]:
        """What the LLM reads (rag.answer.pipeline.passages)."""
        return passages(self.hits, self.read, self.ranked)

    @property
    def strength(self) -> float:
        """The reader's probability that the best unit answers the question (0 when none was read)."""
        best = self.ranked[0].reading if self.ranked else None
        return 0.0 if best is None else best.probability


@dataclasses.dataclass(frozen=True)
class Across:
    """A question across documents: what was searched in each of them (what the LLM reads), and each
    one's best unit, in the documents' order."""

    passages: list[Hit]
    ranked: list[Evidence]


class Answerer:
    def __init__(self, retriever: Retriever, embedder: Embedder, settings: Settings) -> None:
        self.retriever, self.embedder, self.settings = retriever, embedder, settings
        self.llm = LLM(settings) if settings.llm_url else None

    def ask(self, question: str, history: list[dict] | None = None, *, use_llm: bool = False,
            k: int | None = None, on_token: Callable[[str], None] | None = None,
            sources: frozenset[str] | None = None) -> Answer:
        """`sources`: answer from these documents only (None: all)."""
        if not question.strip():
            raise ValueError("the question is empty")
        if use_llm and self.llm is None:
            raise ValueError("no LLM is configured: set RAG_LLM_URL (and RAG_LLM_MODEL)")
        history = history or []
        started = time.perf_counter()
        warnings: list[str] = []
        searched, asked, found = self._condense(question, history, use_llm, warnings, k, sources)
        if found is None:
            vector = self.embedder.encode([searched])[0]
            found = self.across(searched, asked, vector, sources) or self._find(searched, asked, k, sources, vector)
        retrieved = time.perf_counter()
        ranked, each = found.ranked, isinstance(found, Across)
        extractive = functools.partial(self._each, searched, asked, ranked) if each else functools.partial(
            self._extractive, searched, asked, ranked)
        if use_llm:
            answer = self._llm_answer(searched, asked, found.passages, warnings, on_token, extractive)
        else:
            answer = extractive("extractive")
        if ranked and not each and answer_type(asked) != YESNO:
            answer.short_answer = short_answer(answer, ranked[0])
        if answer.citations:
            readings = {(ev.chunk.source, ev.chunk.page, ev.start, ev.end): ev.reading for ev in ranked if ev.reading}
            answer = with_strengths(answer, asked, readings)
        done = time.perf_counter()
        # The stages answer the standalone question searched; the user sees their own words back.
        answer.question, answer.searched, answer.warnings = question, searched, warnings
        answer.timings_ms = {"retrieve": round((retrieved - started) * 1000, 2),
                             "answer": round((done - retrieved) * 1000, 2), "total": round((done - started) * 1000, 2)}
        return answer

    def retrieve(self, question: str, k: int | None, vector, sources: frozenset[str] | None = None
                 ) -> tuple[list[Hit], list[Hit]]:
        """(the top k hits; what the extractive answerer reads: those, the chunks of the document
        ranked first found further down the ranking, up to MORE_OF_TOP x k, at most k of them, and,
        for a question that says where to look before it asks, the k chunks of that document nearest
        to the clause that asks). A question names its document ("Apple's Q2 2023 10-Q"), whose table
        of figures may rank below the same table of other filings: the answer is looked for in the
        named document first. And the clause that names it outweighs the one that asks in the whole
        question's search: "In the NTSB report on the November 16, 2007 accident … at Murfreesboro,
        how old was the flight instructor?" finds the report's first page, not the one with the ages."""
        k = k or self.settings.top_k
        wider = self.retriever.search(question, k * MORE_OF_TOP + SPARE, vector, cuts=(k,), sources=sources)
        hits = wider[:k]
        if not hits:
            return hits, hits
        top = hits[0].chunk.source
        read = hits + self._more_of(top, wider, k, vector)
        asks = focus(question)
        if asks != question:
            seen = {hit.chunk.id for hit in read}
            found = self.retriever.within(top, self.embedder.encode([asks])[0], vector, k)
            read += [hit for hit in found if hit.chunk.id not in seen]
        return hits, read

    def _more_of(self, top: str, wider: list[Hit], k: int, vector) -> list[Hit]:
        """The top document's chunks ranked after the hits, down to MORE_OF_TOP × k (at most k). On an
        index embedded in bf16, when one of them sits where rounding could move it across that rank,
        the chunks around it are settled on exact vectors first; a tie there between other documents'
        chunks decides nothing, and is left alone."""
        cut = k * MORE_OF_TOP
        if self.retriever.store.bf16:
            w, by_id = self.settings.dense_weight, {hit.chunk.id: hit for hit in wider}
            scores = {i: hit.score for i, hit in by_id.items()}
            cosines = {i: hit.dense for i, hit in by_id.items() if hit.dense is not None}
            if any(by_id[i].chunk.source == top for i in doubtful(scores, set(cosines), {cut}, w)):
                self.retriever.settle(scores, cosines, vector, {cut}, w, lambda ids: {i: by_id[i].chunk for i in ids})
                wider = sorted((dataclasses.replace(hit, score=scores[i], dense=cosines.get(i)) for i, hit in by_id.items()),
                               key=lambda hit: (-hit.score, hit.chunk.id))
        return [hit for hit in wider[k:cut] if hit.chunk.source == top][:k]

    def rank(self, question: str, vector, hits: list[Hit], asked: str | None = None) -> list[Evidence]:
        """The units of the hits, best first (rag.answer.extractive.rank_sentences). On an index
        embedded in bf16, where a cosine's rounding could decide which unit answers, whether the
        runner-up joins it, or whether to abstain, the units of the chunks involved are ranked again on
        exact vectors (Store.exact; MAX_EXACT chunks at most), so the answer is the one an fp32 index gives."""
        store, w = self.retriever.store, self.settings.dense_weight
        noise = logit_noise(w)
        exact: set[str] = set()
        readings: dict = {}
        while True:
            read = [self._exact_hit(hit, vector) if hit.chunk.id in exact else hit for hit in hits]
            ranked = rank_sentences(question, vector, read, functools.partial(store.sentence_vectors, exact=exact),
                                    self.retriever.idf, asked=asked, page_text=store.page_text, readings=readings,
                                    repeated=self.retriever.repeated)
            if not (store.bf16 and ranked) or len(exact) >= MAX_EXACT:
                return ranked
            doubtful = unsettled(ranked, exact, noise) or abstention_unsettled(
                question, ranked, self._document(ranked[0], ranked), self.retriever.idf, asked, exact, noise, w)
            if not doubtful:
                return ranked
            exact |= set(sorted(doubtful)[:MAX_EXACT - len(exact)])

    def _exact_hit(self, hit: Hit, vector) -> Hit:
        """The hit rescored with its chunk's exact cosine in place of the stored one."""
        if hit.dense is None:  # its score holds the dense floor, not its own cosine
            return hit
        cosine = float(self.retriever.store.exact([hit.chunk])[hit.chunk.id][0] @ vector)
        return dataclasses.replace(hit, score=hit.score + self.settings.dense_weight * (cosine - hit.dense), dense=cosine)

    def evidence(self, question: str, k: int | None = None) -> tuple[list[Hit], float, str | None]:
        """The hits, the abstainer's probability that the best evidence answers the question, and
        the veto that refuses it whatever the threshold (None if none does): what `rag eval`
        measures retrieval and draws the abstention trade-off curve from."""
        vector = self.embedder.encode([question])[0]
        hits, read = self.retrieve(question, k, vector)
        ranked = self.rank(question, vector, read)
        if not ranked:
            return hits, 0.0, "nothing retrieved"
        return hits, *judge(question, ranked, self._document(ranked[0], ranked), self.retriever.idf)

    def _document(self, best: Evidence, ranked: list[Evidence]) -> str:
        """What was retrieved of the best evidence's document: its name and its pages among the hits.
        The names and numbers a question uses are looked for there (a PDF's title page names the
        accident, its table page the figures)."""
        store = self.retriever.store
        pages = dict.fromkeys((ev.chunk.source, ev.chunk.page) for ev in ranked if ev.chunk.source == best.chunk.source)
        return "\n".join([best.chunk.context, *(store.page_text(s, p) or "" for s, p in pages)])

    def _whole(self, span: Span) -> Span:
        """A cited span starts at a sentence's start: one cut by its chunk's edge is widened."""
        chunk, start, end = widen(span.chunk, span.start, span.end, self.retriever.store.page_text)
        return span if chunk is span.chunk else Span(chunk, start, end, span.score)

    def _condense(self, question: str, history: list[dict], use_llm: bool, warnings: list[str],
                  k: int | None = None, sources: frozenset[str] | None = None) -> tuple[str, str, Found | None]:
        """(what to search, what the answer must cover, that search when it was made here to choose).
        A follow-up glued to the previous question
        is searched whole, but the answer is the sentence that covers the follow-up's own words:
        "… Mirage jets? and when will the pilots be ready?" wants the pilots sentence. On the dev half
        of bench/data/followups.jsonl this beat searching the follow-up alone (seed 7/7 either way,
        PDFs 8/10 against 5/10) and searching both and keeping the better-supported evidence (6/10).
        But a short or pronoun-laden question is often a new one ("Who is Kaja Kallas?", "What did
        Macron say about his coalition?"), so it is glued only when it has too few words of its own
        to be searched by (fewer than OWN_TERMS: "When did she say it?", "On which day?") or when
        gluing finds stronger evidence: the reader's probability for the best unit searching it
        glued beats searching it as typed by more than GLUE_MARGIN."""
        if not history:
            return question, question, None
        if use_llm:
            try:
                standalone = self.llm.condense(question, history) or question
                return standalone, standalone, None
            except llm_errors() as e:
                warnings.append(f"LLM unavailable for condensing the follow-up ({type(e).__name__})")
        glued = condense_plainly(question, history)
        if glued == question or len(content_terms(question)) < OWN_TERMS:
            return glued, question, None
        together, alone = self._find(glued, question, k, sources), self._find(question, question, k, sources)
        if together.strength - alone.strength <= GLUE_MARGIN:
            return question, question, alone
        return glued, question, together

    def _find(self, searched: str, asked: str, k: int | None, sources: frozenset[str] | None,
              vector=None) -> Found:
        vector = self.embedder.encode([searched])[0] if vector is None else vector
        hits, read = self.retrieve(searched, k, vector, sources)
        return Found(hits, read, self.rank(searched, vector, read, asked))

    def across(self, question: str, asked: str, vector, sources: frozenset[str] | None = None) -> Across | None:
        """For a question about several documents ("How have Amazon's inventory levels changed across
        these quarters?", "Compare the fatalities of the crashes near Arteaga and Boquete"): the
        documents whose cards it names (Retriever.documents_named, oldest first), each searched on its
        own for what the question asks, with and without the words that name them ("the visions of …
        plan"), and each one's best unit. None when it names fewer than two."""
        documents = self.retriever.documents_named(question, vector, sources)
        if len(documents) < 2:
            return None
        asks = focus(asked)
        queries = list(dict.fromkeys([asks, unnamed(asks, [self.retriever.cards.cards[d].label for d in documents])]))
        asks_vectors = self.embedder.encode(queries)
        hits: list[Hit] = []
        best: list[Evidence] = []
        for document in documents:
            found = list({h.chunk.id: h for asks_vector in asks_vectors
                          for h in self.retriever.within(document, asks_vector, vector, ACROSS_HITS)}.values())
            ranked = self.rank(question, vector, found, asked)
            if ranked:
                hits += found
                best.append(ranked[0])
        if len(best) < 2:
            return None
        return Across([dataclasses.replace(h, rank=n) for n, h in enumerate(hits, 1)], best)

    def _each(self, question: str, asked: str, best: list[Evidence], name: str) -> Answer:
        """One cited unit per document, in the order given; or none, when they do not support an
        answer, judged as one answer's evidence is, with the names and numbers of all the documents
        (each names only its own). A question across documents may name one that was not found (or
        is not indexed): the others are answered as long as at least half of its names are found and
        no document's card holds the others, which are then excused from the veto on unnamed things."""
        mentioned = mentioned_terms("\n".join(self._document(ev, best) for ev in best))
        unfound = unnamed_terms(asked, mentioned)
        if len(unfound) * 2 > len(specific_terms(asked)) or unfound != unnamed_terms(
                asked, mentioned | self.retriever.cards.mentioned):
            return abstain(question, name)
        if unsupported_reason(question, sorted(best, key=lambda ev: -ev.score), mentioned | set(unfound),
                              self.retriever.idf, asked=asked):
            return abstain(question, name)
        return compose(question, claims(best), name)

    def _extractive(self, question: str, asked: str, ranked: list[Evidence], name: str) -> Answer:
        if not ranked:
            return abstain(question, name)
        if unsupported_reason(question, ranked, self._document(ranked[0], ranked), self.retriever.idf,
                              asked=asked):
            return abstain(question, name)
        return compose(question, claims(select(ranked)), name)

    def _llm_answer(self, question: str, asked: str, hits: list[Hit], warnings: list[str],
                    on_token: Callable[[str], None] | None, extractive: Callable[[str], Answer]) -> Answer:
        """`on_token` sees the model's first draft as it streams; the returned Answer is what survived
        enforcement (possibly a repaired draft or the extractive fallback, `extractive(name)`), so
        faces show that last."""
        try:
            yes_no = answer_type(asked) == YESNO
            draft = self.llm.answer(question, hits, on_token)
            for repaired in (False, True):
                if is_refusal(draft):  # at any stage, however worded: a refusal is an abstention
                    return abstain(question, self.llm.name)
                claims, unsupported = enforce(draft, hits)
                undecided = yes_no and not YES_OR_NO.match(draft)
                if claims and not unsupported and not undecided:
                    whole = [(claim, [self._whole(span) for span in spans]) for claim, spans in claims]
                    return compose(question, whole, self.llm.name)
                if not repaired:
                    draft = self.llm.repair(question, hits, draft, unsupported or ([] if claims else [draft]), yes_no)
            warnings.append("the LLM's answer was not supported by the documents; answered extractively")
        except llm_errors() as e:
            warnings.append(f"LLM unavailable ({type(e).__name__}: {str(e)[:120]}); answered extractively")
        return extractive("extractive-fallback")
