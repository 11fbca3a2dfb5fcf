"""The run's curves, read back from its train.log: a person looks at a plot sooner than at 600 log lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

STEP = re.compile(r" step (\d+)/\d+ loss ([\d.]+) \(group ([\d.]+) bce ([\d.]+) span ([\d.]+)\)")
MONITOR = re.compile(r" monitor @ step (\d+): (\{.*\})")


def plot_run(out: Path) -> Path:
    """Write out/curve.png: the smoothed training losses, and the dev-half monitor (top unit, AUC)
    that picks the checkpoint, against steps. A resumed run's log repeats steps; the last wins."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    losses: dict[int, tuple[float, ...]] = {}
    monitors: dict[int, dict] = {}
    for line in (out / "train.log").read_text(encoding="utf-8").splitlines():
        if m := STEP.search(line):
            losses[int(m.group(1))] = tuple(float(x) for x in m.groups()[1:])
        elif m := MONITOR.search(line):
            monitors[int(m.group(1))] = json.loads(m.group(2))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    steps = sorted(losses)
    for k, name in enumerate(("total", "group", "bce", "span")):
        left.plot(steps, [losses[s][k] for s in steps], label=name)
    left.set(title="training loss (moving average)", xlabel="step", yscale="log")
    left.legend()
    checks = sorted(monitors)
    for key, name in (("top_unit_holds_gold", "top unit holds the gold"),
                      ("auc_answerable_vs_unanswerable", "AUC answerable vs not"), ("span_f1", "short-answer F1")):
        right.plot(checks, [monitors[s][key] for s in checks], marker="o", label=name)
    right.set(title="dev-half monitor", xlabel="step", ylim=(0.4, 1.0))
    right.legend()
    path = out / "curve.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
