"""The same documents and question give the same answer whatever arithmetic the index was embedded in:
bf16 (native or emulated) moves a cosine by up to rag.embeddings.BF16_SENTENCE_NOISE, and the answerer
settles every decision that close on exact vectors (issue 24)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.config import Settings
from rag.embeddings import Embedder
from rag.service import Rag

from .conftest import DATA, SEEDS

SEED_FILES = ("seed_qa.jsonl", "seed_dev.jsonl", "seed_dev2.jsonl", "seed_test2.jsonl")


@pytest.fixture(scope="module")
def indexes(tmp_path_factory) -> dict[str, Rag]:
    """The seeds indexed twice, in fp32 and in bf16 (forced: emulated where the CPU has no bf16)."""
    out = {}
    for precision in ("fp32", "bf16"):
        settings = Settings(index_dir=tmp_path_factory.mktemp(f"seed-{precision}"), embed_precision=precision)
        out[precision] = Rag(settings, Embedder(precision=precision))
        out[precision].index([SEEDS], progress=False)
    return out


def test_an_index_says_whether_it_was_embedded_in_bf16(indexes):
    assert indexes["bf16"].store.bf16 and not indexes["fp32"].store.bf16


def test_a_bf16_index_answers_every_seed_question_as_an_fp32_index_does(indexes):
    questions = [json.loads(line)["question"] for name in SEED_FILES
                 for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(questions) >= 195
    said = {p: [said_of(indexes[p].ask(question).to_dict()) for question in questions] for p in indexes}
    assert [q for q, a, b in zip(questions, said["fp32"], said["bf16"]) if a != b] == []


def said_of(answer: dict) -> tuple:
    """What a user reads: the text, the cited spans, whether it abstained (a citation's score is the
    chunk's retrieval score, which moves with the rounding)."""
    spans = [(c["source"], c["page"], c["start"], c["end"]) for c in answer["citations"]]
    return answer["answer"], spans, answer["abstained"]


def test_a_bf16_index_finds_the_top_k_an_fp32_index_finds(indexes):
    question = "How many Ukrainian troops have French forces trained?"
    a, b = (indexes[p].search(question, 3) for p in ("fp32", "bf16"))
    assert a[0].chunk.id == b[0].chunk.id and {h.chunk.id for h in a} == {h.chunk.id for h in b}


def test_exact_vectors_are_computed_once_per_index_not_once_per_process(indexes, monkeypatch):
    first = indexes["bf16"]
    chunk = first.store.all_chunks()[0]
    made = first.store.exact([chunk])[chunk.id]
    again = Rag(first.settings, first.embedder)  # as another process opens the same index
    monkeypatch.setattr(again.embedder, "encode_chunks", lambda *args, **kwargs: pytest.fail("computed again"))
    kept = again.store.exact([chunk])[chunk.id]
    assert np.array_equal(made[0], kept[0]) and np.array_equal(made[1], kept[1])
