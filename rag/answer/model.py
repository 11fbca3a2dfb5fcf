"""The small learned models of the extractive answerer, with their constants in fitted.py: `ranker`
scores a candidate sentence from its lexical features (is the answer in it?), `fuser` weighs that
against the reading model's score, `abstainer` scores the question's best evidence (is the question
answerable from it?). All three are logistic regressions over what the
answerer computes anyway (rag.answer.features); bench/fit_abstention.py fits them on the dev halves of
the question sets and writes that module (a Python literal, so it ships as code: no package data), with
the operating points it chose there."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Logistic:
    """A fitted logistic regression: features in a fixed order, standardised by mean/scale."""

    features: tuple[str, ...]
    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    scale: np.ndarray

    def logits(self, rows: np.ndarray, columns: tuple[str, ...] | None = None) -> np.ndarray:
        """rows: one row per example, columns in `features` order, or named by `columns` (of which
        the model reads its own: a model fitted before a feature existed ignores it)."""
        if columns is not None and tuple(columns) != self.features:
            rows = rows[:, [columns.index(name) for name in self.features]]
        return ((rows - self.mean) / self.scale) @ self.coef + self.intercept

    def slack(self, moves: dict[str, float]) -> float:
        """How far the logit can move when each named feature moves by up to the given amount."""
        return sum(abs(self.coef[self.features.index(name)]) / self.scale[self.features.index(name)] * move
                   for name, move in moves.items())

    def probability(self, row: np.ndarray, columns: tuple[str, ...] | None = None) -> float:
        return 1.0 / (1.0 + math.exp(-float(self.logits(row[None, :], columns)[0])))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "coef": self.coef.round(6).tolist(),
                "intercept": round(self.intercept, 6),
                "mean": self.mean.round(6).tolist(), "scale": self.scale.round(6).tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> Logistic:
        return cls(tuple(data["features"]), np.array(data["coef"]), float(data["intercept"]),
                   np.array(data["mean"]), np.array(data["scale"]))


# Before a fuser is fitted, the lexical ranker decides alone.
LEXICAL_ONLY = {"features": ["lexical", "reader"], "coef": [1.0, 0.0], "intercept": 0.0, "mean": [0.0, 0.0],
                "scale": [1.0, 1.0]}


@dataclass(frozen=True)
class Weights:
    ranker: Logistic
    fuser: Logistic            # the fused logit from the lexical ranker's and the reader's
    abstainer: Logistic
    abstain_below: float       # P(answerable) under which the answerer abstains
    runner_up_margin: float    # the runner-up sentence joins the best when its logit is this close
    fitted_on: str


@lru_cache(maxsize=1)
def weights() -> Weights:
    from rag.answer.fitted import FITTED as data

    return Weights(Logistic.from_dict(data["ranker"]), Logistic.from_dict(data.get("fuser", LEXICAL_ONLY)),
                   Logistic.from_dict(data["abstainer"]),
                   float(data["abstain_below"]), float(data["runner_up_margin"]), data.get("fitted_on", ""))
