"""A cited span shown where it stands on its page: the PDF page rendered by PDFium, and the boxes of the
span's characters on that image, one per line of text.

The boxes come from `rag.loaders.pdf.char_boxes`, which maps offsets into the page text the index
stores back to PDFium's own characters, so the highlight covers exactly the cited characters; no
fuzzy search of the rendered text is involved. Faces (the chat UI) call `page_view`; it reads only
documents the index holds, from the folder they were indexed from (the `root` the store keeps)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentNotFoundError
from rag.service import Rag

Box = tuple[float, float, float, float]  # left, top, right, bottom
IMAGE_WIDTH = 1000  # pixels: sharp on a phone at 2x, half a megabyte at most as PNG


@dataclass(frozen=True)
class PageView:
    png: bytes
    width: int
    height: int
    boxes: list[Box]  # in image pixels, one per line of the cited span


def pdf_file(rag: Rag, source: str) -> Path:
    """The file an indexed PDF was read from. Only names the index holds are looked up, and the path
    must stay inside the folder it was indexed from, so a crafted name reads nothing else."""
    document = next((d for d in rag.store.documents() if d["source"] == source), None)
    if document is None:
        raise DocumentNotFoundError(f"no indexed document is called {source!r}")
    if not source.lower().endswith(".pdf"):
        raise ValueError(f"{source} is not a PDF: only PDF pages can be shown")
    root = Path(document["root"]).resolve()
    path = (root / source).resolve()
    if not path.is_relative_to(root):
        raise DocumentNotFoundError(f"no indexed document is called {source!r}")
    if not path.is_file():
        raise FileNotFoundError(f"{source} is no longer in {root}: index the folder again")
    return path


def page_view(rag: Rag, source: str, page: int, start: int, end: int, width: int = IMAGE_WIDTH) -> PageView:
    """Page `page` (from 1) of an indexed PDF as a PNG `width` pixels wide, with the boxes of the stored
    page text's characters `start:end` (as a citation gives them; none for start == end). A page read by
    OCR has no boxes."""
    from rag.loaders.pdf import PDFIUM, char_boxes

    path = pdf_file(rag, source)
    text = rag.store.page_text(source, page)
    if text is None:
        raise ValueError(f"{source} has no page {page} in the index")
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"characters {start}–{end} are not on page {page} of {source}")
    chars = char_boxes(path, page, start, end) if end > start else []
    import pypdfium2 as pdfium

    with PDFIUM:  # PDFium is not thread-safe (see rag.loaders.pdf)
        doc = pdfium.PdfDocument(path)
        try:
            pdf_page = doc[page - 1]
            bitmap = pdf_page.render(scale=width / pdf_page.get_width())
            to_image = bitmap.get_posconv(pdf_page).to_bitmap
            boxes = [_device_box(to_image, line) for line in lines(chars)]
            image = bitmap.to_pil()
            pdf_page.close()
        finally:
            doc.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return PageView(buffer.getvalue(), image.width, image.height, boxes)


def lines(chars: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Character boxes (left, bottom, right, top in PDF points, reading order) joined into one box per
    line: a highlight reads as marked text, not as a row of separate letters. A box starts a new line
    when it lies beside rather than after the last one, or when it shares less than half its height
    with it."""
    merged: list[list[float]] = []
    for left, bottom, right, top in chars:
        if merged:
            line = merged[-1]
            overlap = min(top, line[3]) - max(bottom, line[1])
            if overlap > 0.5 * min(top - bottom, line[3] - line[1]) and left >= line[0]:
                line[:] = [line[0], min(bottom, line[1]), max(right, line[2]), max(top, line[3])]
                continue
        merged.append([left, bottom, right, top])
    return [(a, b, c, d) for a, b, c, d in merged]


def _device_box(to_image, box: tuple[float, float, float, float]) -> Box:
    """A PDF-point box in image pixels (PDFium applies the page's crop box and rotation)."""
    (x0, y0), (x1, y1) = to_image(box[0], box[1]), to_image(box[2], box[3])
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
