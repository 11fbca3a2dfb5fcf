"""Answer metrics shared by the benchmarks, the tests and `rag eval`.

Normalisation and token F1 follow the official SQuAD evaluation script (Rajpurkar et al., 2016/2018):
lower-case, drop punctuation and the articles a/an/the, collapse whitespace. One deviation: all
Unicode punctuation is dropped, not only ASCII, so „typographic quotes“ don't stick to words."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCT = set(string.punctuation)


def normalize(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _ASCII_PUNCT and not unicodedata.category(ch).startswith("P"))
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


# --- retrieval -------------------------------------------------------------------------------
def answer_rank(hit_texts: list[str], golds: list[str]) -> int | None:
    """1-based rank of the first retrieved text containing a gold answer (the answer-recall
    convention of DPR, Karpukhin et al., 2020), or None."""
    return next((rank for rank, text in enumerate(hit_texts, 1) if contains_answer(text, golds)), None)


# --- citations, after ALCE (Gao et al., 2023, "Enabling LLMs to generate text with citations") --
Judge = Callable[[str, str], bool]  # (claim, evidence) -> does the evidence support the claim?
EMBEDDING_SUPPORT = 0.7  # MiniLM cosine at which two sentences say much the same (not tuned on our sets)


def embedding_judge(encode: Callable[[list[str]], np.ndarray]) -> Judge:
    """Independent of the enforcer's lexical rule (rag.answer.citations.support): the claim and its
    evidence are close in meaning, MiniLM cosine >= EMBEDDING_SUPPORT. It sees paraphrase, which the
    lexical rule misses; it cannot see a changed number or a dropped "not", which the lexical rule
    catches, nor tell whether the claim answers the question."""
    def judge(claim: str, evidence: str) -> bool:
        a, b = np.asarray(encode([claim, evidence]), dtype=float)
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) or 1.0)) >= EMBEDDING_SUPPORT
    return judge


def gold_judge(golds: list[str]) -> Judge:
    """Judged against the question's gold answers, not against the claim's own words: a sentence is
    supported when it states a gold answer and its cited spans hold it too (SQuAD normalisation).
    It sees whether the citations carry the right answer; it cannot see the rest of the claim, and a
    question without gold leaves every sentence unsupported."""
    def judge(claim: str, evidence: str) -> bool:
        return contains_answer(claim, golds) and contains_answer(evidence, golds)
    return judge


def citation_recall_precision(sentences: list[tuple[str, list[int]]], cited: dict[int, str],
                              judge: Judge) -> tuple[float, float] | None:
    """ALCE citation recall and precision of one answer, or None when it has no sentences.

    recall: share of sentences that the concatenation of their cited spans supports (a sentence
    without citations, or citing only markers that point nowhere, is unsupported).
    precision: share of citations that are not irrelevant; a citation is irrelevant when its
    sentence is unsupported, or when it doesn't support the sentence alone and the sentence's
    other citations still do without it."""
    if not sentences:
        return None
    supported = precise = total = 0
    for claim, ns in sentences:
        texts = {n: cited.get(n, "") for n in dict.fromkeys(ns)}
        total += len(texts)
        if not texts or not judge(claim, " ".join(texts.values())):
            continue
        supported += 1
        for n, text in texts.items():
            others = " ".join(t for m, t in texts.items() if m != n)
            if judge(claim, text) or not (others and judge(claim, others)):
                precise += 1
    return supported / len(sentences), (precise / total if total else 0.0)
