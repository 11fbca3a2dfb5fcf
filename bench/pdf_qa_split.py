"""Assign each question of bench/data/pdf_qa.jsonl to the "dev" or "test" half, by document.

All questions about one PDF go to the same half. Documents are taken in the order of the SHA-256 of
their source path (a fixed pseudo-random order nobody chose); each goes to the half where it leaves
the two halves most even in documents per folder and in questions per (folder, kind); a tie goes by
the hash. The same file always gets the same split. Rewrites the "half" field in place.

Tune thresholds and rules on "dev"; report on "test".

    .venv/bin/python bench/pdf_qa_split.py [--set bench/data/pdf_qa.jsonl]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path

HALVES = ("dev", "test")


def digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def split(rows: list[dict]) -> dict[str, str]:
    """{source: half}."""
    profile: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        folder = row["source"].split("/")[0]
        profile[row["source"]][("questions", folder, row["kind"])] += 1
    for source in profile:
        profile[source][("documents", source.split("/")[0])] = 1

    totals = {half: Counter() for half in HALVES}
    assigned: dict[str, str] = {}
    for source in sorted(profile, key=digest):
        keys = set(profile[source]) | set(totals["dev"]) | set(totals["test"])

        def imbalance(half: str) -> int:
            after = {h: totals[h] + (profile[source] if h == half else Counter()) for h in HALVES}
            return sum(abs(after["dev"][k] - after["test"][k]) for k in keys)

        costs = {half: imbalance(half) for half in HALVES}
        if costs["dev"] != costs["test"]:
            half = min(HALVES, key=costs.__getitem__)
        else:
            half = HALVES[int(digest(source)[-1], 16) % 2]
        assigned[source] = half
        totals[half] += profile[source]
    return assigned


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path(__file__).resolve().parent / "data" / "pdf_qa.jsonl")
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    halves = split(rows)
    for row in rows:
        row["half"] = halves[row["source"]]
    tmp = args.set.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    tmp.replace(args.set)
    counts = Counter((row["half"], row["kind"]) for row in rows)
    for half in HALVES:
        docs = sorted(s for s, h in halves.items() if h == half)
        folders = Counter(d.split("/")[0] for d in docs)
        print(f"{half}: {len(docs)} PDFs {dict(sorted(folders.items()))}, "
              f"questions {dict(sorted((k, v) for (h, k), v in counts.items() if h == half))}")


if __name__ == "__main__":
    main()
