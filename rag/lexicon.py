"""The lexical half of retrieval, kept on disk beside the vectors so that no process rebuilds it.

A build holds BM25 over every chunk and its context (bm25s, loaded memory-mapped), the chunk ids in BM25's order, and
each content term's document frequency (the answerer's IDF). It is stamped with the record
manager's state: a reader that finds the stamp current loads it in milliseconds at any size, where
rebuilding took ~16 s at 100k chunks. Writers (`rag index`, uploads, removals) refresh it before they
release the index folder's lock; a build is written into a folder of its own and published by
replacing the file CURRENT, so a reader sees the old build or the new one, never half of one, and a
running server notices a new one by that file alone (`changed()`)."""

from __future__ import annotations

import logging
import math
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.answer.text import content_terms
from rag.types import Chunk

FOLDER = "lexical"
TOKEN = r"(?u)\b\w+\b"  # single characters count: "7 June", "World War 2"
MAX_TERM = 64  # longer "words" (hashes, runs of x) get no document frequency: they count as rare


def stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _bm25s():
    """The bm25s module, imported on first use (it costs a question's start-up otherwise). It sets its own
    logger to DEBUG, so a server's log would show "Building index from tokens" whenever one is built:
    that logger is kept to warnings."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def new_bm25():
    """An empty bm25s.BM25."""
    return _bm25s().BM25()


def tokenize(texts: list[str], stemmer) -> list[list[str]]:
    return _bm25s().tokenize(texts, token_pattern=TOKEN, stemmer=stemmer, return_ids=False, show_progress=False)


@dataclass
class Lexicon:
    stamp: str
    ids: np.ndarray     # chunk ids (bytes) in BM25's document order
    bm25: object        # bm25s.BM25
    terms: np.ndarray   # content terms, sorted, for binary search
    df: np.ndarray      # chunks that contain terms[i]
    docs: np.ndarray    # each chunk's source (bytes), in BM25's order: a hit's document without reading it

    def __post_init__(self) -> None:
        self._stemmer = stemmer()
        self.idf = lru_cache(maxsize=1 << 16)(self._idf)  # an answer asks for the same few terms ~100 times

    @classmethod
    def build(cls, chunks: Iterable[Chunk], stamp: str) -> Lexicon:
        chunks = list(chunks)
        bm25 = new_bm25()
        bm25.index(tokenize([f"{c.context}\n{c.text}" for c in chunks], stemmer()), show_progress=False)
        counts = Counter(t for c in chunks for t in content_terms(c.text) if len(t) <= MAX_TERM)
        terms = np.array(sorted(counts), dtype=f"U{MAX_TERM}")
        return cls(stamp, np.array([c.id for c in chunks], dtype="S"), bm25, terms,
                   np.array([counts[t] for t in terms.tolist()], dtype=np.int32),
                   np.array([c.source.encode() for c in chunks], dtype="S"))

    # --- queries --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def search(self, question: str, n: int, allowed: np.ndarray | None = None,
               sources: dict[str, str] | None = None) -> dict[str, float]:
        """Chunk id -> BM25 score, for the top n with a positive score (among the `allowed` chunks: a
        mask in BM25's order); `sources`, when given, gets each hit's source. The top n are picked among the chunks that score at all: bm25s's
        retrieve() selects over every score, most of them zero, and selecting among that many equal
        values took 62 ms at 1M chunks (computing them, under 1 ms)."""
        tokens = tokenize([question], self._stemmer)
        if not tokens[0] or not len(self):
            return {}
        scores = self.bm25.get_scores(tokens[0])
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        scoring = np.flatnonzero(scores > 0)
        if len(scoring) > n:
            scoring = scoring[np.argpartition(scores[scoring], -n)[-n:]]
        if sources is not None:
            sources |= {self.ids[i].decode(): self.docs[i].decode() for i in scoring}
        return {self.ids[i].decode(): float(scores[i]) for i in scoring}

    def _idf(self, term: str) -> float:
        """Inverse document frequency over chunks (`idf`); a word the corpus never uses is maximally
        rare, so a question about something the documents never mention finds little coverage."""
        i = int(np.searchsorted(self.terms, term))
        df = int(self.df[i]) if i < len(self.terms) and self.terms[i] == term else 0
        return math.log((len(self) + 1) / (df + 0.5))

    # --- on disk --------------------------------------------------------------------------
    def save(self, index_dir: Path) -> None:
        """Write a new build and publish it; older builds are removed (a reader that loaded one keeps
        its memory maps: on POSIX, deleted files live on until they are unmapped)."""
        root = index_dir / FOLDER
        build = root / f"build-{uuid.uuid4().hex[:12]}"
        build.mkdir(parents=True)
        self.bm25.save(str(build / "bm25"), show_progress=False)
        np.save(build / "ids.npy", self.ids)
        np.save(build / "terms.npy", self.terms)
        np.save(build / "df.npy", self.df)
        np.save(build / "docs.npy", self.docs)
        _write_atomically(build / "stamp", self.stamp)
        _write_atomically(root / "CURRENT", build.name)
        for old in root.glob("build-*"):
            if old != build:
                shutil.rmtree(old, ignore_errors=True)

    def restamp(self, index_dir: Path, stamp: str) -> None:
        """The same chunks under a new record-manager state (a run that changed nothing refreshes the
        records' timestamps); republished so that servers notice, at no cost but reloading it."""
        build = index_dir / FOLDER / current_build(index_dir)
        _write_atomically(build / "stamp", stamp)
        _write_atomically(index_dir / FOLDER / "CURRENT", build.name)
        self.stamp = stamp

    @classmethod
    def load(cls, index_dir: Path) -> Lexicon | None:
        """The published build, memory-mapped; None if there is none (an index written by a version
        before this one, or an empty one)."""
        name = current_build(index_dir)
        build = index_dir / FOLDER / name if name else None
        if build is None or not (build / "docs.npy").is_file():
            return None
        bm25 = _bm25s().BM25.load(str(build / "bm25"), mmap=True, show_progress=False)
        return cls((build / "stamp").read_text(), np.load(build / "ids.npy", mmap_mode="r"), bm25,
                   np.load(build / "terms.npy", mmap_mode="r"), np.load(build / "df.npy", mmap_mode="r"),
                   np.load(build / "docs.npy", mmap_mode="r"))


def current_build(index_dir: Path) -> str | None:
    try:
        return (index_dir / FOLDER / "CURRENT").read_text()
    except FileNotFoundError:
        return None


def published(index_dir: Path) -> tuple[int, int] | None:
    """What identifies the published build, in one stat() call: cheap enough to check per request."""
    try:
        st = os.stat(index_dir / FOLDER / "CURRENT")
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(text)
    os.replace(tmp, path)
