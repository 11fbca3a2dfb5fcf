"""Sentence spans and content words: the units both the extractive answerer and the citation
checker reason about. Spans are (start, end) offsets into the text they came from."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN_PLUS

# A sentence ends at . ! ? (plus closing quotes/brackets, and the footnote marks a wiki puts after
# them: "(some 10^15 tonnes).[d] Earth …") before whitespace, or at a line break.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?P<mark>(?:\[[^\[\]\s]{1,12}\])+)?(?=\s)|\n")
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
        if m.group() == "\n":
            if _continues(text, begin, m.start(), end):
                continue
        else:
            word = re.search(r"([\w.]+)\W*$", text[begin:m.start() + 1])
            if word and (word.group(1).lower().rstrip(".") in _ABBREVIATIONS
                         or re.fullmatch(r"[A-Z]", word.group(1).rstrip("."))):
                continue  # "Mr. Smith", "U.S. troops", "J. Smith": not a sentence end
            if text[m.end():m.end() + 2].lstrip()[:1].islower():
                continue  # "e.g. something", "approx. ten": the next word continues the sentence
        # a footnote mark belongs to neither sentence: left in the first, an answer citing it would
        # end "… formed.[12] [1]", whose "[12]" reads as a citation marker
        spans.append((begin, m.start("mark") if m.group("mark") else m.end()))
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


def _continues(text: str, begin: int, newline: int, end: int) -> bool:
    """A line break inside a bracket that the next line closes does not end the sentence: a formula's
    subscript set on its own line ("carbon dioxide (CO" / "2) is …") or a wrapped aside."""
    line = text[begin:newline]
    if line.count("(") <= line.count(")"):
        return False
    after = text.find("\n", newline + 1, end)
    return ")" in text[newline + 1:end if after < 0 else after]


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


def mentioned_terms(text: str) -> set[str]:
    """The terms a text mentions, stemmed and folded, stopwords aside: what a name of a question is
    looked for in (rag.answer.extractive.unnamed_terms)."""
    return {stem(fold(w)) for w in set(words(text)) if w not in STOPWORDS}


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry meaning: stopwords dropped, numbers and negations kept."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}


def numbers(text: str) -> set[str]:
    return {w.replace(",", "") for w in words(text) if any(ch.isdigit() for ch in w)}
