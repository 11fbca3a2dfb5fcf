"""Question in, Answer out: condense a follow-up, retrieve, answer (extractive or LLM), enforce
citations, fall back or abstain. Every path returns verified citations or `abstained: true`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from rag.answer.citations import Span, abstain, compose, enforce
from rag.answer.extractive import Evidence, rank_sentences, select, unsupported_reason
from rag.answer.llm import LLM, REFUSAL, llm_errors
from rag.config import Settings
from rag.embeddings import Embedder
from rag.retrieval import Retriever
from rag.types import Answer, Hit

FOLLOW_UP = re.compile(r"\b(it|its|that|this|those|these|they|them|their|he|him|his|she|her|there|then|"
                       r"one|ones|same|also|else)\b|^(and|but|so|what about|how about)\b", re.I)


def condense_plainly(question: str, history: list[dict]) -> str:
    """Without an LLM: a short or pronoun-laden follow-up is searched together with the previous question."""
    previous = [turn["content"] for turn in history if turn.get("role") == "user"]
    if previous and (FOLLOW_UP.search(question) or len(question.split()) <= 4):
        return f"{previous[-1]} {question}"
    return question


class Answerer:
    def __init__(self, retriever: Retriever, embedder: Embedder, settings: Settings) -> None:
        self.retriever, self.embedder, self.settings = retriever, embedder, settings
        self.llm = LLM(settings) if settings.llm_url else None

    def ask(self, question: str, history: list[dict] | None = None, *, use_llm: bool = False,
            k: int | None = None, on_token: Callable[[str], None] | None = None) -> Answer:
        if not question.strip():
            raise ValueError("the question is empty")
        if use_llm and self.llm is None:
            raise ValueError("no LLM is configured: set RAG_LLM_URL (and RAG_LLM_MODEL)")
        history = history or []
        started = time.perf_counter()
        warnings: list[str] = []
        searched, asked = self._condense(question, history, use_llm, warnings)
        vector = self.embedder.encode([searched])[0]
        hits = self.retriever.search(searched, k, vector)
        retrieved = time.perf_counter()
        ranked = rank_sentences(searched, vector, hits, self.retriever.store.sentence_vectors, self.retriever.idf,
                                asked=asked)
        if use_llm:
            answer = self._llm_answer(searched, asked, hits, ranked, warnings, on_token)
        else:
            answer = self._extractive(searched, asked, ranked, "extractive")
        done = time.perf_counter()
        # The stages answer the standalone question searched; the user sees their own words back.
        answer.question, answer.searched, answer.warnings = question, searched, warnings
        answer.timings_ms = {"retrieve": round((retrieved - started) * 1000, 2),
                             "answer": round((done - retrieved) * 1000, 2), "total": round((done - started) * 1000, 2)}
        return answer

    def evidence(self, question: str, k: int | None = None) -> tuple[list[Hit], float, str | None]:
        """The hits, the best evidence's score, and why a term check would refuse it regardless of
        the threshold (None if none would): what `rag eval` measures retrieval and draws the
        abstention trade-off curve from."""
        vector = self.embedder.encode([question])[0]
        hits = self.retriever.search(question, k, vector)
        ranked = rank_sentences(question, vector, hits, self.retriever.store.sentence_vectors, self.retriever.idf)
        if not ranked:
            return hits, 0.0, "nothing retrieved"
        best = ranked[0]
        return hits, best.score, unsupported_reason(question, best, self._page(best), threshold=float("-inf"))

    def _page(self, evidence: Evidence) -> str:
        """The whole page an evidence sentence is on: the term checks look for names there."""
        chunk = evidence.chunk
        return self.retriever.store.page_text(chunk.source, chunk.page) or chunk.text

    def _condense(self, question: str, history: list[dict], use_llm: bool,
                  warnings: list[str]) -> tuple[str, str]:
        """(what to search, what the answer must cover). A follow-up glued to the previous question
        is searched whole, but the answer is the sentence that covers the follow-up's own words:
        "… Mirage jets? and when will the pilots be ready?" wants the pilots sentence."""
        if not history:
            return question, question
        if use_llm:
            try:
                standalone = self.llm.condense(question, history) or question
                return standalone, standalone
            except llm_errors() as e:
                warnings.append(f"LLM unavailable for condensing the follow-up ({type(e).__name__})")
        return condense_plainly(question, history), question

    def _extractive(self, question: str, asked: str, ranked: list[Evidence], name: str) -> Answer:
        if not ranked:
            return abstain(question, name)
        best = ranked[0]
        if unsupported_reason(question, best, self._page(best), asked=asked):
            return abstain(question, name)
        claims = [(ev.text, [Span(ev.chunk, ev.start, ev.end, ev.score)]) for ev in select(ranked)]
        return compose(question, claims, name)

    def _llm_answer(self, question: str, asked: str, hits: list[Hit], ranked: list[Evidence], warnings: list[str],
                    on_token: Callable[[str], None] | None) -> Answer:
        """`on_token` sees the model's first draft as it streams; the returned Answer is what survived
        enforcement (possibly a repaired draft or the extractive fallback), so faces show that last."""
        try:
            draft = self.llm.answer(question, hits, on_token)
            if REFUSAL.lower() in draft.lower():
                return abstain(question, self.llm.name)
            claims, unsupported = enforce(draft, hits)
            if unsupported or not claims:
                draft = self.llm.repair(question, hits, draft, unsupported or [draft])
                claims, unsupported = enforce(draft, hits)
            if claims and not unsupported:
                return compose(question, claims, self.llm.name)
            warnings.append("the LLM's answer was not supported by the documents; answered extractively")
        except llm_errors() as e:
            warnings.append(f"LLM unavailable ({type(e).__name__}: {str(e)[:120]}); answered extractively")
        return self._extractive(question, asked, ranked, "extractive-fallback")
