"""Embedding speed and quality, in one process: every way of embedding the bench corpus against the
LangChain recipe's HuggingFaceEmbeddings path (sentence-transformers fp32, batch 32) as the baseline.
Bench corpus: the chunks `rag` makes (make_splitter(500, 60)) of every topic of pydoc_data.topics.
Each row is warmed up on 64 chunks, then timed over all chunks (best of --repeat); tokenising is inside
the timing; "CPU s / s" is the process's CPU time over wall time (~2 on 2 idle cores: lower means other
work competed, or the row used fewer threads). Quality: min and mean cosine of each chunk vector to the baseline's (the issue's guard:
≥ 0.999). `ours` is Embedder.encode_chunks (chunk and sentence vectors in one pass, bf16 TorchScript
where the CPU has native bf16, texts sorted by length, batch 32, ENCODER_WORKERS batches at once on
one PyTorch thread each).

Run from the repo root:  .venv/bin/python bench/embed_speed.py [--repeat 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest.mock import patch

import numpy as np

from rag.answer.text import sentence_spans
from rag.chunking import make_splitter
from rag.embeddings import Embedder, _normalise, bf16_supported

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # sentence-transformers loads the bundled folder, offline

Encode = Callable[[list[str]], np.ndarray]  # texts -> L2-normalised vectors, one row per text


def corpus() -> list[str]:
    from pydoc_data.topics import topics

    splitter = make_splitter(500, 60)
    return [chunk for _, text in sorted(topics.items()) for chunk in splitter.split_text(text)]


def sentence_transformers(bf16: bool) -> Encode:
    """As the recipe runs it: one batch at a time, on PyTorch's threads on every core (set again here,
    as loading our trace sets one thread for the whole process)."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(Embedder().model_path), device="cpu")
    if bf16:
        model = model.to(torch.bfloat16)

    def encode(texts: list[str]) -> np.ndarray:
        torch.set_num_threads(os.cpu_count() or 1)
        return np.asarray(model.encode(texts, batch_size=32, normalize_embeddings=True), np.float32)

    return encode


def ours(**kwargs) -> Encode:
    embedder = Embedder(**kwargs)
    return lambda texts: embedder.encode_chunks(texts, [sentence_spans(t) for t in texts])[0]


def unsorted(batch_size: int = 32) -> Encode:
    """Ours without length sorting: shuffled order, fixed batches, padded to each batch's longest text."""
    embedder = Embedder()

    def encode(texts: list[str]) -> np.ndarray:
        encodings = embedder.tokenizer.encode_batch(texts)
        order = np.random.default_rng(0).permutation(len(texts))
        out = np.zeros((len(texts), embedder.dimension), np.float32)
        for b in range(0, len(order), batch_size):
            batch = order[b:b + batch_size]
            ids = np.zeros((len(batch), max(len(encodings[i].ids) for i in batch)), np.int64)
            for row, i in enumerate(batch):
                ids[row, :len(encodings[i].ids)] = encodings[i].ids
            mask = (np.arange(ids.shape[1]) < [[len(encodings[i].ids)] for i in batch]).astype(np.int64)
            states = embedder.torch_forward(ids, mask)
            out[batch] = (states * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return _normalise(out)

    return encode


def one_batch_at_a_time(threads: int) -> Encode:
    """Ours with one batch at a time on `threads` PyTorch threads (with every core: the default until
    2026-12-02, which lost 2-5x whenever another process took a core), instead of ENCODER_WORKERS
    batches side by side on one thread each."""
    import torch

    import rag.embeddings

    inner = ours()

    def encode(texts: list[str]) -> np.ndarray:
        with patch.object(rag.embeddings, "ENCODER_WORKERS", 1):
            inner(texts[:1])  # loads the trace, which sets one thread
            torch.set_num_threads(threads)
            try:
                return inner(texts)
            finally:
                torch.set_num_threads(1)

    return encode


def onnx_fp32() -> Encode:
    return Embedder().encode


def onnx_int8(folder: str) -> Encode:
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    embedder = Embedder()
    if not embedder.onnx_path.exists():
        embedder.onnx_forward  # noqa: B018 - exports the fp32 model first
    quantised = str(Path(folder) / "model-int8.onnx")
    quantize_dynamic(str(embedder.onnx_path), quantised, weight_type=QuantType.QInt8)
    session = onnxruntime.InferenceSession(quantised, providers=["CPUExecutionProvider"])
    forward = lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    return lambda texts: _normalise(np.stack(embedder._run(texts, forward, lambda states, *_: states.mean(0))))


def timed(encode: Encode, texts: list[str], repeat: int) -> tuple[float, float, np.ndarray]:
    """Best wall seconds, that run's CPU seconds / wall seconds (below the threads used: other work
    competed), and the vectors (renormalised in fp32: bf16 outputs are off unit length by ~1e-3)."""
    encode(texts[:64])  # warm-up: model load, one-off exports, first-call allocations
    best, cpu, vectors = float("inf"), 0.0, np.zeros(0)
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        vectors = encode(texts)
        if (seconds := time.perf_counter() - start) < best:
            best, cpu = seconds, (time.process_time() - start_cpu) / seconds
    return best, cpu, _normalise(vectors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="time each row N times, keep the best")
    args = parser.parse_args()
    print(f"# bench/embed_speed.py, {dt.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# native bf16 (rag.embeddings.bf16_supported): {bf16_supported()}")
    print(f"# load avg 1/5/15 min at start: {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
    texts = corpus()
    tokens = sum(len(e.ids) for e in Embedder().tokenizer.encode_batch(texts))
    print(f"# corpus: {len(texts)} chunks of pydoc_data.topics, {tokens} tokens (truncated at the model's limit)")
    with tempfile.TemporaryDirectory() as tmp:
        rows: dict[str, Callable[[], Encode]] = {
            "baseline: sentence-transformers fp32, batch 32": lambda: sentence_transformers(False),
            "sentence-transformers bf16, batch 32": lambda: sentence_transformers(True),
            "ours: encode_chunks (auto precision, sorted, batch 32)": ours,
            **{f"ours, batch {b}": (lambda b=b: ours(batch_size=b)) for b in (8, 16, 64)},
            "ours, unsorted (shuffled, batch 32, chunk vectors only)": unsorted,
            "ours, one batch at a time on every core (before 2026-12-02)":
                lambda: one_batch_at_a_time(os.cpu_count() or 1),
            "ours, one batch at a time on one thread": lambda: one_batch_at_a_time(1),
            "ONNX Runtime fp32 (Embedder.encode)": onnx_fp32,
            "ONNX Runtime int8 dynamic (QInt8)": lambda: onnx_int8(tmp),
            "TorchScript fp32 (precision=fp32)": lambda: ours(precision="fp32"),
        }
        results = {name: timed(make(), texts, args.repeat) for name, make in rows.items()}
    base_s, _, base_v = next(iter(results.values()))
    print(f"# load avg 1/5/15 min at end: {'/'.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| path | s | tokens/s | × baseline speed | CPU s / s | min cos | mean cos |")
    print("|---|---|---|---|---|---|---|")
    for name, (seconds, cpu, vectors) in results.items():
        cos = (vectors * base_v).sum(1)
        print(f"| {name} | {seconds:.2f} | {tokens / seconds:,.0f} | {base_s / seconds:.2f} | {cpu:.2f} "
              f"| {cos.min():.5f} | {cos.mean():.5f} |")


if __name__ == "__main__":
    main()
