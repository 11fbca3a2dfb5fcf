"""The core facade that every face (CLI, HTTP API, UI, eval) calls: one object holds the settings,
the model and the store, loaded once, and exposes the operations users have."""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path, PurePosixPath

from rag.answer.pipeline import Answerer
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import DocumentNotFoundError, IndexNotFoundError
from rag.indexer import IndexReport, index_paths
from rag.loaders import LOADERS
from rag.retrieval import Retriever
from rag.store import Store
from rag.types import Answer, Hit


class Rag:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        """`embedder` lets several indexes in one process (tests, eval) share one loaded model."""
        self.settings = settings or Settings()
        self.embedder = embedder or Embedder(self.settings.embed_model)
        self._writing = threading.RLock()  # one index change at a time; searches go on meanwhile

    @cached_property
    def store(self) -> Store:
        return Store(self.settings, self.embedder)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.embedder, self.settings)

    @cached_property
    def answerer(self) -> Answerer:
        return Answerer(self.retriever, self.embedder, self.settings)

    def warm_up(self) -> None:
        """Load the model and the index now, so that a server's first request is as fast as the rest."""
        self.embedder.encode(["warm up"])
        try:
            self.answerer
        except IndexNotFoundError:
            pass  # an empty index: a server still starts, and documents can be uploaded

    def index(self, paths: list[Path], *, prune: bool = True, progress: bool | None = None) -> IndexReport:
        with self._writing:
            report = index_paths(paths, self.settings, self.store, prune=prune, progress=progress)
            self._forget_retriever()
        return report

    def _forget_retriever(self) -> None:
        for stale in ("retriever", "answerer"):  # the next search sees the new chunks
            self.__dict__.pop(stale, None)

    def documents(self) -> list[dict]:
        """What is indexed: source, pages, chunks, and whether it was uploaded (API/UI) or indexed from a folder."""
        uploads = str(self.settings.uploads.resolve())
        return [{"source": d["source"], "pages": d["pages"], "chunks": d["chunks"], "uploaded": d["root"] == uploads}
                for d in self.store.documents()]

    def add(self, files: dict[str, bytes], progress: bool | None = False) -> IndexReport:
        """Save uploaded files into the uploads folder and index them; a file that fails to load is
        reported in the report's failures and not kept."""
        folder = self.settings.uploads
        named = {upload_name(name): data for name, data in files.items()}  # every name checked before a write
        with self._writing:
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in named.items():
                (folder / name).write_bytes(data)
            report = self.index([folder], progress=progress)
            for failure in report.failures:
                Path(failure.path).unlink(missing_ok=True)
        return report

    def remove(self, source: str) -> int:
        """Delete a document from the index (and from the uploads folder, if it was uploaded)."""
        with self._writing:
            document = next((d for d in self.documents() if d["source"] == source), None)
            if document is None:
                raise DocumentNotFoundError(f"no indexed document is called {source!r}")
            if document["uploaded"]:
                (self.settings.uploads / source).unlink(missing_ok=True)
            removed = self.store.delete_source(source)
            self.store.sync_sentence_vectors(progress=False)
            self._forget_retriever()
        return removed

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        return self.retriever.search(question, k)

    def ask(self, question: str, history: list[dict] | None = None, *, use_llm: bool = False,
            k: int | None = None) -> Answer:
        return self.answerer.ask(question, history, use_llm=use_llm, k=k)


def upload_name(name: str) -> str:
    """The file name an upload is stored under, or ValueError: no folders, no hidden files, a known type."""
    base = PurePosixPath(name.replace("\\", "/")).name  # a browser may send C:\path\file.pdf
    if not base.strip() or base.startswith("."):
        raise ValueError(f"{name!r} is not a usable file name")
    if Path(base).suffix.lower() not in LOADERS:
        raise ValueError(f"{base!r}: unsupported file type; supported: {', '.join(sorted(LOADERS))}")
    return base
