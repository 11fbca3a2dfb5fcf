"""Text of a page image (a scanned PDF page), read by Tesseract, as a PageLayout: its words grouped in
the lines Tesseract found, placed in PDF points, so that the same layout cleanup joins wrapped lines and
splits table cells as on pages with a text layer."""

from __future__ import annotations

from functools import cache
from itertools import groupby
from typing import Any

from rag.loaders.layout import Line, PageLayout, split_cells

ENGINE = "Tesseract OCR"
INSTALL_HINT = "install it to read scanned pages (Debian: apt-get install tesseract-ocr)"
DPI = 300  # Tesseract's accuracy falls off below ~300 dpi on ordinary print


@cache
def available() -> bool:
    import pytesseract

    try:
        pytesseract.get_tesseract_version()
    except pytesseract.TesseractNotFoundError:
        return False
    return True


def read_page(image: Any, left: float, top: float, bottom: float, timeout: float) -> PageLayout:
    """`image`: the page rendered at DPI, its top-left corner at (`left`, `top`) in PDF points.
    Raises RuntimeError when Tesseract runs over `timeout` seconds."""
    import pytesseract

    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT, timeout=max(timeout, 0.01))
    scale = 72 / DPI
    words = [dict(zip(data, values, strict=True)) for values in zip(*data.values(), strict=True)]
    words = [w for w in words if w["level"] == 5 and w["text"].strip()]
    text, lines = "", []
    for _, group in groupby(words, key=lambda w: (w["block_num"], w["par_num"], w["line_num"])):
        line_words = list(group)
        if text:
            text += "\n"
        line, text = _line(line_words, text, scale, left, top)
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
