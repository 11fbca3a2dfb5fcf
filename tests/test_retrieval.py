
import pytest

from rag.config import Settings
from rag.errors import IndexNotFoundError
from rag.retrieval import doubtful
from rag.service import Rag

from .conftest import SEEDS


def test_the_passage_holding_the_answer_ranks_first(seed_rag):
    [top] = seed_rag.search("Which US president rejected Macron's proposal?", 1)
    assert "Joe Biden" in top.chunk.text


def test_names_and_numbers_are_found_lexically(seed_rag):
    [top] = seed_rag.search("Mirage 2000", 1)
    assert "Mirage 2000" in top.chunk.text


def test_hits_are_ranked_by_descending_score(seed_rag):
    hits = seed_rag.search("NATO trainers in Ukraine", 5)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_k_larger_than_the_index_returns_every_chunk_once(seed_rag):
    hits = seed_rag.search("Macron", 1000)
    assert len(hits) == len({h.chunk.id for h in hits}) == seed_rag.store.count()


def test_an_empty_question_is_refused(seed_rag):
    with pytest.raises(ValueError, match="empty"):
        seed_rag.search("   ")


def test_searching_an_empty_index_says_to_index_first(tmp_path, embedder):
    with pytest.raises(IndexNotFoundError, match="rag index"):
        Rag(Settings(index_dir=tmp_path / "nothing"), embedder).search("anything")


def test_a_chroma_server_gives_the_same_results_as_the_embedded_store(chroma_server, seed_rag, tmp_path, embedder):
    served = Rag(Settings(index_dir=tmp_path / "records", chroma_url=chroma_server), embedder)
    report = served.index([SEEDS], progress=False)
    assert report.added == seed_rag.store.count()
    question = "How many Ukrainian troops have French forces trained?"
    assert [h.to_dict() for h in served.search(question)] == [h.to_dict() for h in seed_rag.search(question)]


def test_a_chroma_server_answers_a_question_that_says_where_to_look_as_the_embedded_store_does(
        chroma_server, seed_rag, tmp_path, embedder):
    served = Rag(Settings(index_dir=tmp_path / "records", chroma_url=chroma_server), embedder)
    served.index([SEEDS], progress=False)
    question = "According to the Estonian prime minister, where were NATO trainers already operating?"
    assert served.ask(question).to_dict() | {"timings_ms": {}} == seed_rag.ask(question).to_dict() | {"timings_ms": {}}


def test_a_question_that_names_a_document_by_its_file_name_finds_that_document(rag, tmp_path):
    docs = tmp_path / "filings"
    for company, growth in [("acme", 12), ("globex", 3), ("initech", 7)]:
        (docs / company).mkdir(parents=True)
        (docs / company / "2023 quarterly report.txt").write_text(
            f"Revenue rose {growth}% in the second quarter, driven by services.", encoding="utf-8")
    rag.index([docs], progress=False)
    [top] = rag.search("How much did Globex's revenue rise in the second quarter?", 1)
    assert top.chunk.source == "globex/2023 quarterly report.txt"


def test_only_chunks_that_rounding_could_move_across_a_cut_are_in_doubt():
    """On a bf16 index a fused score holds 0.6 × a cosine that is within BF16_CHUNK_NOISE (0.005) of
    the exact one: two chunks 0.001 apart at the cut may be in either order, the others may not."""
    scores = {"a": 0.80, "b": 0.701, "c": 0.700, "d": 0.60}
    assert doubtful(scores, set(scores), {2}, weight=0.6) == {"b", "c"}
    assert doubtful(scores, set(scores), {1}, weight=0.6) == set()
    assert doubtful(scores, {"a", "d"}, {2}, weight=0.6) == set()  # b and c on exact vectors: their order stands
