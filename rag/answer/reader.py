"""The reading model: a cross-encoder that reads (question, unit) together and says how likely the
unit answers the question, and where in it the short answer lies.

It is ours: train/reader.py fine-tuned the installed MiniLM on SQuAD (rag/models/reader/README.md is
its model card). The lexical ranker only sees which words a unit shares with the question; the reader
sees what the question asks of them ("Who ruled …" is not answered by a sentence that names the
ruled), which is what carried to articles nobody tuned for. It runs on ONNX Runtime with the
`tokenizers` package, so asking still never imports torch."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL = Path(__file__).resolve().parents[1] / "models/reader"


@dataclass(frozen=True)
class Reading:
    """What the reader made of one unit: `logit` (sigmoid = P(the unit answers the question)) and the
    short answer as character offsets into the unit's text."""

    logit: float
    start: int
    end: int

    @property
    def probability(self) -> float:
        return 1.0 / (1.0 + math.exp(-self.logit))


def best_spans(start: np.ndarray, end: np.ndarray, unit: np.ndarray, longest: int) -> list[tuple[int, int]]:
    """Per row, the (first, last) token inside the unit (`unit` masks its tokens) with the highest start +
    end logit, at most `longest` tokens long."""
    s = np.where(unit, start, -1e9)
    e = np.where(unit, end, -1e9)
    total = s[:, :, None] + e[:, None, :]
    t = total.shape[1]
    i, j = np.indices((t, t))
    total = np.where((j >= i) & (j - i < longest), total, -np.inf)
    flat = total.reshape(len(total), -1).argmax(1)
    return [(int(f // t), int(f % t)) for f in flat]


class Reader:
    def __init__(self, path: Path = MODEL, threads: int = 0) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.config["max_length"], strategy="longest_first")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.spin_duration_us", "10")  # as rag.embeddings does
        self.session = onnxruntime.InferenceSession(str(path / "model.onnx"), options,
                                                    providers=["CPUExecutionProvider"])

    def read(self, question: str, units: list[str]) -> list[Reading]:
        """One Reading per unit, in one batch padded to the longest pair (not to the model's maximum:
        a question and a sentence are mostly half of it)."""
        if not units:
            return []
        encodings = self.tokenizer.encode_batch([(question, unit) for unit in units])
        width = max(len(enc.ids) for enc in encodings)
        ids = np.zeros((len(units), width), dtype=np.int64)
        mask, types = np.zeros_like(ids), np.zeros_like(ids)
        in_unit = np.zeros((len(units), width), dtype=bool)
        for r, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[r, :n], mask[r, :n], types[r, :n] = enc.ids, 1, enc.type_ids
            in_unit[r, :n] = [s == 1 for s in enc.sequence_ids]
        logits, start, end = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        spans = best_spans(start, end, in_unit, self.config["max_answer_tokens"])
        readings = []
        for r, (enc, (first, last)) in enumerate(zip(encodings, spans)):
            if not in_unit[r].any():  # the question took the whole budget: nothing of the unit was read
                readings.append(Reading(float(logits[r]), 0, 0))
                continue
            readings.append(Reading(float(logits[r]), int(enc.offsets[first][0]), int(enc.offsets[last][1])))
        return readings


@lru_cache(maxsize=1)
def reader() -> Reader:
    """The shipped reader, loaded once per process."""
    return Reader()
