"""Hybrid retrieval: Chroma's dense cosine and bm25s's lexical score, fused by a weighted sum.

A weighted sum of cosine and max-normalised BM25 beat reciprocal-rank fusion on squad2_dev
(bench/retrieval.py prints both): RRF throws away how far ahead the best hit is, which is exactly
what matters for rank 1. Dense catches paraphrases, BM25 catches names and numbers."""

from __future__ import annotations

import numpy as np

from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import IndexNotFoundError
from rag.lexicon import Lexicon
from rag.store import Store
from rag.types import Hit


class Retriever:
    """Dense hits from Chroma, lexical hits from the persisted Lexicon; only the k chunks that win
    are read, so nothing here grows with the index but the two searches themselves."""

    def __init__(self, store: Store, embedder: Embedder, settings: Settings, lexicon: Lexicon | None) -> None:
        if lexicon is None or not len(lexicon):
            raise IndexNotFoundError(f"the index at {settings.chroma_url or settings.index_dir} is empty: "
                                     "run `rag index PATH` first")
        self.store, self.embedder, self.settings, self.lexicon = store, embedder, settings, lexicon
        self.idf = lexicon.idf

    def lexical(self, question: str, n: int) -> dict[str, float]:
        """Chunk id -> BM25 score, for the top n with a positive score."""
        return self.lexicon.search(question, n)

    def dense(self, vector: np.ndarray, n: int) -> dict[str, float]:
        """Chunk id -> cosine similarity, for the top n."""
        return dict(self.store.dense_search(vector.tolist(), min(n, len(self.lexicon))))

    def within(self, source: str, asked: np.ndarray, question: np.ndarray, n: int) -> list[Hit]:
        """The n chunks of one document nearest to `asked` (the embedding of what a question asks),
        scored as `search` scores a chunk found by its dense half alone: by the whole question's
        cosine, weighted. They rank after any hit of `search` (rank `candidates` + i)."""
        w = self.settings.dense_weight
        return [Hit(self.settings.candidates + rank, w * float(vector @ question), chunk)
                for rank, (chunk, vector) in enumerate(self.store.nearest_in(source, asked.tolist(), n), 1)]

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
        chunks = self.store.chunks([i for i, _ in best])  # a chunk deleted since the lexicon was built is gone
        return [Hit(rank, score, chunks[i]) for rank, (i, score) in enumerate(
            [(i, score) for i, score in best if i in chunks], 1)]
