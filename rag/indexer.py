"""`rag index`: load, chunk and embed files into the store, incrementally.

LangChain's indexing API does the bookkeeping: each chunk's id is derived from its content and
location, the record manager remembers which ids are in Chroma, so unchanged chunks are skipped
(never re-embedded) and the chunks a changed file no longer has are deleted ("scoped_full" cleans
up once at the end, so a file larger than one batch is not re-embedded). Files that disappeared
from a folder are pruned afterwards."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.indexing import index
from tqdm import tqdm

from rag.chunking import make_splitter, split
from rag.config import Settings
from rag.errors import LoadError, LoadWarning
from rag.loaders import discover, load
from rag.store import Store, chunk_to_document


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

    def documents() -> Iterator[Document]:
        files = list(discover(paths))
        bar_off = None if progress is None else not progress  # None: tqdm shows the bar on a TTY only
        for root, path in tqdm(files, desc="indexing", unit="file", disable=bar_off):
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
            store.put_pages(root_key, pages)
            for page in pages:
                for chunk in split(page, splitter):
                    yield chunk_to_document(chunk)

    result = index(documents(), store.records, store.vectors, cleanup="scoped_full", source_id_key="source",
                   key_encoder=lambda doc: doc.metadata["chunk_id"], batch_size=256)
    report.added, report.skipped, report.deleted = result["num_added"], result["num_skipped"], result["num_deleted"]
    if prune:
        for root in {str(p.resolve()) for p in paths if p.is_dir()}:
            for source in sorted(set(store.sources(root)) - seen.get(root, set())):
                report.deleted += store.delete_source(source)
                report.removed_sources.append(source)
    store.sync_sentence_vectors(progress)
    return report
