"""Sentence spans and content words: the units both the extractive answerer and the citation
checker reason about. Spans are (start, end) offsets into the text they came from."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN_PLUS

# A sentence ends at . ! ? (plus closing quotes/brackets) before whitespace, or at a line break.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|\n")
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "no", "gen", "col", "lt",
                  "sgt", "capt", "gov", "sen", "rep", "inc", "ltd", "co", "corp", "e.g", "i.e", "u.s", "u.k",
                  "a.m", "p.m", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
_WORD = re.compile(r"\w+(?:[.,]\d+)*", re.UNICODE)  # keeps 10,000 and 3.5 whole
NEGATIONS = {"not", "no", "never", "nor", "none", "neither", "without", "cannot", "n't"}
STOPWORDS = (set(STOPWORDS_EN_PLUS) - NEGATIONS) | {
    "also", "would", "could", "may", "might", "must", "shall", "one", "many", "much", "said", "say", "says",
    "according", "whose", "name", "named", "called", "kind", "type", "what", "which", "who", "whom", "when",
    "where", "why", "how", "yes", "mention", "mentioned", "article", "document", "documents", "text", "passage",
}


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as absolute, whitespace-trimmed (start, end) spans."""
    end = len(text) if end is None else end
    spans, begin = [], start
    for m in _END.finditer(text, start, end):
        word = re.search(r"([\w.]+)\W*$", text[begin:m.start() + 1])
        if m.group() != "\n" and word and (word.group(1).lower().rstrip(".") in _ABBREVIATIONS
                                            or re.fullmatch(r"[A-Z]", word.group(1).rstrip("."))):
            continue  # "Mr. Smith", "U.S. troops", "J. Smith": not a sentence end
        after = text[m.end():m.end() + 2].lstrip()
        if m.group() != "\n" and after[:1].islower():
            continue  # "e.g. something", "approx. ten": the next word continues the sentence
        spans.append((begin, m.end()))
        begin = m.end()
    spans.append((begin, end))
    trimmed = []
    for s, e in spans:
        piece = text[s:e]
        s2 = s + len(piece) - len(piece.lstrip())
        e2 = e - (len(piece) - len(piece.rstrip()))
        if e2 > s2 and re.search(r"\w", text[s2:e2]):
            trimmed.append((s2, e2))
    return trimmed


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def fold(word: str) -> str:
    """Accents dropped: "Hervé" -> "Herve"."""
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode() or word


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry meaning: stopwords dropped, numbers and negations kept."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}


def numbers(text: str) -> set[str]:
    return {w.replace(",", "") for w in words(text) if any(ch.isdigit() for ch in w)}
