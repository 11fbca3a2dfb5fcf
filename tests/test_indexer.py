import sqlite3
import threading
from pathlib import Path

import pytest

from rag.service import Rag

from .files import write_docx, write_html, write_pdf


def stored_chunks(rag: Rag):
    return sorted(rag.store.all_chunks(), key=lambda c: (c.source, c.page or 0, c.start))


def test_every_chunk_of_every_format_is_an_exact_span_of_the_stored_text(rag, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    body = "The lighthouse keeper lit the lamp at dusk. " * 30
    (docs / "a.txt").write_text(body, encoding="utf-8")
    (docs / "b.md").write_text("# Notes\n\n" + body, encoding="utf-8")
    write_html(docs / "c.html", f"<p>{body}</p>")
    write_pdf(docs / "d.pdf", [body, "Second page: " + body])
    write_docx(docs / "e.docx", [body, body])
    report = rag.index([docs], progress=False)
    assert report.files == 5 and not report.failures
    chunks = stored_chunks(rag)
    assert {c.source for c in chunks} == {"a.txt", "b.md", "c.html", "d.pdf", "e.docx"}
    assert {c.page for c in chunks if c.source == "d.pdf"} == {1, 2}
    for c in chunks:
        assert rag.store.page_text(c.source, c.page)[c.start:c.end] == c.text


def test_plain_text_offsets_index_the_file_itself(rag, corpus):
    rag.index([corpus], progress=False)
    for c in stored_chunks(rag):
        assert (corpus / c.source).read_text(encoding="utf-8")[c.start:c.end] == c.text


def test_reindexing_an_unchanged_folder_embeds_nothing_and_keeps_results(rag, corpus):
    first = rag.index([corpus], progress=False)
    before = [h.to_dict() for h in rag.search("Who trained Ukrainian troops?")]
    again = rag.index([corpus], progress=False)
    assert first.added > 0
    assert (again.added, again.deleted, again.skipped) == (0, 0, first.added)
    assert [h.to_dict() for h in rag.search("Who trained Ukrainian troops?")] == before


def test_editing_one_file_reembeds_only_that_file(rag, corpus):
    (corpus / "other.txt").write_text("Penguins live in the southern hemisphere. " * 20, encoding="utf-8")
    rag.index([corpus], progress=False)
    other_ids = {c.id for c in rag.store.all_chunks() if c.source == "other.txt"}
    (corpus / "other.txt").write_text("Walruses live in the Arctic.", encoding="utf-8")
    report = rag.index([corpus], progress=False)
    assert report.added == 1 and report.deleted == len(other_ids)
    assert [c.text for c in rag.store.all_chunks() if c.source == "other.txt"] == ["Walruses live in the Arctic."]


def test_a_deleted_file_disappears_from_search(rag, corpus):
    (corpus / "other.txt").write_text("Penguins live in the southern hemisphere.", encoding="utf-8")
    rag.index([corpus], progress=False)
    (corpus / "other.txt").unlink()
    report = rag.index([corpus], progress=False)
    assert report.removed_sources == ["other.txt"]
    assert all(h.chunk.source != "other.txt" for h in rag.search("Where do penguins live?", 10))
    assert rag.store.page_text("other.txt", None) is None


def test_a_chunk_read_once_is_not_served_from_memory_after_its_file_changed(rag, corpus):
    (corpus / "other.txt").write_text("Penguins live in the southern hemisphere.", encoding="utf-8")
    rag.index([corpus], progress=False)
    store = rag.store
    old = [c.id for c in store.all_chunks() if c.source == "other.txt"]
    assert store.chunks(old)  # read, and kept
    (corpus / "other.txt").write_text("Walruses live in the Arctic.", encoding="utf-8")
    rag.index([corpus], progress=False)  # LangChain's cleanup deletes the old chunk
    assert store.chunks(old) == {}


def test_a_chunk_read_once_is_not_served_from_memory_after_its_document_was_removed(rag, corpus):
    (corpus / "other.txt").write_text("Penguins live in the southern hemisphere.", encoding="utf-8")
    rag.index([corpus], progress=False)
    store = rag.store
    old = [c.id for c in store.all_chunks() if c.source == "other.txt"]
    assert store.chunks(old)
    rag.remove("other.txt")
    assert store.chunks(old) == {}


def test_no_prune_keeps_chunks_of_deleted_files(rag, corpus):
    (corpus / "other.txt").write_text("Penguins live in the southern hemisphere.", encoding="utf-8")
    rag.index([corpus], progress=False)
    (corpus / "other.txt").unlink()
    assert rag.index([corpus], prune=False, progress=False).removed_sources == []
    assert "other.txt" in {c.source for c in rag.store.all_chunks()}


def test_broken_files_are_reported_and_the_rest_is_indexed(rag, corpus):
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 100)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (corpus / "huge-line.txt").write_text("word " * 100_000, encoding="utf-8")
    report = rag.index([corpus], progress=False)
    assert sorted(Path(f.path).name for f in report.failures) == ["binary.txt", "broken.pdf", "empty.md"]
    assert {c.source for c in rag.store.all_chunks()} == {"000_aea647b47e874b1a.txt", "huge-line.txt"}


def test_a_file_that_breaks_later_keeps_its_previous_chunks(rag, corpus):
    rag.index([corpus], progress=False)
    before = stored_chunks(rag)
    (corpus / "000_aea647b47e874b1a.txt").write_bytes(b"\xff\xfe broken \x00 bytes")
    report = rag.index([corpus], progress=False)
    assert len(report.failures) == 1 and report.deleted == 0
    assert stored_chunks(rag) == before


def test_indexing_stores_sentence_vectors_for_exactly_the_indexed_chunks(rag, corpus):
    (corpus / "other.txt").write_text("Penguins live in the southern hemisphere. They eat fish.", encoding="utf-8")
    rag.index([corpus], progress=False)
    assert rag.store.sentence_vector_ids() == {c.id for c in rag.store.all_chunks()}
    (corpus / "other.txt").unlink()
    rag.index([corpus], progress=False)
    assert rag.store.sentence_vector_ids() == {c.id for c in rag.store.all_chunks()}


def test_sentence_vectors_missing_from_an_index_are_computed_when_asked(rag, corpus):
    rag.index([corpus], progress=False)
    expected = rag.ask("How many Ukrainian troops have French forces trained?").to_dict()
    with sqlite3.connect(rag.settings.index_dir / "records.sqlite") as db:
        db.execute("DELETE FROM sentence_vectors")
    again = rag.ask("How many Ukrainian troops have French forces trained?").to_dict()
    assert again["answer"] == expected["answer"]
    # recomputed in another batch, a bf16 vector moves by ~1e-3: the same citations, scores within noise
    unscored = lambda answer: [{**c, "score": None} for c in answer["citations"]]  # noqa: E731
    assert unscored(again) == unscored(expected)
    assert [c["score"] for c in again["citations"]] == pytest.approx(
        [c["score"] for c in expected["citations"]], abs=0.01)
    assert rag.store.sentence_vector_ids()


def test_reading_every_chunk_pages_through_the_collection(seed_rag):
    """Chroma refuses one get() of everything past ~30k chunks, so the store reads pages."""
    store = seed_rag.store
    whole = store.collection.get(include=["documents"])
    paged = store._get_all(["documents"], page=2)
    assert sorted(zip(paged["ids"], paged["documents"])) == sorted(zip(whole["ids"], whole["documents"]))
    assert len(paged["ids"]) == store.count() > 2


def test_files_are_read_in_a_thread_of_their_own_ahead_of_the_encoder(rag, corpus, monkeypatch):
    from rag import indexer

    readers = []
    real_load = indexer.load

    def load(*args, **kwargs):
        readers.append(threading.current_thread().name)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(indexer, "load", load)
    report = rag.index([corpus], progress=False)
    assert report.files == len(readers) == len(list(corpus.iterdir())) and set(readers) == {"rag-read-ahead"}
    assert rag.search("Who trained Ukrainian troops?")


def test_an_error_while_reading_stops_the_run_with_that_error(rag, corpus, monkeypatch):
    from rag import indexer

    def load(*args, **kwargs):
        raise MemoryError("out of memory while reading")

    monkeypatch.setattr(indexer, "load", load)
    with pytest.raises(MemoryError, match="while reading"):
        rag.index([corpus], progress=False)
    assert not [t for t in threading.enumerate() if t.name == "rag-read-ahead"]


def test_leaving_early_stops_the_reading_thread_at_its_next_file():
    from rag.indexer import _read_ahead

    started = []

    def produce(stop: threading.Event):
        for file in range(1000):
            if stop.is_set():
                return
            started.append(file)
            yield from [file] * 3  # three chunks per file

    with _read_ahead(produce, 2) as chunks:
        assert next(chunks) == 0
    assert not [t for t in threading.enumerate() if t.name == "rag-read-ahead"]
    assert len(started) <= 3  # the file being consumed, at most one queued ahead, one being read
