"""Hybrid retrieval: Chroma's dense cosine and bm25s's lexical score, fused by a weighted sum.

A weighted sum of cosine and max-normalised BM25 beat reciprocal-rank fusion on squad2_dev
(bench/retrieval.py prints both): RRF throws away how far ahead the best hit is, which is exactly
what matters for rank 1. Dense catches paraphrases, BM25 catches names and numbers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import cached_property, lru_cache

import numpy as np

from rag.answer.qtypes import asks_across
from rag.card_index import CardIndex
from rag.config import Settings
from rag.embeddings import BF16_CHUNK_NOISE, Embedder
from rag.errors import IndexNotFoundError
from rag.lexicon import Lexicon
from rag.store import Store
from rag.types import Chunk, Hit

CARD_WEIGHT = 0.3  # weight of how well the question names a chunk's document (its card), beside the chunk's own score
ACROSS_PER_DOCUMENT = 2  # hits of one document at most in a search across documents
MAX_EXACT = 8  # chunks a question may settle on exact vectors (~25 ms each); beyond, bf16 stands
SPARE = 3  # chunks looked at beyond the n nearest of a document, for a near tie at the cut to settle


class Retriever:
    """Dense hits from Chroma, lexical hits from the persisted Lexicon; only the k chunks that win
    are read, so nothing here grows with the index but the two searches themselves."""

    def __init__(self, store: Store, embedder: Embedder, settings: Settings, lexicon: Lexicon | None) -> None:
        if lexicon is None or not len(lexicon):
            raise IndexNotFoundError(f"the index at {settings.chroma_url or settings.index_dir} is empty: "
                                     "run `rag index PATH` first")
        self.store, self.embedder, self.settings, self.lexicon = store, embedder, settings, lexicon
        self.idf = lexicon.idf
        self.allowed = lru_cache(maxsize=64)(self._allowed)  # a chat keeps asking within the same documents

    def lexical(self, question: str, n: int, sources: frozenset[str] | None = None,
                found_in: dict[str, str] | None = None) -> dict[str, float]:
        """Chunk id -> BM25 score, for the top n with a positive score (of `sources`' chunks only);
        `found_in` gets each hit's document."""
        return self.lexicon.search(question, n, None if sources is None else self.allowed(sources), found_in)

    def dense(self, vector: np.ndarray, n: int, sources: frozenset[str] | None = None,
              found_in: dict[str, str] | None = None) -> dict[str, float]:
        """Chunk id -> cosine similarity, for the top n (of `sources`' chunks only); `found_in` gets
        each hit's document."""
        hits = self.store.dense_search(vector.tolist(), min(n, len(self.lexicon)), sources)
        if found_in is not None:
            found_in |= {i: source for i, _, source in hits}
        return {i: cosine for i, cosine, _ in hits}

    @cached_property
    def cards(self) -> CardIndex:
        return CardIndex(self.store.cards(), self.settings.dense_weight)

    def named(self, question: str, vector: np.ndarray, sources: frozenset[str] | None = None) -> dict[str, float]:
        """Document -> how well the question names it, by its card (rag.card_index.CardIndex); of `sources` only."""
        scores = self.cards.scores(question, vector)
        return scores if sources is None else {s: v for s, v in scores.items() if s in sources}

    def repeated(self, source: str) -> frozenset[str]:
        """The lines that recur on the document's pages (rag.cards.repeated_lines): never cited."""
        card = self.cards.cards.get(source)
        return card.repeated if card else frozenset()

    def documents_named(self, question: str, vector: np.ndarray, sources: frozenset[str] | None = None) -> list[str]:
        """The documents a question about several of them names (rag.card_index.CardIndex.documents), of
        `sources` only; [] when it names fewer than two."""
        return self.cards.documents(question, self.named(question, vector, sources))

    def _allowed(self, sources: frozenset[str]) -> np.ndarray:
        """The lexicon's mask of these sources' chunks."""
        return np.isin(self.lexicon.ids, np.array(self.store.chunk_ids(sources), dtype="S"))

    def within(self, source: str, asked: np.ndarray, question: np.ndarray, n: int) -> list[Hit]:
        """The n chunks of one document nearest to `asked` (the embedding of what a question asks),
        scored as `search` scores a chunk found by its dense half alone: by the whole question's
        cosine, weighted. They rank after any hit of `search` (rank `candidates` + i)."""
        w = self.settings.dense_weight
        found = self.store.nearest_in(source, asked.tolist(), n + SPARE if self.store.bf16 else n)
        known = {chunk.id: (chunk, vector) for chunk, vector in found}
        near = {i: float(vector @ asked) for i, (_, vector) in known.items()}
        settled: set[str] = set()
        if self.store.bf16:  # which n are nearest, settled on exact vectors where rounding could decide
            settled = self.settle(near, dict(near), asked, {n}, 1.0, lambda ids: {i: known[i][0] for i in ids})
        nearest = sorted(near, key=lambda i: (-near[i], i))[:n]
        exact = self.store.exact([known[i][0] for i in nearest if i in settled])  # kept: computed by settle
        hits = []
        for rank, i in enumerate(nearest, 1):
            chunk, vector = known[i]
            cosine = float((exact[i][0] if i in exact else vector) @ question)
            hits.append(Hit(self.settings.candidates + rank, w * cosine, chunk, cosine))
        return hits

    def search(self, question: str, k: int | None = None, vector: np.ndarray | None = None,
               cuts: tuple[int, ...] | None = None, sources: frozenset[str] | None = None,
               per_document: int | None = None) -> list[Hit]:
        """`vector`: the question's embedding, when the caller needs it too and has computed it. On an
        index embedded in bf16, which chunk comes first and which make the top k (or the other `cuts`:
        ranks after which the caller cuts the list) are settled on exact vectors where bf16's rounding
        could swap two (`settle`). `sources`: search these documents only (both halves filter before
        they rank, so a scoped question gets its k best of them). `per_document`: at most this many hits
        of one document, the next best of other documents taking the places (a question across
        documents wants each one's evidence, not one document's k best). The question's match with each
        document's card adds to its chunks' scores (CARD_WEIGHT), and when it asks for the latest or
        earliest of the documents it names, the others are passed over (rag.card_index.CardIndex). A question
        that asks across
        documents (rag.answer.qtypes.asks_across) gets ACROSS_PER_DOCUMENT unless the caller says."""
        if not question.strip():
            raise ValueError("the question is empty")
        if per_document is None and asks_across(question):
            per_document = ACROSS_PER_DOCUMENT
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        vector = self.embedder.encode([question])[0] if vector is None else vector
        found_in: dict[str, str] = {}
        dense, lexical = self.dense(vector, n, sources, found_in), self.lexical(question, n, sources, found_in)
        floor = min(dense.values(), default=0.0)  # a chunk outside the dense top n is at most this close
        top_bm25 = max(lexical.values(), default=0.0) or 1.0
        w, named = self.settings.dense_weight, self.named(question, vector)
        passed_over = self.cards.passed_over(question, named)
        fused = {i: w * dense.get(i, floor) + (1 - w) * lexical.get(i, 0.0) / top_bm25
                 + CARD_WEIGHT * named.get(found_in.get(i, ""), 0.0) for i in dense.keys() | lexical.keys()
                 if found_in.get(i) not in passed_over}
        if self.store.bf16:
            self.settle(fused, dense, vector, {1, *(cuts or (k,))}, w)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        best = ranked[:k] if per_document is None else ranked
        chunks = self.store.chunks([i for i, _ in best])  # a chunk deleted since the lexicon was built is gone
        best = [(i, score) for i, score in best if i in chunks]
        if per_document is not None:
            taken: Counter[str] = Counter()
            capped = []
            for i, score in best:
                taken[chunks[i].source] += 1
                if taken[chunks[i].source] <= per_document:
                    capped.append((i, score))
            best = capped[:k]
        return [Hit(rank, score, chunks[i], dense.get(i)) for rank, (i, score) in enumerate(best, 1)]

    def settle(self, scores: dict[str, float], cosines: dict[str, float], vector: np.ndarray, cuts: set[int],
               weight: float, chunks: Callable[[list[str]], dict[str, Chunk]] | None = None) -> set[str]:
        """Rescore on exact vectors (Store.exact) the chunks whose side of a cut in the ranking by
        `scores` bf16's rounding could change. A score holds `weight` times the chunk's cosine to
        `vector` (`cosines`; a chunk without one has nothing to settle), and a stored cosine is within
        BF16_CHUNK_NOISE of the exact one, so only chunks that close to a cut are in doubt. Updates
        `scores` and `cosines` in place; settles at most MAX_EXACT chunks, and returns their ids."""
        chunks, exact = chunks or self.store.chunks, set()
        while len(exact) < MAX_EXACT:
            doubt = doubtful(scores, cosines.keys() - exact, cuts, weight)
            found = chunks(sorted(doubt, key=lambda i: -scores[i])[:MAX_EXACT - len(exact)])
            if not found:
                break
            for i, (chunk_vector, _) in self.store.exact(list(found.values())).items():
                cosine = float(chunk_vector @ vector)
                scores[i] += weight * (cosine - cosines[i])
                cosines[i] = cosine
                exact.add(i)
        return exact


def doubtful(scores: dict[str, float], noisy: set[str], cuts: set[int], weight: float) -> set[str]:
    """The `noisy` chunks (scores holding `weight` times a stored bf16 cosine) that bf16's rounding
    could move across one of the `cuts` of the ranking by `scores`."""
    order = sorted(scores, key=lambda i: (-scores[i], i))
    slack = {i: weight * BF16_CHUNK_NOISE if i in noisy else 0.0 for i in order}
    out: set[str] = set()
    for cut in (c for c in cuts if 0 < c < len(order)):
        low = min(scores[i] - slack[i] for i in order[:cut])  # the weakest that may be in
        high = max(scores[i] + slack[i] for i in order[cut:])  # the strongest that may be out
        out |= {i for i in order[:cut] if slack[i] and scores[i] - slack[i] <= high}
        out |= {i for i in order[cut:] if slack[i] and scores[i] + slack[i] >= low}
    return out
