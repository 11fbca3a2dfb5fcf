"""PDF pages as cleaned text, read by PDFium (pypdfium2): one text per page, numbered from 1.

PDFium reads real-world PDFs fast and without false alarms, but it inflates any stream it needs (up to
1 GiB each) before it can be stopped. So the file is first checked with qpdf (pikepdf), which parses
without inflating and decrypts what opens with the empty password: its page tree is counted
(RAG_MAX_PDF_PAGES) and every stream PDFium will inflate to read text (content, fonts, object streams;
not images, which text extraction never decodes) is inflated in steps and measured against
RAG_MAX_INFLATED_MB. Pages without a text layer are read by OCR (rag.loaders.ocr).

PDFium's text page gives each character an index and a box; lines become rag.loaders.layout Lines
(cells where the gap between words is wide), and the layout cleanup turns them into the stored text.
`char_boxes` maps a span of that stored text back to PDFium's character boxes."""

from __future__ import annotations

import ctypes
import re
import subprocess
import threading
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.errors import LoadWarning
from rag.loaders import ocr
from rag.loaders.layout import (Cleaned, Line, PageLayout, clean_page, running_keys, running_title, split_cells,
                                title_block, titled)
from rag.loaders.limits import MB, UNZIP_STEP, Budget

Box = tuple[float, float, float, float]  # left, bottom, right, top in PDF points

LINE = re.compile(r"[^\r\n\ufffe]+\ufffe?")  # PDFium ends lines with \r\n, and a hyphenated line with \ufffe
WORD_GAP = re.compile(r" +")
FILE_NAME = re.compile(r"\.(?:docx?|pdf|pptx?|xlsx?|txt|rtf|odt)\b|^Microsoft ", re.I)
BROKEN_METRICS = 5.0  # a font's boxes this many times taller than its tallest letter here are not its height
PDFIUM = threading.Lock()  # PDFium is not thread-safe: `rag serve` may index an upload while another request reads


def load_pdf(path: Path, budget: Budget) -> list[str]:
    """Each page's cleaned text; its title: the first page's title block (its lines in the largest
    type), the metadata's title when it reads like one, and what the running headers and footers the
    cleanup took out say."""
    cleaned, title = _cleaned(path, budget)
    return titled((page.text for page in cleaned), title)


def char_boxes(path: Path, page: int, start: int, end: int) -> list[Box]:
    """PDFium's boxes of the characters shown by `text[start:end]` of page `page` (from 1) as the index
    stores it, in PDF points (y upwards), in reading order; [] for a page read by OCR, which has no
    PDFium characters. The cleanup is recomputed: it is deterministic, and no offset map is stored."""
    from rag.config import Settings

    budget = Budget(path, Settings())
    with PDFIUM, _open(path, budget) as (doc, count):
        layouts = [_text_layer(doc, i, budget) for i in range(count)]
        cleaned = clean_page(layouts[page - 1], running_keys(layouts))
        pdf_page = doc[page - 1]
        textpage = pdf_page.get_textpage()
        try:
            return [_loose_box(textpage, i) for i in cleaned.source_indices(start, end)
                    if not layouts[page - 1].text[i].isspace()]
        finally:
            textpage.close()
            pdf_page.close()


def _cleaned(path: Path, budget: Budget) -> tuple[list[Cleaned], str | None]:
    """Each page's cleaned text, and the title its first page and running lines give. Running headers
    are found on the pages with a text layer only: that keeps `char_boxes` exact without OCR, and OCR'd
    text is too noisy to repeat exactly anyway."""
    with PDFIUM, _open(path, budget) as (doc, count):
        layouts = [_text_layer(doc, i, budget) for i in range(count)]
        keys = running_keys(layouts)
        first = next((layout for layout in layouts if layout.lines), None)
        parts = [first and title_block(first, keys), _metadata_title(doc), running_title(layouts, keys)]
        title = " | ".join(dict.fromkeys(p for p in parts if p)) or None
        scanned = [i for i, layout in enumerate(layouts) if not layout.lines and _has_images(doc, i)]
        layouts = _with_ocr(doc, layouts, scanned, budget)
    return [clean_page(layout, keys) for layout in layouts], title


def _metadata_title(doc: Any) -> str | None:
    """The title the PDF's metadata gives, when it reads like one: two words or more, not the name of
    the file it was printed from ("Microsoft Word - Protocol-230315.docx", "DHS2020")."""
    title = " ".join((doc.get_metadata_dict().get("Title") or "").split())
    return title if len(re.findall(r"[^\W\d_]{2,}", title)) >= 2 and not FILE_NAME.search(title) else None


@contextmanager
def _open(path: Path, budget: Budget) -> Iterator[tuple[Any, int]]:
    """The PDF in PDFium and its number of pages, once qpdf found the file within the limits. qpdf
    counts the page tree; PDFium believes its /Count, which may claim more pages than there are."""
    import pypdfium2 as pdfium

    pages = _check_limits(path, budget)
    doc = pdfium.PdfDocument(path)
    try:
        yield doc, min(pages, len(doc))
    finally:
        doc.close()


def _check_limits(path: Path, budget: Budget) -> int:
    """The number of pages, once qpdf found the file openable and within the page and inflate limits."""
    import pikepdf

    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        budget.fail("PDF is encrypted with a password")
    with pdf:
        pages, limit = len(pdf.pages), budget.settings.max_pdf_pages
        if pages > limit:
            budget.fail(f"{pages:,} pages, over the {limit:,} page limit (RAG_MAX_PDF_PAGES)")
        cap = budget.max_inflated_bytes
        for stream in _inflated_by_pdfium(pdf):
            if _inflated_size(stream, cap) > cap:
                budget.fail(f"PDF is over a safety limit (a decompression bomb?): one of its streams inflates to "
                            f"over {cap / MB:g} MB (RAG_MAX_INFLATED_MB)")
            budget.check_time()
    return pages


def _inflated_by_pdfium(pdf: Any) -> Iterator[bytes]:
    """The raw (decrypted, still compressed) data of every Flate stream that reading text inflates. A
    stream qpdf can't read is left to PDFium, whose own cap is 1 GiB."""
    import pikepdf

    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") == "/Image":
            continue
        filters = obj.get("/Filter")
        first = filters[0] if isinstance(filters, pikepdf.Array) and len(filters) else filters
        if first == "/FlateDecode":
            try:
                yield obj.read_raw_bytes()
            except pikepdf.PdfError:
                continue


def _inflated_size(data: bytes, cap: int) -> int:
    """Bytes `data` inflates to, counted up to just over `cap` in steps, so memory stays at one step."""
    inflater, size = zlib.decompressobj(), 0
    try:
        while data and size <= cap:
            size += len(inflater.decompress(data, UNZIP_STEP))
            data = inflater.unconsumed_tail
    except zlib.error:
        pass  # damaged data: PDFium stops at the same place
    return size


# --- PDFium's text layer -------------------------------------------------------------------------
def _text_layer(doc: Any, i: int, budget: Budget) -> PageLayout:
    page = doc[i]
    textpage = page.get_textpage()
    try:
        text = budget.spend(_page_text(textpage))
        _, bottom, _, top = page.get_bbox()  # get_mediabox() says Letter when the page inherits its box
        return PageLayout(text, list(_lines(textpage, text)), top, bottom)
    finally:
        textpage.close()
        page.close()


def _page_text(textpage: Any) -> str:
    """The text page's characters, one str character per PDFium character index."""
    text = textpage.get_text_range()
    if len(text) == textpage.count_chars():
        return text
    import pypdfium2.raw as pdfium_c  # characters beyond the BMP came out as two UTF-16 units: one at a time

    return "".join(_character(pdfium_c.FPDFText_GetUnicode(textpage.raw, i)) for i in range(textpage.count_chars()))


def _character(code: int) -> str:
    return "\ufffd" if 0xD800 <= code < 0xE000 else chr(code)


def _lines(textpage: Any, text: str) -> Iterator[Line]:
    for match in LINE.finditer(text):
        start, end = _stripped(text, *match.span())
        if start == end:
            continue
        first, last = _loose_box(textpage, start), _loose_box(textpage, end - 1)
        top, bottom = _line_extent(textpage, text, start, end, (first, last))
        height = max(top - bottom, 1e-3)
        gaps = []
        for gap in WORD_GAP.finditer(text, start, end):
            before, after = _loose_box(textpage, gap.start() - 1), _loose_box(textpage, gap.end())
            gaps.append((gap.start(), gap.end(), after[0] - before[2], before[2]))
        cells = split_cells(text, start, end, [gap[:3] for gap in gaps], height)
        first_word_end = gaps[0][3] if gaps else last[2]
        last_cell = _loose_box(textpage, cells[-1][0])[0] if len(cells) > 1 else first[0]
        yield Line(cells, first[0], last[2], top, bottom, first_word_end - first[0], last_cell)


def _line_extent(textpage: Any, text: str, start: int, end: int, ends: tuple[Box, Box]) -> tuple[float, float]:
    """Top and bottom of the line of characters start..end - 1: those of the loose box (the font's full
    height) of median height among its first, middle and last characters, as one of them may be a
    superscript or a symbol of another font. Unless the font's metrics are broken: one protocol's loose
    boxes are 11.6 times as tall as its letters, where the other 48 PDFs' are 1.7 to 3.2 times, which
    made every line look far taller than the gap to the next and left its wrapped lines unjoined.
    Such a line spans its glyphs' own boxes (from its descenders to its ascenders). `ends`: the loose
    boxes of its first and last characters, which the caller has."""
    sample = (start, (start + end) // 2, end - 1)
    loose = [ends[0], _loose_box(textpage, sample[1]), ends[1]]
    box = sorted(loose, key=lambda b: b[3] - b[1])[len(loose) // 2]
    letters = [textpage.get_charbox(i) for i in sample if text[i].isalnum()]
    if not letters or box[3] - box[1] <= BROKEN_METRICS * max(b[3] - b[1] for b in letters):
        return box[3], box[1]
    glyphs = [textpage.get_charbox(i) for i in range(start, end)]
    return max(b[3] for b in glyphs), min(b[1] for b in glyphs)


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _loose_box(textpage: Any, index: int) -> Box:
    """The character's box at its font's full height, so that lines of one size have one height."""
    import pypdfium2.raw as pdfium_c

    rect = pdfium_c.FS_RECTF()
    pdfium_c.FPDFText_GetLooseCharBox(textpage.raw, index, ctypes.byref(rect))
    return rect.left, rect.bottom, rect.right, rect.top


# --- pages without a text layer -----------------------------------------------------------------
def _has_images(doc: Any, i: int) -> bool:
    import pypdfium2.raw as pdfium_c

    page = doc[i]
    try:
        return any(obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects())
    finally:
        page.close()


def _with_ocr(doc: Any, layouts: list[PageLayout], scanned: list[int], budget: Budget) -> list[PageLayout]:
    """`layouts` with the scanned pages read by OCR, as far as the OCR engine is installed and time allows.
    Pages left unread are reported: with a warning when other pages have text, else as a LoadError."""
    if not scanned:
        return layouts
    if not ocr.available():
        return _unread(layouts, scanned, f"{ocr.ENGINE} is not installed: {ocr.INSTALL_HINT}", budget)
    layouts = list(layouts)
    for n, i in enumerate(scanned):
        if budget.seconds_left <= 0:
            return _unread(layouts, scanned[n:], budget.over_time(), budget)
        page = doc[i]
        left, bottom, _, top = page.get_bbox()  # the page as shown (get_cropbox() says Letter when inherited)
        dpi = ocr.render_dpi(*page.get_size())
        image = page.render(scale=dpi / 72, grayscale=True).to_pil()
        page.close()
        try:
            layouts[i] = ocr.read_page(image, dpi, left, top, bottom, budget.seconds_left)
        except subprocess.TimeoutExpired:
            return _unread(layouts, scanned[n:], budget.over_time(), budget)
        budget.spend(layouts[i].text)
    return layouts


def _unread(layouts: list[PageLayout], unread: list[int], why: str, budget: Budget) -> list[PageLayout]:
    pages = ", ".join(str(i + 1) for i in unread)
    if not any(layout.lines for layout in layouts):
        budget.fail(f"no text layer, and its scanned pages could not be read: {why}")
    warnings.warn(LoadWarning(str(budget.path), f"scanned page(s) {pages} left out: {why}"), stacklevel=2)
    return layouts

