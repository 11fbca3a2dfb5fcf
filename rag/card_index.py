"""Matching questions to the documents' cards (rag.cards): how well a question names each document,
which of the documents it names "the latest" means, and which documents a question about several of
them names. Built per index from the stored cards (Store.cards) when a Retriever first needs it."""

from __future__ import annotations

import math
import re
from functools import cached_property

import numpy as np

from rag.answer.qtypes import asks_across
from rag.answer.text import STOPWORDS, mentioned_terms
from rag.cards import Card
from rag.lexicon import new_bm25, stemmer, tokenize

LATEST = re.compile(r"\b(?:latest|most recent|newest|most current)\b", re.I)
EARLIEST = re.compile(r"\b(?:earliest|oldest|least recent)\b", re.I)
NAME_WORD = re.compile(r"(?<!^)(?<![.?!] )\b(?:[A-Z][\w-]*|[\w-]*\d[\w-]*)")  # a capitalised word not opening a sentence, or a number
PLURAL_NUMBER = re.compile(r"(?<=\d)s$")
NAMED_NEAR = 0.15  # a question is about several documents whose cards it names this close to the best
ACROSS_NEAR = 0.3  # ... this close, when it says it asks across documents
ACROSS_DOCUMENTS = 5  # ... at most this many
COVER_GAIN = 2.0  # IDF a document's card must add to the words named before it (CardIndex.covering)
DESCRIBING = re.compile(r"\b[a-z][a-z-]{3,}\b")  # a lower-case word of four letters or more
OWN_WORDS = 2  # words of the question only its card holds that make a document described (CardIndex.described)
NEAR = 0.05  # documents whose card matches within this of the best are "such documents" for latest/earliest


class CardIndex:
    """Questions matched against the documents' cards: the cosine to each card's label and BM25 over
    the labels, fused as the chunks' two scores are (rag.retrieval), so a question that names a
    company, a place, a product or a period scores that document's card above its look-alikes'."""

    def __init__(self, cards: dict[str, tuple[Card, np.ndarray | None]], dense_weight: float) -> None:
        usable = {s: (c, v) for s, (c, v) in cards.items() if v is not None and c.label}
        self.sources = sorted(usable)
        self.cards = {s: usable[s][0] for s in self.sources}
        self.vectors = np.stack([usable[s][1] for s in self.sources]) if usable else np.zeros((0, 0), np.float32)
        self.weight, self._stemmer = dense_weight, stemmer()
        self.bm25 = new_bm25()
        tokens = tokenize([self.cards[s].label for s in self.sources], self._stemmer)
        if self.sources:
            self.bm25.index(tokens, show_progress=False)
        self.terms = {s: frozenset(t) for s, t in zip(self.sources, tokens)}
        self.holders: dict[str, list[str]] = {}  # term -> the cards that hold it: a question looks up only its own
        for source, terms in self.terms.items():
            for t in terms:
                self.holders.setdefault(t, []).append(source)
        self.idf = {t: math.log((len(self.sources) + 1) / (len(held) + 0.5)) for t, held in self.holders.items()}

    @cached_property
    def mentioned(self) -> set[str]:
        """What any card mentions, as rag.answer.extractive.unnamed_terms compares names (mentioned_terms)."""
        return mentioned_terms("\n".join(card.label for card in self.cards.values()))

    def __len__(self) -> int:
        return len(self.sources)

    def scores(self, question: str, vector: np.ndarray) -> dict[str, float]:
        """Source -> how well the question names that document (0 to 1)."""
        if not self.sources:
            return {}
        cosine = self.vectors @ vector
        tokens = tokenize([question], self._stemmer)[0]
        lexical = self.bm25.get_scores(tokens) if tokens else np.zeros(len(self.sources))
        top = float(lexical.max()) or 1.0
        fused = self.weight * cosine + (1 - self.weight) * lexical / top
        return dict(zip(self.sources, map(float, fused)))

    def passed_over(self, question: str, scores: dict[str, float]) -> frozenset[str]:
        """For a question that asks for the latest (earliest) of the documents it names ("Amazon's
        most recent 10-Q"): those whose cards match within NEAR of the best and carry a date, but the
        newest (oldest) of them. The question is about that one, not about all of them."""
        wants = 1 if LATEST.search(question) else -1 if EARLIEST.search(question) else 0
        if not wants or not scores:
            return frozenset()
        best = max(scores.values())
        dated = [s for s, v in scores.items() if v >= best - NEAR and self.cards[s].date]
        if len(dated) < 2:
            return frozenset()
        chosen = (max if wants > 0 else min)(dated, key=lambda s: self.cards[s].date)  # ISO dates sort as dates
        return frozenset(dated) - {chosen}

    def documents(self, question: str, scores: dict[str, float]) -> list[str]:
        """The documents a question about several of them names, oldest first by their cards' dates
        ([] when it names fewer than two): those whose cards together cover its names (`covering`),
        each after the first within NAMED_NEAR of the best card's score; when it asks across
        documents in so many words (rag.answer.qtypes.asks_across), within ACROSS_NEAR, and with
        those whose cards name the same as one of them ("across Amazon's quarters") when they are
        documents of their own, not parts of one work (`_apart`); then those it describes in words
        only their cards hold (`described`), beside those or beside the best card's document.
        `scores`: the cards' scores for the question (`scores`), of the documents it may be about."""
        if not scores:
            return []
        chosen, alike = self.covering(question, scores)
        best, across = max(scores.values()), asks_across(question)
        near = ACROSS_NEAR if across else NAMED_NEAR
        documents = chosen[:1] + [s for s in chosen[1:] if scores[s] >= best - near]
        documents += [s for s in alike if self._apart(s, documents[0])] if across else []
        if len(documents) < 2:
            documents = [max(scores, key=lambda s: scores[s])]
        documents += self.described(question, scores, documents)
        if len(documents) < 2:
            return []
        return sorted(documents[:ACROSS_DOCUMENTS], key=lambda s: (self.cards[s].date or "9999", -scores[s]))

    def _apart(self, source: str, other: str) -> bool:
        """Two documents whose cards name the same are documents of their own when they are dated or
        their labels differ in more than numbers; else they are parts of one work ("Rhine_p012.txt",
        "Rhine_p013.txt": an article's paragraphs), which a question across documents is not about."""
        card, theirs = self.cards[source], self.cards[other]
        return bool(card.date) or re.sub(r"\d+", "#", card.label) != re.sub(r"\d+", "#", theirs.label)

    def covering(self, question: str, scores: dict[str, float]) -> tuple[list[str], list[str]]:
        """(the documents whose cards together name what the question names, each adding words the
        ones before did not: "the Cessna 152s at Madill, Oklahoma and at Venice, Florida" names two
        accident reports; those whose cards name the same words as one of them: "Amazon's inventory
        across these quarters" names Amazon's every filing alike). Words count by their rarity among
        the cards (IDF), and only the question's names do (capitalised words and numbers: "which
        plan" is no name); a document joins the first list only if it adds COVER_GAIN or more. `scores`
        (the cards' scores for the question) break ties. Of `scores`' documents only."""
        names = " ".join(PLURAL_NUMBER.sub("", w) for w in NAME_WORD.findall(question))  # "172s": 172
        asked = set(tokenize([names], self._stemmer)[0])
        matched: dict[str, set[str]] = {}
        for t in asked:
            for s in self.holders.get(t, ()):
                if s in scores:
                    matched.setdefault(s, set()).add(t)
        gain = lambda s, covered: sum(self.idf[t] for t in matched[s] - covered)  # noqa: E731
        chosen: list[str] = []
        covered: set[str] = set()
        while len(chosen) < len(matched):
            best = max((s for s in matched if s not in chosen), key=lambda s: (gain(s, covered), scores[s]))
            if gain(best, covered) < (COVER_GAIN if chosen else 1e-9):
                break
            chosen.append(best)
            covered |= matched[best]
        alike = [s for s in matched if s not in chosen and any(matched[s] == matched[c] for c in chosen)]
        return chosen, alike

    def described(self, question: str, scores: dict[str, float], chosen: list[str]) -> list[str]:
        """Documents the question describes rather than names ("the platelet rich plasma rotator cuff
        trial and the recurrent pilonidal sinus flap trial"), beyond `chosen`: each holds OWN_WORDS or
        more of the question's lower-case words that no other card holds and none before covered.
        One such word is chance ("air"); two are a description. Of `scores`' documents only."""
        words = " ".join(w for w in DESCRIBING.findall(question) if w not in STOPWORDS)
        own = {t for t in tokenize([words], self._stemmer)[0] if len(self.holders.get(t, ())) == 1}
        covered = {t for c in chosen for t in self.terms.get(c, ()) if t in own}
        holding = {self.holders[t][0] for t in own} & scores.keys()
        out: list[str] = []
        while True:
            gains = [(len((self.terms[s] & own) - covered), scores[s], s) for s in holding
                     if s not in chosen and s not in out]
            gain, _, best = max(gains, default=(0, 0.0, ""))
            if gain < OWN_WORDS:
                return out
            out.append(best)
            covered |= self.terms[best] & own
