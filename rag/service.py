"""The core facade that every face (CLI, HTTP API, UI, eval) calls: one object holds the settings,
the model and the store, loaded once, and exposes the operations users have."""

from __future__ import annotations

import fnmatch
import logging
import shutil
import threading
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock, Timeout

from rag.answer.pipeline import Answerer
from rag.answer.reader import reader
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import DocumentNotFoundError, IndexLockedError, IndexNotFoundError, UnknownSourceError
from rag.lexicon import FOLDER, Lexicon, published
from rag.loaders import LOADERS
from rag.retrieval import Retriever
from rag.store import Store
from rag.types import Answer, Chunk, Hit

if TYPE_CHECKING:
    from rag.indexer import IndexReport

log = logging.getLogger(__name__)


class Rag:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        """`embedder` lets several indexes in one process (tests, eval) share one loaded model."""
        self.settings = settings or Settings()
        self.embedder = embedder or Embedder(self.settings.embed_model, precision=self.settings.embed_precision,
                                             cache_dir=self.settings.cache_dir)
        self._writing = threading.RLock()  # one index change at a time; searches go on meanwhile
        self._reloading = threading.Lock()
        self._seen: tuple[int, int] | None = None  # the lexicon build the answerer was loaded with
        self._reread = False
        self._folder_lock = FileLock(self.settings.index_dir / ".write.lock")

    @cached_property
    def store(self) -> Store:
        return Store(self.settings, self.embedder, reread=self._reread)

    @cached_property
    def retriever(self) -> Retriever:
        self._seen = published(self.settings.index_dir)  # before loading: a newer build means a reload
        return Retriever(self.store, self.embedder, self.settings, self._lexicon())

    @cached_property
    def answerer(self) -> Answerer:
        return Answerer(self.retriever, self.embedder, self.settings)

    def _current(self) -> Answerer:
        """The answerer over the index as it is now. Another process that writes into the index folder
        publishes a new lexicon build (rag.lexicon) as its last step; seeing one (a stat() per request)
        reopens the index: Chroma's folder read anew, the new build mapped in. Requests in flight finish
        on the objects they hold, so none fails during a reload."""
        if published(self.settings.index_dir) != self._seen:
            with self._reloading:
                if published(self.settings.index_dir) != self._seen:
                    self._forget_index()
                return self.answerer
        return self.answerer

    def _forget_index(self) -> None:
        self._reread = True
        for stale in ("store", "retriever", "answerer"):
            self.__dict__.pop(stale, None)

    def _lexicon(self) -> Lexicon | None:
        """The published lexicon if it matches the records; else rebuilt and published, or, while
        another process holds the index folder, the last published one (that writer publishes anew)."""
        lexicon = Lexicon.load(self.settings.index_dir)
        if lexicon is not None and lexicon.stamp == self.store.stamp():
            return lexicon
        try:
            with self._exclusive(wait=False):
                return self._publish_lexicon()
        except IndexLockedError:
            return lexicon or self._build_lexicon()

    def _build_lexicon(self) -> Lexicon | None:
        chunks = self.store.all_chunks()
        return Lexicon.build(chunks, self.store.stamp()) if chunks else None

    def _publish_lexicon(self) -> Lexicon | None:
        """Bring the published lexicon up to the records, under the writer's lock. A run that changed
        no chunk only refreshed the records' timestamps: the build is restamped, not rebuilt."""
        index_dir, stamp = self.settings.index_dir, self.store.stamp()
        lexicon = Lexicon.load(index_dir)
        if lexicon is not None and lexicon.stamp == stamp:
            return lexicon
        if lexicon is not None and set(lexicon.ids.tolist()) == {k.encode() for k in self.store.records.list_keys()}:
            lexicon.restamp(index_dir, stamp)
            return lexicon
        lexicon = self._build_lexicon()
        if lexicon is None:
            shutil.rmtree(index_dir / FOLDER, ignore_errors=True)
        else:
            lexicon.save(index_dir)
        return lexicon

    def warm_up(self) -> None:
        """Load the model and the index now, so that a server's first request is as fast as the rest
        and a one-off `rag ask` starts sooner: both at once, as each spends most of its time in native
        code that releases the GIL (ONNX Runtime's session; Chroma reads its vector index at the first
        query, 0.7 s at 100k chunks, hence a search with a unit vector), and the reading model with them."""
        with ThreadPoolExecutor(2) as pool:
            model = pool.submit(self.embedder.encode, ["warm up"])
            reading = pool.submit(lambda: reader().read("warm up", ["warm up"]))
            try:
                unit = np.eye(1, self.embedder.dimension, dtype=np.float32)[0]
                self._current().retriever.dense(unit, 1)
            except IndexNotFoundError:
                pass  # an empty index: a server still starts, and documents can be uploaded
            model.result()
            reading.result()

    @contextmanager
    def _exclusive(self, *, wait: bool = True) -> Iterator[None]:
        """Hold the index folder for one writer: threads of this process queue on `_writing`, other
        processes on an flock of `<index>/.write.lock`, waiting up to RAG_LOCK_TIMEOUT (`wait=False`:
        IndexLockedError at once). Two writers that interleave would each clean up what the other just
        added. The OS drops the lock when its holder dies, even by SIGKILL, so a crashed run never
        leaves the folder locked.

        Limitation: the lock lives in the local index folder even when RAG_CHROMA_URL points to a
        shared Chroma server, so it keeps apart only writers that use the same index folder."""
        if not self._writing.acquire(blocking=wait):
            raise IndexLockedError("this process is writing to the index")
        try:
            self.settings.index_dir.mkdir(parents=True, exist_ok=True)
            try:
                try:
                    self._folder_lock.acquire(timeout=0)
                except Timeout:
                    if not wait:
                        raise
                    # say so, or a user sees a command that hangs for no reason
                    log.warning("another process is indexing into %s: waiting for it to finish (up to %g s, "
                                "RAG_LOCK_TIMEOUT)", self.settings.index_dir, self.settings.lock_timeout)
                    self._folder_lock.acquire(timeout=self.settings.lock_timeout)
            except Timeout:
                raise IndexLockedError(
                    f"another process is indexing into {self.settings.index_dir}: gave up after waiting "
                    f"{self.settings.lock_timeout:g} s for it to finish (RAG_LOCK_TIMEOUT)") from None
            try:
                yield
            finally:
                self._folder_lock.release()
        finally:
            self._writing.release()

    def index(self, paths: list[Path], *, prune: bool = True, progress: bool | None = None) -> IndexReport:
        # LangChain's indexing API costs a second to import, which only writes need to pay
        from rag.indexer import index_paths

        with self._exclusive():
            report = index_paths(paths, self.settings, self.store, prune=prune, progress=progress)
            self._publish_lexicon()
        return report

    def documents(self) -> list[dict]:
        """What is indexed: source, pages, chunks, whether it was uploaded (API/UI) or indexed from a
        folder, its type, its file's size (None once the file is gone), when it was last indexed, and
        what its card says it is (title, names, dates; date: the first of them, rag.cards)."""
        uploads = str(self.settings.uploads.resolve())
        return [{"source": d["source"], "pages": d["pages"], "chunks": d["chunks"], "uploaded": d["root"] == uploads,
                 "type": Path(d["source"]).suffix.lstrip(".").lower(), "size": _size(Path(d["root"]) / d["source"]),
                 "indexed": None if d["indexed"] is None else
                 datetime.fromtimestamp(d["indexed"], timezone.utc).isoformat(timespec="seconds")} | d["card"]
                for d in self.store.documents()]

    def passages(self, source: str) -> list[Chunk]:
        """The indexed passages of one document, in reading order."""
        if source not in self.store.sources():
            raise DocumentNotFoundError(f"no indexed document is called {source!r}")
        chunks = self.store.chunks(self.store.chunk_ids([source]))
        return sorted(chunks.values(), key=lambda c: (c.page or 0, c.start))

    def add(self, files: dict[str, bytes], progress: bool | None = False) -> IndexReport:
        """Save uploaded files into the uploads folder and index them; a file that fails to load is
        reported in the report's failures and not kept."""
        folder = self.settings.uploads
        named = {upload_name(name): data for name, data in files.items()}  # every name checked before a write
        with self._exclusive():
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in named.items():
                (folder / name).write_bytes(data)
            # only these files: walking the whole uploads folder per upload grows with every upload
            report = self.index([folder / name for name in named], prune=False, progress=progress)
            for failure in report.failures:
                Path(failure.path).unlink(missing_ok=True)
        return report

    def remove(self, source: str) -> int:
        """Delete a document from the index (and from the uploads folder, if it was uploaded)."""
        with self._exclusive():
            document = next((d for d in self.documents() if d["source"] == source), None)
            if document is None:
                raise DocumentNotFoundError(f"no indexed document is called {source!r}")
            if document["uploaded"]:
                (self.settings.uploads / source).unlink(missing_ok=True)
            removed = self.store.delete_source(source)
            self.store.sync_sentence_vectors(progress=False)
            self._publish_lexicon()
        return removed

    def search(self, question: str, k: int | None = None, sources: list[str] | None = None,
               per_document: int | None = None) -> list[Hit]:
        return self._current().retriever.search(question, k, sources=self.scope(sources), per_document=per_document)

    def ask(self, question: str, history: list[dict] | None = None, *, use_llm: bool = False,
            k: int | None = None, on_token: Callable[[str], None] | None = None,
            sources: list[str] | None = None) -> Answer:
        """`on_token` sees the LLM's unchecked draft as it streams (the UI shows it as a draft); an
        exception it raises ends the stream and the call (the UI's Stop). `sources`: see `scope`."""
        return self._current().ask(question, history, use_llm=use_llm, k=k, on_token=on_token,
                                   sources=self.scope(sources))

    def scope(self, patterns: list[str] | None) -> frozenset[str] | None:
        """The indexed documents that glob patterns name (None or [] = all): a pattern matches a
        source path as indexed ("reports/*.pdf", "*2023*") or, without wildcards, a folder it is in
        ("agency" = "agency/…"). A pattern that matches nothing is an error, not an empty scope: a
        typo must not answer "not in the documents"."""
        if not patterns:
            return None
        indexed = self.store.sources()
        chosen: set[str] = set()
        for pattern in patterns:
            folder = pattern.rstrip("/") + "/"
            found = {s for s in indexed if fnmatch.fnmatchcase(s, pattern) or s.startswith(folder)}
            if not found:
                raise UnknownSourceError(f"no indexed document matches {pattern!r} (see `rag documents`)")
            chosen |= found
        return frozenset(chosen)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def upload_name(name: str) -> str:
    """The file name an upload is stored under, or ValueError: no folders, no hidden files, a known type."""
    base = PurePosixPath(name.replace("\\", "/")).name  # a browser may send C:\path\file.pdf; "../x" -> "x"
    if (not base.strip() or base.startswith(".") or len(base.encode()) > 255
            or any(unicodedata.category(ch)[0] == "C" for ch in base)):  # control, format, unassigned chars
        raise ValueError(f"{name!r} is not a usable file name")
    if Path(base).suffix.lower() not in LOADERS:
        raise ValueError(f"{base!r}: unsupported file type; supported: {', '.join(sorted(LOADERS))}")
    return base
