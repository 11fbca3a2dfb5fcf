"""The core facade that every face (CLI, HTTP API, UI, eval) calls: one object holds the settings,
the model and the store, loaded once, and exposes the operations users have."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from rag.answer.pipeline import Answerer
from rag.config import Settings
from rag.embeddings import Embedder
from rag.indexer import IndexReport, index_paths
from rag.retrieval import Retriever
from rag.store import Store
from rag.types import Answer, Hit


class Rag:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        """`embedder` lets several indexes in one process (tests, eval) share one loaded model."""
        self.settings = settings or Settings()
        self.embedder = embedder or Embedder(self.settings.embed_model)

    @cached_property
    def store(self) -> Store:
        return Store(self.settings, self.embedder)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.embedder, self.settings)

    @cached_property
    def answerer(self) -> Answerer:
        return Answerer(self.retriever, self.embedder, self.settings)

    def index(self, paths: list[Path], *, prune: bool = True, progress: bool | None = None) -> IndexReport:
        report = index_paths(paths, self.settings, self.store, prune=prune, progress=progress)
        for stale in ("retriever", "answerer"):  # the next search sees the new chunks
            self.__dict__.pop(stale, None)
        return report

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        return self.retriever.search(question, k)

    def ask(self, question: str, history: list[dict] | None = None, *, use_llm: bool = False,
            k: int | None = None) -> Answer:
        return self.answerer.ask(question, history, use_llm=use_llm, k=k)
