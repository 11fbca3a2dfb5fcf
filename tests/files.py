"""Writers for real test documents in every supported format, and for broken ones."""

from __future__ import annotations

from pathlib import Path


def write_pdf(path: Path, pages: list[str], title: list[str] | None = None) -> Path:
    """`title`: lines set in large type at the top of the first page, as a cover's title block is."""
    from fpdf import FPDF

    pdf = FPDF()
    for n, text in enumerate(pages):
        pdf.add_page()
        if n == 0 and title:
            pdf.set_font("helvetica", "B", size=20)
            for line in title:
                pdf.multi_cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def write_docx(path: Path, paragraphs: list[str], title: str = "") -> Path:
    """`title`: the core properties' title (File > Properties in Word)."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def write_html(path: Path, body: str, title: str = "Test page") -> Path:
    path.write_text(f"<!doctype html><html><head><title>{title}</title><style>p {{color: red}}</style>"
                    f"<script>var secret = 'not text';</script></head><body>{body}</body></html>", encoding="utf-8")
    return path


def write_pptx(path: Path, slides: list[list[str]], table: list[list[str]] | None = None) -> Path:
    """One slide per list of paragraphs; `table` goes on the last slide."""
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    for paragraphs in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        frame = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(8), Inches(2)).text_frame
        frame.text = paragraphs[0]
        for text in paragraphs[1:]:
            frame.add_paragraph().text = text
    if table:
        shape = slide.shapes.add_table(len(table), len(table[0]), Inches(1), Inches(4), Inches(8), Inches(2))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                shape.table.cell(r, c).text = text
    deck.save(str(path))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(str(path))
    return path


def write_epub(path: Path, chapters: list[str]) -> Path:
    """One chapter per HTML body."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("Test book")
    items = []
    for i, body in enumerate(chapters, start=1):
        item = epub.EpubHtml(title=f"Chapter {i}", file_name=f"chapter{i}.xhtml")
        item.content = f"<html><body>{body}</body></html>"
        book.add_item(item)
        items.append(item)
    book.toc = items
    book.spine = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    epub.write_epub(str(path), book)
    return path


def write_scanned_pdf(path: Path, lines: list[str], text_page: str | None = None) -> Path:
    """A PDF whose first page is an image of `lines` (a scan, no text layer), after a page with a text
    layer when `text_page` is given."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((200, 300 + 90 * n), line, fill=0, font=ImageFont.load_default(size=56))
    pdf = FPDF()
    if text_page is not None:
        pdf.add_page()
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, text_page)
    pdf.add_page()
    pdf.image(image, x=0, y=0, w=210, h=297)
    pdf.output(str(path))
    return path
