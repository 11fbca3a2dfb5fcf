"""What the layout cleanup does to real PDFs, checked against PDFium's raw text rather than against the
cleanup's own rules: every PDF under the folders given (default ../shared/data/pdfs) is loaded
(failures and warnings listed), then on the stored page texts it counts
- running lines left: a running line is a raw line that (digits aside) is among the first or last 3
  lines of at least half of the document's pages (and of 3 or more), once on each of them; it is left
  on a page when the stored page holds it (as a line or a cell) as often as the raw page does;
- unjoined wraps: a line ending in a lower-case letter, comma or semicolon followed by a line starting
  in lower case, in the raw text and in the stored text;
and prints a few wrapped sentences before and after. Run from the repo root:
  .venv/bin/python bench/pdf_text.py [FOLDER ...]
"""

from __future__ import annotations

import random
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import pypdfium2

from rag.errors import LoadError
from rag.loaders import load

ROOT = Path(__file__).resolve().parent.parent
WRAP = re.compile(r"[a-z,;]\n(?!\n)[a-z]")
EXAMPLES = 4


def key(line: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", line.lower())).strip()


def running_lines(raw_pages: list[str]) -> set[str]:
    edges: Counter[str] = Counter()
    for text in raw_pages:
        lines = [key(line) for line in text.split("\n") if line.strip()]
        counts = Counter(lines)
        edges.update({k for k in lines[:3] + lines[-3:] if counts[k] == 1})
    return {k for k, count in edges.items() if k and count >= max(3, len(raw_pages) / 2)}


def left_on(raw: str, stored: str, running: set[str]) -> int:
    """Running lines of the raw page that the stored page still holds as often."""
    raw_keys = Counter(key(line) for line in raw.split("\n"))
    units = [unit for line in stored.split("\n") for unit in ([line] if "\t" not in line else [line, *line.split("\t")])]
    stored_keys = Counter(key(unit) for unit in units)
    return sum(1 for k in running if raw_keys[k] and stored_keys[k] >= raw_keys[k])


def main() -> None:
    folders = [Path(a) for a in sys.argv[1:]] or [ROOT / "../shared/data/pdfs"]
    files = [f for folder in folders for f in sorted(folder.rglob("*.pdf"))]
    skipped = pages = left = raw_wraps = wraps = 0
    wrapped: list[tuple[str, str]] = []
    started = time.perf_counter()
    for path in files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                stored = load(path, path.name, 50_000_000)
            except LoadError as e:
                skipped += 1
                print(f"skipped {e}")
                continue
        for warning in caught:
            print(f"warning {warning.message}")
        doc = pypdfium2.PdfDocument(path)
        raw = [doc[i].get_textpage().get_text_range().replace("\r\n", "\n").replace("\ufffe", "") for i in range(len(doc))]
        running = running_lines(raw)
        for page in stored:
            pages += 1
            left += left_on(raw[page.page - 1], page.text, running)
            raw_wraps += len(WRAP.findall(raw[page.page - 1]))
            wraps += len(WRAP.findall(page.text))
            for m in WRAP.finditer(raw[page.page - 1]):
                before = raw[page.page - 1][max(m.start() - 50, 0):m.end() + 30]
                words = before.replace("\n", " ").split()[2:-2]
                if len(words) > 4 and " ".join(words) in page.text:
                    wrapped.append((f"{path.name} p{page.page}", before))
    print(f"{len(files)} PDFs, {skipped} skipped, {pages} pages with text, {time.perf_counter() - started:.1f} s")
    print(f"running header/footer lines left in stored pages: {left}")
    print(f"unjoined wraps: raw PDFium text {raw_wraps}, stored text {wraps}")
    random.seed(0)
    for where, before in random.sample(wrapped, min(EXAMPLES, len(wrapped))):
        print(f"\n{where}, raw: {before!r}\n  stored: {' '.join(before.split())!r} is on one line")


if __name__ == "__main__":
    main()
