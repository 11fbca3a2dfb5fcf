"""Answer metrics shared by the benchmarks, the tests and `rag eval`.

Normalisation and token F1 follow the official SQuAD evaluation script (Rajpurkar et al., 2016/2018):
lower-case, drop punctuation and the articles a/an/the, collapse whitespace."""

from __future__ import annotations

import re
import string
from collections import Counter

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | set("‘’“”–—…")


def normalize(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_answer(text: str, golds: list[str]) -> bool:
    """A gold answer occurs in the text, both normalised (whole tokens, not inside a longer word)."""
    padded = f" {normalize(text)} "
    return any(f" {normalize(g)} " in padded for g in golds if normalize(g))


def exact_match(prediction: str, golds: list[str]) -> float:
    return float(any(normalize(prediction) == normalize(g) for g in golds))


def token_f1(prediction: str, golds: list[str]) -> float:
    """Best token-overlap F1 against any gold."""
    pred = normalize(prediction).split()
    best = 0.0
    for gold in golds:
        ref = normalize(gold).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            p, r = common / len(pred), common / len(ref)
            best = max(best, 2 * p * r / (p + r))
    return best
