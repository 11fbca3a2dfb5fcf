"""Hybrid retrieval: Chroma's dense cosine and bm25s's lexical score, fused by a weighted sum.

A weighted sum of cosine and max-normalised BM25 beat reciprocal-rank fusion on squad2_dev
(bench/retrieval.py prints both): RRF throws away how far ahead the best hit is, which is exactly
what matters for rank 1. Dense catches paraphrases, BM25 catches names and numbers."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from rag.answer.text import content_terms
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import IndexNotFoundError
from rag.store import Store
from rag.types import Chunk, Hit

TOKEN = r"(?u)\b\w+\b"  # single characters count: "7 June", "World War 2"


class Retriever:
    """Loads every chunk once (BM25 needs the texts anyway) and answers searches from memory + Chroma."""

    def __init__(self, store: Store, embedder: Embedder, settings: Settings) -> None:
        import bm25s
        import Stemmer

        self.store, self.embedder, self.settings = store, embedder, settings
        self.chunks: list[Chunk] = store.all_chunks()
        if not self.chunks:
            raise IndexNotFoundError(f"the index at {settings.chroma_url or settings.index_dir} is empty: "
                                     "run `rag index PATH` first")
        self.position = {c.id: i for i, c in enumerate(self.chunks)}
        self._stemmer = Stemmer.Stemmer("english")
        self._bm25 = bm25s.BM25()
        self._bm25.index(self._tokenize([c.text for c in self.chunks]), show_progress=False)
        self._df = Counter(t for c in self.chunks for t in content_terms(c.text))

    def idf(self, term: str) -> float:
        """Inverse document frequency over chunks; a word the corpus never uses is maximally rare, so a
        question about something the documents never mention finds little coverage."""
        return math.log((len(self.chunks) + 1) / (self._df.get(term, 0) + 0.5))

    def _tokenize(self, texts: list[str]):
        import bm25s

        return bm25s.tokenize(texts, token_pattern=TOKEN, stemmer=self._stemmer, return_ids=False,
                              show_progress=False)

    def lexical(self, question: str, n: int) -> dict[int, float]:
        """Chunk position -> BM25 score, for the top n with a positive score."""
        tokens = self._tokenize([question])
        if not tokens[0]:
            return {}
        ids, scores = self._bm25.retrieve(tokens, k=min(n, len(self.chunks)), show_progress=False)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if s > 0}

    def dense(self, vector: np.ndarray, n: int) -> dict[int, float]:
        """Chunk position -> cosine similarity, for the top n."""
        found = self.store.dense_search(vector.tolist(), min(n, len(self.chunks)))
        return {self.position[i]: s for i, s in found if i in self.position}

    def search(self, question: str, k: int | None = None, vector: np.ndarray | None = None) -> list[Hit]:
        """`vector`: the question's embedding, when the caller needs it too and has computed it."""
        if not question.strip():
            raise ValueError("the question is empty")
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        vector = self.embedder.encode([question])[0] if vector is None else vector
        dense, lexical = self.dense(vector, n), self.lexical(question, n)
        floor = min(dense.values(), default=0.0)  # a chunk outside the dense top n is at most this close
        top_bm25 = max(lexical.values(), default=0.0) or 1.0
        w = self.settings.dense_weight
        fused = {i: w * dense.get(i, floor) + (1 - w) * lexical.get(i, 0.0) / top_bm25
                 for i in dense.keys() | lexical.keys()}
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [Hit(rank, score, self.chunks[i]) for rank, (i, score) in enumerate(best, 1)]
