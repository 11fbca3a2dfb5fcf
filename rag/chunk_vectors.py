"""LangChain's Chroma vector store, embedding each batch of chunks with their sentences in one pass.

Kept apart from rag.store because importing langchain_chroma costs about a second: only writes use it."""

from __future__ import annotations

from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from rag.embeddings import Embedder
from rag.store import encode_chunks

Embeddings.register(Embedder)


class ChunkVectors(Chroma):
    """Chroma that embeds each batch of chunks (with their context) and their sentences in one encoder pass, and hands
    the sentence vectors to `on_sentences` (chunk id -> one row per sentence); the ids of the chunks it deletes
    go to `on_delete` (the Store forgets the chunks it keeps in memory)."""

    def __init__(self, *args, on_sentences, on_delete, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._on_sentences, self._on_delete = on_sentences, on_delete

    def add_texts(self, texts, metadatas=None, ids=None, **kwargs) -> list[str]:
        texts = list(texts)  # LangChain's index() always passes ids and metadatas
        vectors, sentences = encode_chunks(self._embedding_function, texts, [m.get("context", "") for m in metadatas])
        self._collection.upsert(ids=ids, embeddings=vectors, documents=texts, metadatas=metadatas)
        self._on_sentences(dict(zip(ids, sentences)))
        return ids

    def delete(self, ids: list[str] | None = None, **kwargs) -> None:
        super().delete(ids, **kwargs)
        self._on_delete(ids or [])
