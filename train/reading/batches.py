"""Tokens and steps: pairs encoded as the product encodes them, packed into steps of similar length."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from reading import MAX_LENGTH
from reading.data import Group, Pair


def load_tokenizer(model_path: Path):
    """The base model's tokenizer.json, cut the way the product will cut: longest_first to MAX_LENGTH,
    which for any question under half the budget cuts the unit only, and never fails on a long one."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_LENGTH, strategy="longest_first")
    return tok


@dataclass
class Encoded:
    ids: np.ndarray        # int32 token ids
    types: np.ndarray      # token type: 0 question, 1 unit
    unit: tuple[int, int]  # first and last token index of the unit (inclusive)
    offsets: np.ndarray    # (start, end) of each token in its own sequence
    start: int = -1        # answer's first and last token, -1 when no span is trained
    end: int = -1


def encode_pairs(tok, pairs: list[Pair], batch: int = 4096) -> list[Encoded]:
    out = []
    for b in range(0, len(pairs), batch):
        chunk = pairs[b:b + batch]
        for pair, enc in zip(chunk, tok.encode_batch([(p.question, p.unit) for p in chunk])):
            seq = enc.sequence_ids
            unit_tokens = [i for i, s in enumerate(seq) if s == 1]
            offsets = np.array(enc.offsets, dtype=np.int32)
            e = Encoded(np.array(enc.ids, dtype=np.int32), np.array(enc.type_ids, dtype=np.int8),
                        (unit_tokens[0], unit_tokens[-1]) if unit_tokens else (len(seq) - 1, len(seq) - 2),
                        offsets)
            if pair.answer is not None and unit_tokens:
                s_char, e_char = pair.answer
                starts = [i for i in unit_tokens if offsets[i, 1] > s_char]
                ends = [i for i in unit_tokens if offsets[i, 0] < e_char]
                if starts and ends and offsets[unit_tokens[-1], 1] >= e_char and starts[0] <= ends[-1]:
                    e.start, e.end = starts[0], ends[-1]
            out.append(e)
    return out


def plan_steps(groups: list[Group], lengths: list[int], pairs_per_step: int, seed: int) -> list[list[int]]:
    """Groups packed into steps of at most `pairs_per_step` pairs, groups of similar length together
    (within windows of ~64 steps, so the order stays random), then the steps shuffled."""
    rng = random.Random(seed)
    order = list(range(len(groups)))
    rng.shuffle(order)
    window = pairs_per_step * 64 // max(1, int(np.mean([len(g.pairs) for g in groups])))
    steps: list[list[int]] = []
    for w in range(0, len(order), window):
        chunk = sorted(order[w:w + window], key=lambda g: lengths[g])
        current, size = [], 0
        for g in chunk:
            if current and size + len(groups[g].pairs) > pairs_per_step:
                steps.append(current)
                current, size = [], 0
            current.append(g)
            size += len(groups[g].pairs)
        if current:
            steps.append(current)
    rng.shuffle(steps)
    return steps


def collate(encoded: list[Encoded], pad_to: int = 8):
    """Right-padded tensors (to a multiple of 8 tokens) and the mask of unit tokens (the span head's
    only choices)."""
    width = -(-max(len(e.ids) for e in encoded) // pad_to) * pad_to
    ids = np.zeros((len(encoded), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    unit = np.zeros((len(encoded), width), dtype=bool)
    for r, e in enumerate(encoded):
        n = len(e.ids)
        ids[r, :n], mask[r, :n], types[r, :n] = e.ids, 1, e.types
        unit[r, e.unit[0]:e.unit[1] + 1] = True
    return (torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types), torch.from_numpy(unit))
