"""Assign each question of bench/data/pdf_qa.jsonl to the "dev" or "test" half, by document.

All questions about one PDF go to the same half. The split is stable: a document that already has a
half keeps it, and a question added about such a document (with no "half", or the document's half)
joins it, so re-running this never moves a question between halves and the test half stays unseen.
Only documents new to the set are assigned: taken in the order of the SHA-256 of their source path
(a fixed pseudo-random order nobody chose), each goes to the half where it leaves the two halves most
even in documents per folder and in questions per (folder, kind), counting the documents already
placed; a tie goes by the hash. A document whose questions name both halves, or a half other than
dev/test, is an error (fix the file by hand). Rewrites the "half" field in place.

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


def existing_halves(rows: list[dict]) -> dict[str, str]:
    """{source: half} for the documents that already have one. Raises SystemExit if a document's
    questions disagree or name something other than dev/test."""
    named: dict[str, set] = defaultdict(set)
    for row in rows:
        half = row.get("half")
        if half not in (None, ""):
            named[row["source"]].add(half)
    bad = {s: sorted(map(str, h)) for s, h in named.items() if len(h) > 1 or not h <= set(HALVES)}
    if bad:
        raise SystemExit("documents with conflicting or unknown halves (fix by hand): "
                         + "; ".join(f"{s} {h}" for s, h in sorted(bad.items())))
    return {s: next(iter(h)) for s, h in named.items()}


def split(rows: list[dict]) -> dict[str, str]:
    """{source: half}: existing halves kept, new documents placed to balance the halves."""
    profile: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        folder = row["source"].split("/")[0]
        profile[row["source"]][("questions", folder, row["kind"])] += 1
    for source in profile:
        profile[source][("documents", source.split("/")[0])] = 1

    assigned = existing_halves(rows)
    totals = {half: Counter() for half in HALVES}
    for source, half in assigned.items():
        totals[half] += profile[source]
    for source in sorted((s for s in profile if s not in assigned), key=digest):
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
    before = existing_halves(rows)
    halves = split(rows)
    new_docs = sorted(s for s in halves if s not in before)
    filled = sum(1 for row in rows if row.get("half") in (None, ""))
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
    print(f"kept {len(before)} documents in their halves; assigned {len(new_docs)} new document(s)"
          + (f" {[(s, halves[s]) for s in new_docs]}" if new_docs else "")
          + f"; filled in the half of {filled} question(s)")


if __name__ == "__main__":
    main()
