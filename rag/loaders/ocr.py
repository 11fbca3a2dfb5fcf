"""Text of a page image (a scanned PDF page), read by Tesseract, as a PageLayout: its words grouped in
the lines Tesseract found, placed in PDF points, so that the same layout cleanup joins wrapped lines and
splits table cells as on pages with a text layer.

The `tesseract` binary is run directly, with OMP_THREAD_LIMIT=1: its OpenMP threads only fight over
the cores on a busy machine (one page took 13.6 s with them and 3.2 s without on this project's
2-core machine while it was indexing)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from itertools import groupby
from typing import Any

from rag.loaders.layout import Line, PageLayout, split_cells

ENGINE = "Tesseract OCR"
INSTALL_HINT = "install it to read scanned pages (Debian: apt-get install tesseract-ocr)"
DPI = 300  # Tesseract's accuracy falls off below ~300 dpi on ordinary print
MAX_PIXELS = 40_000_000  # a page is rendered at DPI up to this size (A3 at 300 dpi is 17.4 M), less beyond:
# a hostile page box of 200 × 200 inches would otherwise ask for a 3.6 GB bitmap


def render_dpi(width_pt: float, height_pt: float) -> float:
    """The resolution to render a page of this size (in PDF points) at for OCR."""
    pixels_at_dpi = width_pt * height_pt * (DPI / 72) ** 2
    return DPI * min(1.0, (MAX_PIXELS / max(pixels_at_dpi, 1.0)) ** 0.5)
WORD_LEVEL = 5  # rows of Tesseract's TSV: page, block, paragraph, line, then word


def available() -> bool:
    return shutil.which("tesseract") is not None


def read_page(image: Any, dpi: float, left: float, top: float, bottom: float, timeout: float) -> PageLayout:
    """`image`: the page rendered at `dpi`, its top-left corner at (`left`, `top`) in PDF points.
    Raises subprocess.TimeoutExpired when Tesseract runs over `timeout` seconds."""
    png = io.BytesIO()
    image.save(png, format="PNG")
    tsv = subprocess.run(["tesseract", "stdin", "stdout", "--dpi", str(round(dpi)), "tsv"], input=png.getvalue(),
                         capture_output=True, check=True, timeout=max(timeout, 0.01),
                         env={**os.environ, "OMP_THREAD_LIMIT": "1"}).stdout.decode("utf-8", "replace")
    rows = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    words = [{k: v if k == "text" else int(float(v)) for k, v in row.items()} for row in rows
             if row["level"] == str(WORD_LEVEL) and (row["text"] or "").strip()]
    scale = 72 / dpi
    text, lines = "", []
    for _, group in groupby(words, key=lambda w: (w["block_num"], w["par_num"], w["line_num"])):
        if text:
            text += "\n"
        line, text = _line(list(group), text, scale, left, top)
        lines.append(line)
    return PageLayout(text, lines, top, bottom)


def _line(words: list[dict], text: str, scale: float, left: float, top: float) -> tuple[Line, str]:
    """The line of `words` appended to `text`, split into cells at wide gaps."""
    start, starts, gaps = len(text), [], []
    for previous, word in zip([None, *words], words, strict=False):
        if previous is not None:
            gaps.append((len(text), len(text) + 1, word["left"] - previous["left"] - previous["width"]))
            text += " "
        starts.append(len(text))
        text += word["text"].strip()
    cells = split_cells(text, start, len(text), gaps, max(w["height"] for w in words))
    last_cell = words[starts.index(cells[-1][0])]
    line = Line(cells, left + words[0]["left"] * scale,
                left + max(w["left"] + w["width"] for w in words) * scale,
                top - min(w["top"] for w in words) * scale, top - max(w["top"] + w["height"] for w in words) * scale,
                words[0]["width"] * scale, left + last_cell["left"] * scale)
    return line, text
