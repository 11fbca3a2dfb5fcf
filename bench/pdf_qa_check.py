"""Check bench/data/pdf_qa.jsonl against the PDFs it is asked about.

For every answerable question, its first gold answer (the string as printed) must occur in the text
PDFium extracts from its source PDF, on the page given; whitespace and line breaks may differ, and a
word hyphenated across a line break counts as joined. Unanswerable questions must have no answers and
no page. Also checked: the fields and kinds, at most 8 questions per PDF (so that no document weighs
too much in a score), one half per PDF.

Prints one line per problem, then the counts; exits 1 if there was a problem.

    .venv/bin/python bench/pdf_qa_check.py [--set bench/data/pdf_qa.jsonl] [--pdfs ../shared/data/pdfs]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pypdfium2 as pdfium

HERE = Path(__file__).resolve().parent
KINDS = {"table", "prose", "unanswerable"}
FIELDS = {"question", "answers", "answerable", "source", "kind", "page", "half"}
MAX_PER_PDF = 8


def flatten(text: str) -> str:
    """Case-folded, hyphenated line breaks joined, every run of whitespace one space."""
    text = re.sub(r"(\w)-\s*[\r\n]+\s*(\w)", r"\1\2", text)
    return " ".join(text.split()).casefold()


def page_texts(pdf: Path) -> list[str]:
    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [flatten(doc[i].get_textpage().get_text_bounded()) for i in range(len(doc))]
    finally:
        doc.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=HERE / "data" / "pdf_qa.jsonl")
    ap.add_argument("--pdfs", type=Path, default=HERE.parent.parent / "shared" / "data" / "pdfs")
    args = ap.parse_args()

    rows = [json.loads(line) for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    problems: list[str] = []
    cache: dict[str, list[str]] = {}
    per_pdf: Counter[str] = Counter()
    halves: dict[str, set] = defaultdict(set)

    for n, row in enumerate(rows, 1):
        where = f"line {n} ({row.get('source')}): {row.get('question', '')[:90]}"
        if set(row) != FIELDS:
            problems.append(f"{where}: fields {sorted(set(row) ^ FIELDS)} missing or unexpected")
            continue
        kind, answers, page, source = row["kind"], row["answers"], row["page"], row["source"]
        per_pdf[source] += 1
        halves[source].add(row["half"])
        if kind not in KINDS:
            problems.append(f"{where}: unknown kind {kind!r}")
        if row["half"] not in {"dev", "test"}:
            problems.append(f"{where}: half is {row['half']!r}, not dev/test (run bench/pdf_qa_split.py)")
        if (kind == "unanswerable") == row["answerable"]:
            problems.append(f"{where}: kind {kind} but answerable={row['answerable']}")
        pdf = args.pdfs / source
        if not pdf.is_file():
            problems.append(f"{where}: no such PDF {pdf}")
            continue
        if not row["answerable"]:
            if answers or page is not None:
                problems.append(f"{where}: an unanswerable question has answers or a page")
            continue
        if not answers or not isinstance(page, int):
            problems.append(f"{where}: an answerable question needs answers and a page")
            continue
        if source not in cache:
            cache[source] = page_texts(pdf)
        pages = cache[source]
        if not 1 <= page <= len(pages):
            problems.append(f"{where}: page {page} out of 1..{len(pages)}")
            continue
        printed = flatten(answers[0])
        if printed not in pages[page - 1]:
            found_on = [i for i, t in enumerate(pages, 1) if printed in t]
            if found_on:
                problems.append(f"{where}: gold {answers[0]!r} is on page(s) {found_on}, not page {page}")
            else:
                problems.append(f"{where}: gold {answers[0]!r} not found in the PDF")

    for source, count in sorted(per_pdf.items()):
        if count > MAX_PER_PDF:
            problems.append(f"{source}: {count} questions, more than {MAX_PER_PDF}")
        if len(halves[source]) > 1:
            problems.append(f"{source}: questions in more than one half {sorted(map(str, halves[source]))}")

    for p in problems:
        print(p)
    kinds = Counter(r.get("kind") for r in rows)
    by_half = Counter((r.get("half"), r.get("kind")) for r in rows)
    folders = Counter(s.split("/")[0] for s in per_pdf)
    print(f"{len(rows)} questions over {len(per_pdf)} PDFs ({dict(sorted(folders.items()))}); "
          f"kinds {dict(sorted(kinds.items()))}")
    for half in ("dev", "test"):
        docs = sorted({r["source"] for r in rows if r.get("half") == half})
        print(f"  {half}: {sum(v for (h, _), v in by_half.items() if h == half)} questions, {len(docs)} PDFs "
              f"({dict(sorted(Counter(d.split('/')[0] for d in docs).items()))}); "
              f"kinds {dict(sorted((k, v) for (h, k), v in by_half.items() if h == half))}")
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
