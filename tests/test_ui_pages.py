"""rag.pages: a PDF citation's page as an image with boxes over exactly the cited characters, for
indexed PDFs only."""

from __future__ import annotations

import io

import pytest

from rag.errors import DocumentNotFoundError
from rag.pages import lines, page_view

from .files import write_pdf
from .ui_browser import OTTER_PAGES

SPAN = "Volunteers recorded 412 otters along 80 kilometres of river bank."


@pytest.fixture
def indexed(rag, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder / "otter-report.pdf", OTTER_PAGES)
    (folder / "notes.md").write_text("# Notes\n\nOtters are counted at dawn.\n")
    rag.index([folder], progress=False)
    return rag, folder / "otter-report.pdf"


def test_the_boxes_cover_the_cited_characters_line_by_line(indexed):
    import pypdfium2 as pdfium
    from PIL import Image

    from rag.loaders.pdf import char_boxes

    rag, path = indexed
    text = rag.store.page_text("otter-report.pdf", 1)
    start = text.index(SPAN)
    view = page_view(rag, "otter-report.pdf", 1, start, start + len(SPAN), width=800)
    assert Image.open(io.BytesIO(view.png)).size == (view.width, view.height) and view.width == 800
    doc = pdfium.PdfDocument(path)
    left, _, right, top = doc[0].get_bbox()  # the crop box, inherited or not
    doc.close()
    scale = view.width / (right - left)
    chars = [((x0 - left) * scale, (top - y1) * scale, (x1 - left) * scale, (top - y0) * scale)
             for x0, y0, x1, y1 in char_boxes(path, 1, start, start + len(SPAN))]
    assert len(view.boxes) == 2  # the sentence wraps onto a second line
    for x0, y0, x1, y1 in chars:
        assert any(b[0] - 1 <= x0 and x1 <= b[2] + 1 and b[1] - 1 <= y0 and y1 <= b[3] + 1 for b in view.boxes)


def test_character_boxes_join_into_one_box_per_line():
    row = [(10, 100, 15, 110), (15, 100, 20, 110), (20, 99, 26, 111)]
    assert lines(row + [(10, 80, 15, 90)]) == [(10, 99, 26, 111), (10, 80, 15, 90)]


def test_only_indexed_pdfs_are_shown(indexed):
    rag, _ = indexed
    with pytest.raises(DocumentNotFoundError):
        page_view(rag, "../otter-report.pdf", 1, 0, 5)
    with pytest.raises(ValueError, match="not a PDF"):
        page_view(rag, "notes.md", None, 0, 5)
    with pytest.raises(ValueError, match="not on page"):
        page_view(rag, "otter-report.pdf", 1, 0, 10**6)
