"""`rag index`: load, chunk and embed files into the store, incrementally.

LangChain's indexing API does the bookkeeping: each chunk's id is derived from its content and
location, the record manager remembers which ids are in Chroma, so unchanged chunks are skipped
(never re-embedded) and the chunks a changed file no longer has are deleted ("scoped_full" cleans
up once at the end, so a file larger than one batch is not re-embedded). Files that disappeared
from a folder are pruned afterwards.

Reading files runs a batch ahead of embedding, in a thread of its own (`_read_ahead`): PDFium, the
layout cleanup and OCR then overlap the encoder, which releases the GIL. Batches are large
(BATCH) because the encoder sorts each batch by length before padding it."""

from __future__ import annotations

import queue
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.indexing import index
from tqdm import tqdm

from rag.cards import make_card
from rag.chunking import make_splitter, split
from rag.config import Settings
from rag.errors import LoadError, LoadWarning
from rag.loaders import discover, load
from rag.store import Store, chunk_to_document

# Chunks per batch of LangChain's index(): each batch is one call of the encoder, which sorts its texts
# by length so that batches of similar lengths are padded little. Over the agency PDFs, 1,024 pads
# the 342k tokens by 14%, 256 by 26%.
BATCH = 1024


@dataclass
class IndexReport:
    files: int = 0
    added: int = 0
    skipped: int = 0
    deleted: int = 0
    removed_sources: list[str] = field(default_factory=list)
    failures: list[LoadError] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)  # indexed, but not all of it (scanned pages, no OCR)

    def summary(self) -> str:
        text = (f"{self.files} file(s) indexed: {self.added} chunk(s) embedded, {self.skipped} unchanged, "
                f"{self.deleted} deleted")
        if self.removed_sources:
            text += f"; removed {len(self.removed_sources)} missing file(s): {', '.join(self.removed_sources)}"
        return text


def index_paths(paths: list[Path], settings: Settings, store: Store, *, prune: bool = True,
                progress: bool | None = None) -> IndexReport:
    """Index files and folders. `progress=None` shows a bar only on a terminal."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    store.reconcile()  # a previous run may have been killed half way
    report = IndexReport()
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    max_bytes = int(settings.max_file_mb * 1e6)
    seen: dict[str, set[str]] = {}  # root -> sources present on disk (loaded or not)

    def documents(stop: threading.Event) -> Iterator[Document]:
        files = list(discover(paths))
        bar_off = None if progress is None else not progress  # None: tqdm shows the bar on a TTY only
        for root, path in tqdm(files, desc="indexing", unit="file", disable=bar_off):
            if stop.is_set():
                return
            root_key = str(root.resolve())
            source = path.relative_to(root).as_posix()
            seen.setdefault(root_key, set()).add(source)
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", LoadWarning)
                    pages = load(path, source, max_bytes, settings)
            except LoadError as e:
                report.failures.append(e)
                continue
            report.warnings += [w.message for w in caught if isinstance(w.message, LoadWarning)]
            report.files += 1
            card = make_card(pages)
            store.put_pages(root_key, pages, card)
            for page in pages:
                for chunk in split(page, splitter, card.label):
                    yield chunk_to_document(chunk)

    with _read_ahead(documents, BATCH) as chunks:
        result = index(chunks, store.records, store.vectors, cleanup="scoped_full", source_id_key="source",
                       key_encoder=lambda doc: doc.metadata["chunk_id"], batch_size=BATCH)
    report.added, report.skipped, report.deleted = result["num_added"], result["num_skipped"], result["num_deleted"]
    if prune:
        for root in {str(p.resolve()) for p in paths if p.is_dir()}:
            for source in sorted(set(store.sources(root)) - seen.get(root, set())):
                report.deleted += store.delete_source(source)
                report.removed_sources.append(source)
    store.sync_sentence_vectors(progress)
    store.sync_card_vectors()
    return report


@contextmanager
def _read_ahead(produce: Callable[[threading.Event], Iterator[Document]],
                ahead: int) -> Iterator[Iterator[Document]]:
    """What `produce(stop)` yields, run in a thread of its own up to `ahead` items ahead of the
    consumer; an exception raised there is raised here. Leaving the block, even by an exception, sets
    `stop` and waits for the thread, which `produce` should end at its next file: the thread writes
    page texts, which must not outlive the caller's lock on the index folder.

    `warnings.catch_warnings` in the reading thread (how loaders report scanned pages left out) is
    process-wide: a warning the main thread issues meanwhile is recorded there and dropped, not shown."""
    handoff: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()
    done = object()

    def run() -> None:
        try:
            for item in produce(stop):
                if stop.is_set():
                    return
                handoff.put((item, None))
            handoff.put((done, None))
        except BaseException as e:  # noqa: BLE001 - re-raised in the consumer
            handoff.put((done, e))

    def consume() -> Iterator[Document]:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item

    reader = threading.Thread(target=run, name="rag-read-ahead", daemon=True)
    reader.start()
    try:
        yield consume()
    finally:
        stop.set()
        # A put() blocked on a full queue returns once the queue is emptied; the thread then sees `stop`
        # before its next put(), or makes its last one (done, or an error) into the emptied queue.
        while not handoff.empty():
            handoff.get_nowait()
        reader.join()
