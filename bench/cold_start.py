"""Cold start, whole processes: `rag ask` and `rag search` on the seed index against
`python -c "import sentence_transformers"` (issue 7's yardstick: cold ask ≤ 0.35× the import).
Each command runs --runs times in turn, interleaved so that load from other work hits all alike;
the medians and the ratios are printed.

Run from the repo root:  .venv/bin/python bench/cold_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"# bench/cold_start.py, {dt.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([BIN / "rag", "index", ROOT / "seeds", "--index", tmp], check=True, capture_output=True)
        commands = {
            "import sentence_transformers": [sys.executable, "-c", "import sentence_transformers"],
            "rag ask (extractive)": [BIN / "rag", "ask", "Who is the Estonian prime minister?", "--index", tmp],
            "rag search": [BIN / "rag", "search", "Who is the Estonian prime minister?", "--index", tmp],
            "rag --help": [BIN / "rag", "--help"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(timed(command))
    baseline = statistics.median(times["import sentence_transformers"])
    print("| command | median s | min–max s | × import |")
    print("|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| `{name}` | {median:.2f} | {min(values):.2f}–{max(values):.2f} | {median / baseline:.2f} |")


if __name__ == "__main__":
    main()
