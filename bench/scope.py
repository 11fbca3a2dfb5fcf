"""What asking within chosen documents costs (issue 27: <= 5 ms at warm p50): the PDF set's questions
asked over the whole PDF index and scoped to their own document, interleaved, after a warm-up pass.

    .venv/bin/python bench/scope.py [--work /tmp/rag-quality] [--pdfs ../shared/data/pdfs]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from quality import ROOT, indexed, pdf_cases, set_arguments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    set_arguments(parser, "pdf", "/tmp/rag-quality")
    args = parser.parse_args()
    print(f"# bench/scope.py {time.strftime('%Y-%m-%d %H:%M')}; command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    rag = indexed(args.work, "pdf", args.pdfs, None, {})
    cases = [c for c in pdf_cases(ROOT / "bench/data/pdf_qa.jsonl") if c.source]
    sources = set(rag.store.sources())
    cases = [c for c in cases if c.source in sources]
    times: dict[str, list[float]] = {"whole index": [], "scoped to its document": []}
    for warm in (True, False):
        for case in cases:
            for name, scope in (("whole index", None), ("scoped to its document", [case.source])):
                start = time.perf_counter()
                answer = rag.ask(case.item.question, sources=scope)
                if not warm:
                    times[name].append((time.perf_counter() - start) * 1000)
                if scope:
                    assert all(c.source == case.source for c in answer.citations)
    print(f"{len(cases)} questions over {len(sources)} documents, each asked both ways, interleaved")
    for name, ms in times.items():
        print(f"  {name}: p50 {statistics.median(ms):.1f} ms, p95 {sorted(ms)[int(0.95 * len(ms))]:.1f} ms")
    print(f"  difference of the medians: {statistics.median(times['scoped to its document']) - statistics.median(times['whole index']):+.1f} ms")


if __name__ == "__main__":
    main()
