"""The persisted lexical index (rag.lexicon): written by writers, mapped in by readers, and followed by
a running server when another process changes the index."""

from __future__ import annotations

import math
import shutil
import subprocess
import threading
from collections import Counter

import httpx
import pytest

from rag.answer.text import content_terms
from rag.config import Settings
from rag.errors import IndexNotFoundError
from rag.lexicon import FOLDER, current_build
from rag.service import Rag
from rag.store import Store

from .rag_server import RAG, rag_server

QUESTION = "Who trained Ukrainian troops?"


def fresh(rag: Rag) -> Rag:
    """Another process's view of the same index folder."""
    return Rag(rag.settings, rag.embedder)


def test_a_reader_maps_the_published_lexicon_instead_of_reading_every_chunk(rag, corpus, monkeypatch):
    rag.index([corpus], progress=False)
    expected = [h.to_dict() for h in rag.search(QUESTION)]
    monkeypatch.setattr(Store, "all_chunks", lambda self: pytest.fail("the reader rebuilt the lexicon"))
    assert [h.to_dict() for h in fresh(rag).search(QUESTION)] == expected


def test_a_run_that_changes_no_chunk_restamps_the_build_without_rebuilding_it(rag, corpus):
    rag.index([corpus], progress=False)
    build = current_build(rag.settings.index_dir)
    rag.index([corpus], progress=False)
    assert current_build(rag.settings.index_dir) == build
    assert fresh(rag).retriever.lexicon.stamp == rag.store.stamp()


def test_a_run_that_changes_chunks_publishes_a_new_build_and_removes_the_old(rag, corpus):
    rag.index([corpus], progress=False)
    old = current_build(rag.settings.index_dir)
    (corpus / "walrus.txt").write_text("Walruses haul out on the ice of the Laptev Sea.", encoding="utf-8")
    rag.index([corpus], progress=False)
    assert current_build(rag.settings.index_dir) != old
    assert [p.name for p in (rag.settings.index_dir / FOLDER).glob("build-*")] == [current_build(rag.settings.index_dir)]
    assert fresh(rag).search("Where do walruses haul out?")[0].chunk.source == "walrus.txt"


def test_an_index_without_a_lexicon_is_answered_and_gets_one(rag, corpus):
    """An index written by a version before the lexicon was kept on disk."""
    rag.index([corpus], progress=False)
    expected = [h.to_dict() for h in rag.search(QUESTION)]
    shutil.rmtree(rag.settings.index_dir / FOLDER)
    assert [h.to_dict() for h in fresh(rag).search(QUESTION)] == expected
    assert current_build(rag.settings.index_dir) is not None


def test_removing_every_document_leaves_an_empty_index_that_says_so(rag, corpus):
    rag.index([corpus], progress=False)
    for document in rag.documents():
        rag.remove(document["source"])
    with pytest.raises(IndexNotFoundError, match="is empty"):
        fresh(rag).search(QUESTION)


def test_the_persisted_document_frequencies_give_the_idf_of_the_chunks(rag, corpus):
    rag.index([corpus], progress=False)
    chunks = rag.store.all_chunks()
    df = Counter(t for c in chunks for t in content_terms(c.text))
    idf = fresh(rag).retriever.idf
    for term in [*df, "zyzzyva"]:
        assert idf(term) == pytest.approx(math.log((len(chunks) + 1) / (df.get(term, 0) + 0.5))), term


def test_a_process_that_found_the_index_empty_answers_once_another_process_indexed_it(rag, corpus):
    with pytest.raises(IndexNotFoundError):
        rag.search(QUESTION)
    subprocess.run([RAG, "index", str(corpus), "--index", str(rag.settings.index_dir)], check=True,
                   capture_output=True)
    assert "Ukrain" in rag.search(QUESTION)[0].chunk.text
    assert len(rag.search("zebra migration", 3)) == 3  # no word in the corpus: every hit comes from the vectors


@pytest.mark.server
def test_a_running_server_answers_from_what_another_process_indexed_with_no_failed_request(tmp_path, corpus, embedder):
    index_dir = tmp_path / "served"
    Rag(Settings(index_dir=index_dir), embedder).index([corpus], progress=False)
    question = {"question": "Who kept the lighthouse at Carrick Fell in 1894?"}
    with rag_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert client.post("/v1/ask", json=question).json()["abstained"]
        statuses, stop = [], threading.Event()

        def keep_asking() -> None:  # requests in flight while the other process writes and the server reloads
            with httpx.Client(base_url=url, timeout=60) as own:
                while not stop.is_set():
                    statuses.append(own.post("/v1/ask", json={"question": QUESTION}).status_code)

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            (corpus / "carrick.txt").write_text(
                "Carrick Fell lighthouse was kept in 1894 by Evander Quist, who lit its lamp every evening for "
                "thirty years.", encoding="utf-8")
            subprocess.run([RAG, "index", str(corpus), "--index", str(index_dir)], check=True, capture_output=True)
            answer = client.post("/v1/ask", json=question).json()
        finally:
            stop.set()
            asker.join()
    assert not answer["abstained"] and "Evander Quist" in answer["answer"]
    assert {c["source"] for c in answer["citations"]} == {"carrick.txt"}
    assert statuses and set(statuses) == {200}
