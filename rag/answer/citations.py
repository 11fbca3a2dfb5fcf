"""Citations: number the spans an answer rests on, check an LLM's claims against them, and verify
any answer against the stored page texts. Nothing leaves here unless every sentence ends in `[n]`
markers that resolve to verbatim spans supporting it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.answer.text import NEGATIONS, content_terms, numbers, sentence_spans, words
from rag.types import Answer, Chunk, Citation, Hit

MARKERS = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
LEADING_MARKERS = re.compile(r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])+")
CITED_SENTENCE = re.compile(r"(.+?)((?:\s*\[\d+\])+)(?=\s|$)", re.S)
VERDICT = re.compile(r"^\W*(yes|no)\b[,.;:!]?\s*", re.I)
UNIT_LOOKBACK, UNIT_LOOKAHEAD = 2000, 80  # characters around a citation's start read to find its sentence
SUPPORT_THRESHOLD = 0.8  # share of a claim's content words that its cited spans must contain
ABSTENTION = "I could not find the answer to this in the documents."


@dataclass(frozen=True)
class Span:
    """A verbatim piece of an indexed page; start/end are offsets in that page's text."""

    chunk: Chunk
    start: int
    end: int
    score: float

    @property
    def text(self) -> str:
        return self.chunk.text[self.start - self.chunk.start:self.end - self.chunk.start]


def compose(question: str, claims: list[tuple[str, list[Span]]], answerer: str) -> Answer:
    """An Answer whose sentences end in markers numbered by first use; a repeated span keeps its number."""
    numbering: dict[tuple[str, int | None, int, int], Citation] = {}
    sentences = []
    for sentence, spans in claims:
        ns = []
        for span in spans:
            key = (span.chunk.source, span.chunk.page, span.start, span.end)
            if key not in numbering:
                numbering[key] = Citation(len(numbering) + 1, span.chunk.source, span.chunk.page, span.chunk.id,
                                          span.start, span.end, span.text, round(span.score, 4))
            if numbering[key].n not in ns:
                ns.append(numbering[key].n)
        sentences.append(sentence.strip() + " " + "".join(f"[{n}]" for n in ns))
    return Answer(question, " ".join(sentences), list(numbering.values()), False, answerer)


def abstain(question: str, answerer: str) -> Answer:
    return Answer(question, ABSTENTION, [], True, answerer)


def cited_sentences(answer_text: str) -> tuple[list[tuple[str, list[int]]], str]:
    """(sentence, marker numbers) pairs, and whatever text trails the last marker uncited."""
    pairs, end = [], 0
    for m in CITED_SENTENCE.finditer(answer_text):
        pairs.append((m.group(1).strip(), [int(n) for n in re.findall(r"\d+", m.group(2))]))
        end = m.end()
    return pairs, answer_text[end:].strip()


def problems(answer: Answer, page_text: Callable[[str, int | None], str | None]) -> list[str]:
    """Everything that breaks the citation contract; empty for a valid answer."""
    if answer.abstained:
        return [] if not answer.citations else ["an abstention carries citations"]
    found = []
    by_n = {c.n: c for c in answer.citations}
    for c in answer.citations:
        text = page_text(c.source, c.page)
        if text is None or text[c.start:c.end] != c.text:
            found.append(f"[{c.n}] is not the verbatim span {c.source}[{c.start}:{c.end}]")
        elif not starts_a_unit(text, c.start):
            found.append(f"[{c.n}] starts mid-sentence: {c.text[:40]!r}")
    pairs, trailing = cited_sentences(answer.answer)
    found += [f"a sentence without its own marker: {s[:60]!r}" for s, _ in pairs
              if len(sentence_spans(s)) > 1]
    if trailing or not pairs:
        found.append(f"uncited text: {trailing or answer.answer!r}")
    used = {n for _, ns in pairs for n in ns}
    found += [f"[{n}] points nowhere" for n in sorted(used - by_n.keys())]
    found += [f"[{n}] is never used" for n in sorted(by_n.keys() - used)]
    return found


def starts_a_unit(page: str, start: int) -> bool:
    """The page's text at `start` begins a sentence, a table row or a list item (a line)."""
    if start == 0 or page[start - 1] == "\n":
        return True
    window = sentence_spans(page, max(0, start - UNIT_LOOKBACK), min(len(page), start + UNIT_LOOKAHEAD))
    return any(s == start for s, _ in window)


# --- checking an LLM's claims --------------------------------------------------------------------
def support(claim: str, evidence: str) -> float:
    """How far the evidence backs the claim lexically: the share of the claim's content words it
    contains; 0 when a number or a negation of the claim is missing from it, and 0 for a claim with no
    content word but negations: "NOT IN DOCUMENTS" is not backed by "We are not at war with Russia".
    A yes/no answer's opening "Yes,"/"No," is its verdict on the question, not a word of the claim."""
    claim = VERDICT.sub("", claim)
    claim_terms = content_terms(claim) - NEGATIONS
    if not claim_terms:
        return 0.0
    if not numbers(claim) <= numbers(evidence):
        return 0.0
    if (set(words(claim)) & NEGATIONS) - set(words(evidence)):
        return 0.0
    return len(claim_terms & content_terms(evidence)) / len(claim_terms)


def best_span(claim: str, hit: Hit) -> Span:
    """The smallest run of the chunk's sentences that best supports the claim: the best sentence,
    widened by a neighbour while that raises support."""
    chunk = hit.chunk
    spans = sentence_spans(chunk.text) or [(0, len(chunk.text))]
    scores = [support(claim, chunk.text[s:e]) for s, e in spans]
    i = j = max(range(len(spans)), key=lambda x: scores[x])
    current = scores[i]
    while current < 1.0:
        options = [(i - 1, j), (i, j + 1)]
        options = [(a, b) for a, b in options if 0 <= a and b < len(spans)]
        scored = [(support(claim, chunk.text[spans[a][0]:spans[b][1]]), a, b) for a, b in options]
        if not scored or max(scored)[0] <= current:
            break
        current, i, j = max(scored)
    return Span(chunk, chunk.start + spans[i][0], chunk.start + spans[j][1], hit.score)


def llm_claims(text: str) -> list[tuple[str, list[int]]]:
    """The model's sentences, markers stripped, with the passage numbers each one cites. Markers
    that spill past a full stop ("… big. [1] Next …") belong to the sentence before."""
    claims: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        sentence = text[s:e]
        leading = LEADING_MARKERS.match(sentence)
        if leading and claims:
            claims[-1][1].extend(_numbers_in(leading.group()))
            sentence = sentence[leading.end():]
        claim = MARKERS.sub("", sentence).strip()
        if content_terms(claim):
            claims.append((claim, _numbers_in(sentence)))
    return claims


def _numbers_in(markers: str) -> list[int]:
    return [int(n) for group in MARKERS.findall(markers) for n in re.findall(r"\d+", group)]


def enforce(text: str, hits: list[Hit]) -> tuple[list[tuple[str, list[Span]]], list[str]]:
    """Check every claim of an LLM answer against the passages it cites (markers that point
    nowhere are dropped; an unsupported claim is re-attributed to a passage that does support
    it). Returns the supported claims with their shrunk spans, and the unsupported claims."""
    supported, unsupported = [], []
    for claim, ns in llm_claims(text):
        cited = [hits[n - 1] for n in dict.fromkeys(ns) if 1 <= n <= len(hits)]
        spans = [best_span(claim, h) for h in cited]
        if spans and support(claim, " ".join(s.text for s in spans)) >= SUPPORT_THRESHOLD:
            supported.append((claim, [s for s in spans if support(claim, s.text) > 0] or spans))
            continue
        alternatives = sorted((best_span(claim, h) for h in hits), key=lambda s: -support(claim, s.text))
        if alternatives and support(claim, alternatives[0].text) >= SUPPORT_THRESHOLD:
            supported.append((claim, [alternatives[0]]))
        else:
            unsupported.append(claim)
    return supported, unsupported
