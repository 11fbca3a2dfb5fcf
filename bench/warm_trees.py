"""Warm answer latency on the seed, this tree against another (e.g. a worktree of an older commit):
each tree indexes seeds/ into a folder of its own and answers tests/data/seed_qa.jsonl's questions
(one warm-up pass, then --passes timed passes) in a process of its own, its `rag` package first on
PYTHONPATH; the trees take turns for --rounds rounds, so load from other work hits both alike.
Prints each run's p50/p95 and the median difference.

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/warm_trees.py --against /tmp/before [--rounds 2] [--passes 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = """
import json, statistics, sys, time
from pathlib import Path
from rag.config import Settings
from rag.service import Rag
tree, index, passes = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
rag = Rag(Settings(index_dir=index))
rag.index([tree / "seeds"], progress=False)
questions = [json.loads(line)["question"] for line in open(tree / "tests/data/seed_qa.jsonl")]
for q in questions:
    rag.ask(q)
times = []
for _ in range(passes):
    for q in questions:
        started = time.perf_counter()
        rag.ask(q)
        times.append((time.perf_counter() - started) * 1000)
times.sort()
print(json.dumps({"p50": statistics.median(times), "p95": times[int(0.95 * len(times))]}))
"""


def run(tree: Path, index: Path, passes: int) -> dict:
    out = subprocess.run([sys.executable, "-c", RUN, str(tree), str(index), str(passes)], check=True,
                         capture_output=True, text=True, env={"PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1",
                                                              "PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="the other tree (a checkout of the repo)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    print(f"# bench/warm_trees.py {time.strftime('%Y-%m-%d %H:%M')}; command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    trees = {"before": args.against.resolve(), "this": ROOT}
    p50: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory(prefix="rag-warm-") as tmp:
        for n in range(args.rounds):
            for name, tree in trees.items():
                figures = run(tree, Path(tmp) / name, args.passes)
                p50[name].append(figures["p50"])
                print(f"round {n + 1}  {name:6} {tree}  p50 {figures['p50']:.1f} ms  p95 {figures['p95']:.1f} ms", flush=True)
    diffs = [b - a for a, b in zip(p50["before"], p50["this"], strict=True)]
    print(f"p50 difference, this − before: {statistics.median(diffs):+.1f} ms (per round: "
          f"{', '.join(f'{d:+.1f}' for d in diffs)})")


if __name__ == "__main__":
    main()
