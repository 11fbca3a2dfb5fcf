"""The embedder's two engines (ONNX Runtime for questions, a bf16 TorchScript trace for indexing) give
the vectors sentence-transformers gives, and answering a question never loads PyTorch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from rag.answer.text import sentence_spans
from rag.embeddings import Embedder

from .conftest import SEEDS


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    text = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
    return [p for p in text.split("\n") if len(p.split()) > 3]


@pytest.fixture(scope="module")
def reference(embedder, paragraphs) -> np.ndarray:
    """sentence-transformers in fp32: what the vectors must stay faithful to."""
    model = SentenceTransformer(str(embedder.model_path), device="cpu")
    return model.encode(paragraphs, normalize_embeddings=True)


def test_question_vectors_equal_sentence_transformers_fp32(embedder, paragraphs, reference):
    cosines = (embedder.encode(paragraphs) * reference).sum(axis=1)
    assert cosines.min() >= 0.9999


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_indexing_vectors_stay_within_bf16_rounding_of_fp32(precision, paragraphs, reference):
    """bf16 can be forced on any CPU (emulated where it is not native), so both paths run everywhere."""
    chunks, _ = Embedder(precision=precision).encode_chunks(paragraphs, [sentence_spans(p) for p in paragraphs])
    assert ((chunks * reference).sum(axis=1)).min() >= (0.99999 if precision == "fp32" else 0.999)


def test_each_sentence_gets_a_vector_nearest_its_own_text(embedder, paragraphs):
    text = " ".join(paragraphs[:4])
    spans = sentence_spans(text)
    _, [sentences] = embedder.encode_chunks([text], [spans])
    alone = embedder.encode([text[s:e] for s, e in spans])
    assert sentences.shape == (len(spans), embedder.dimension)
    assert list((sentences @ alone.T).argmax(axis=1)) == list(range(len(spans)))


def test_a_sentence_beyond_the_token_limit_is_embedded_alone(embedder, paragraphs):
    text = " ".join(paragraphs) + " The very last sentence mentions a violet teapot."
    last = sentence_spans(text)[-1]
    assert len(embedder.tokenizer.encode(text[:last[0]]).ids) == 256  # the text before it fills the window
    _, [sentences] = embedder.encode_chunks([text], [[last]])
    alone = embedder.encode([text[slice(*last)]])[0]
    assert float(sentences[0] @ alone) >= 0.999


def test_the_exports_are_made_once_per_model_into_the_cache(tmp_path):
    first = Embedder(cache_dir=tmp_path)
    first.encode(["warm up"])
    made = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "models").iterdir()}
    assert sorted(made) == sorted([first.onnx_path.name, first.traced_path.name])
    second = Embedder(cache_dir=tmp_path)
    second.encode_chunks(["Reused, not re-exported."], [[(0, 24)]])
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "models").iterdir()} == made


def test_a_folder_that_is_not_a_local_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a local sentence-transformers model"):
        Embedder(str(tmp_path))


def test_answering_a_question_never_imports_pytorch_langchain_or_sqlalchemy(seed_rag):
    script = textwrap.dedent(f"""
        import sys
        from rag.config import Settings
        from rag.service import Rag
        answer = Rag(Settings(index_dir={str(seed_rag.settings.index_dir)!r})).ask("Who is the Estonian prime minister?")
        assert "Kallas" in answer.answer
        heavy = ("torch", "transformers", "sentence_transformers", "langchain_chroma", "langchain_core", "sqlalchemy")
        print(sorted(m for m in heavy if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_indexing_runs_batches_side_by_side_each_on_one_thread(paragraphs):
    """One PyTorch thread per batch: its threads would wait for each other after every operation, for
    as long as another process holds a core (README, Real PDFs). Same vectors as one batch at a time."""
    import torch

    embedder = Embedder(batch_size=2)
    forward = embedder.torch_forward
    assert torch.get_num_threads() == 1
    first_two, calls, lock = threading.Barrier(2, timeout=120), [], threading.Lock()

    def meeting(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with lock:
            calls.append(threading.get_ident())
            meet = len(calls) <= 2
        if meet:
            first_two.wait()  # broken (an error) unless the second batch starts before the first ends
        return forward(ids, mask)

    mean = lambda states, *_: states.mean(0)
    together = embedder._run(paragraphs, meeting, mean, workers=2)
    alone = embedder._run(paragraphs, forward, mean, workers=1)
    assert len(calls) == -(-len(paragraphs) // 2) and len(set(calls)) == 2
    assert all(np.array_equal(a, b) for a, b in zip(together, alone, strict=True))
