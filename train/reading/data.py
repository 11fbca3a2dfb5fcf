"""SQuAD articles -> units (sentences as the product cuts them) -> candidate groups for training."""

from __future__ import annotations

import gzip
import json
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.answer.text import sentence_spans
from reading import Log


def load_articles(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)["data"]


def split_dev_more(articles: list[dict]) -> tuple[list[dict], list[dict]]:
    """The fixed rule: sorted by title, even positions train, odd positions are the dev half."""
    ordered = sorted(articles, key=lambda a: a["title"])
    return ordered[0::2], ordered[1::2]


def stem_function():
    import Stemmer

    return Stemmer.Stemmer("english")  # bm25s calls its stemWords on a list


class Bm25:
    """BM25 (bm25s) over a handful of texts, scored for one query at a time."""

    def __init__(self, texts: list[str], stemmer) -> None:
        import bm25s

        self.stemmer = stemmer
        self.index = bm25s.BM25()
        self.index.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
                         show_progress=False)
        self.size = len(texts)

    def scores(self, query: str) -> np.ndarray:
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, return_ids=False,
                                show_progress=False)[0]
        tokens = [t for t in tokens if t in self.index.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.index.get_scores(tokens), dtype=np.float32)


@dataclass
class Pair:
    """One (question, unit) input; `answer` is the short answer's (start, end) in the unit, if trained."""
    question: str
    unit: str
    positive: bool
    answer: tuple[int, int] | None = None


@dataclass
class Group:
    """A question's candidates, scored together by the loss. No positive: an unanswerable question."""
    pairs: list[Pair]
    source: str  # squad1 | dev_more (the train half's answerables and unanswerables)


def answer_sentence(context: str, spans: list[tuple[int, int]], texts: list[str]) -> tuple[int, tuple | None] | None:
    """The one sentence holding every occurrence of every answer text, and the span inside it (when the
    text occurs there once). None when an occurrence falls in another sentence or across a sentence
    end: the positive would be a guess."""
    found: set[int] = set()
    for text in {t for t in texts if t.strip()}:
        for m in re.finditer(re.escape(text), context):
            inside = [i for i, (s, e) in enumerate(spans) if s <= m.start() and m.end() <= e]
            if not inside:
                return None
            found.add(inside[0])
    if len(found) != 1:
        return None
    index = found.pop()
    s, e = spans[index]
    first = texts[0]
    hits = [m.start() for m in re.finditer(re.escape(first), context[s:e])] if first.strip() else []
    return index, ((hits[0], hits[0] + len(first)) if len(hits) == 1 else None)


@dataclass
class Article:
    """An article cut into units, with a BM25 index over all its units."""
    title: str
    paragraphs: list[dict]
    units: list[list[str]] = field(default_factory=list)       # per paragraph
    spans: list[list[tuple[int, int]]] = field(default_factory=list)
    flat: list[tuple[int, int]] = field(default_factory=list)  # (paragraph, unit) of each indexed unit
    bm25: Bm25 | None = None


def prepare(article: dict, stemmer) -> Article:
    a = Article(article["title"], article["paragraphs"])
    for p, paragraph in enumerate(article["paragraphs"]):
        spans = sentence_spans(paragraph["context"])
        a.spans.append(spans)
        a.units.append([paragraph["context"][s:e] for s, e in spans])
        a.flat.extend((p, u) for u in range(len(spans)))
    a.bm25 = Bm25([a.units[p][u] for p, u in a.flat], stemmer)
    return a


def build_group(a: Article, p: int, question: str, answers: list[str], positive: tuple | None,
                para_negatives: int, article_negatives: int, rng: random.Random, source: str) -> Group:
    """Candidates of one question: the positive (if any), the `para_negatives` other units of its
    paragraph most like the question, and the `article_negatives` units of other paragraphs most like
    it. A unit elsewhere that contains an answer text is never a negative: it may well answer too."""
    scores = a.bm25.scores(question)
    order = np.argsort(-scores, kind="stable")
    lowered = [t.lower() for t in answers if t.strip()]
    pairs = []
    if positive is not None:
        index, span = positive
        pairs.append(Pair(question, a.units[p][index], True, span))
    same, other = [], []
    for k in order:
        pp, u = a.flat[k]
        if positive is not None and pp == p and u == positive[0]:
            continue
        if any(t in a.units[pp][u].lower() for t in lowered):
            continue
        (same if pp == p else other).append(a.units[pp][u])
    pairs += [Pair(question, t, False) for t in same[:para_negatives]]
    pairs += [Pair(question, t, False) for t in other[:article_negatives]]
    rng.shuffle(pairs)  # the positive's place in the group carries no signal
    return Group(pairs, source)


def training_groups(data: Path, args, log: Log) -> list[Group]:
    """SQuAD 1.1 train (a fixed-seed sample of --questions of the cleanly labelled ones) and every
    question of the train half of squad2_dev_more, repeated --extra-repeat times."""
    rng = random.Random(args.seed)
    stemmer = stem_function()
    squad = load_articles(data / "squad1.1_train.json.gz")
    candidates, dropped = [], 0
    for ai, article in enumerate(squad):
        for pi, paragraph in enumerate(article["paragraphs"]):
            spans = sentence_spans(paragraph["context"])
            for q in paragraph["qas"]:
                found = answer_sentence(paragraph["context"], spans, [q["answers"][0]["text"]])
                if found is None:
                    dropped += 1
                else:
                    candidates.append((ai, pi, q["question"], q["answers"][0]["text"], found))
    log(f"squad1.1 train: {len(candidates) + dropped} questions, {dropped} dropped (answer text in more than "
        f"one unit, or across a unit end), {len(candidates)} usable")
    chosen = sorted(rng.sample(range(len(candidates)), min(args.questions, len(candidates))))
    groups: list[Group] = []
    prepared: dict[int, Article] = {}
    for i in chosen:
        ai, pi, question, answer, found = candidates[i]
        if ai not in prepared:
            prepared = {ai: prepare(squad[ai], stemmer)}  # chosen is sorted: one article at a time
        groups.append(build_group(prepared[ai], pi, question, [answer], found, args.para_negatives,
                                  args.article_negatives, rng, "squad1"))
    train_half, _ = split_dev_more(load_articles(data / "squad2_dev_more.json.gz"))
    extra, unanswerable, extra_dropped = [], 0, 0
    for article in train_half:
        a = prepare(article, stemmer)
        for pi, paragraph in enumerate(article["paragraphs"]):
            for q in paragraph["qas"]:
                if q["is_impossible"]:
                    unanswerable += 1
                    extra.append(build_group(a, pi, q["question"], [], None, args.para_negatives,
                                             args.article_negatives, rng, "dev_more"))
                    continue
                # Located by the first answer only (the other annotators' shorter variants, "1973" for
                # "October 1973", often occur elsewhere too); none of them may be in a negative.
                texts = [x["text"] for x in q["answers"]]
                found = answer_sentence(paragraph["context"], a.spans[pi], texts[:1])
                if found is None:
                    extra_dropped += 1
                    continue
                extra.append(build_group(a, pi, q["question"], texts, found, args.para_negatives,
                                         args.article_negatives, rng, "dev_more"))
    if args.extra_limit is not None:
        extra = rng.sample(extra, min(args.extra_limit, len(extra)))
    log(f"squad2_dev_more train half: {len(train_half)} articles ({', '.join(a['title'] for a in train_half)}), "
        f"{len(extra)} groups ({unanswerable} unanswerable, {extra_dropped} answerable dropped), "
        f"x{args.extra_repeat}")
    groups += extra * args.extra_repeat
    return groups
