import subprocess
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import LoadError, LoadWarning
from rag.loaders import discover, load, ocr
from rag.loaders.pdf import char_boxes

from .files import write_docx, write_epub, write_html, write_pdf, write_pptx, write_scanned_pdf, write_xlsx

MB = 1_000_000


def test_text_file_keeps_its_own_characters_and_newlines(tmp_path):
    raw = "Line one.\r\nLine two —\tunicode ‘quotes’.\n\n\nEnd"
    (tmp_path / "a.txt").write_bytes(raw.encode())
    [page] = load(tmp_path / "a.txt", "a.txt", MB)
    assert page.text == raw and page.page is None and page.source == "a.txt"


def test_markdown_is_loaded_as_its_text(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n\nSome *text*.", encoding="utf-8")
    assert load(tmp_path / "a.md", "a.md", MB)[0].text == "# Title\n\nSome *text*."


def test_html_keeps_visible_text_and_drops_scripts_and_styles(tmp_path):
    write_html(tmp_path / "a.html", "<h1>Heading</h1><p>The <b>river</b> is long.</p>")
    [page] = load(tmp_path / "a.html", "a.html", MB)
    assert "Heading" in page.text and "river" in page.text
    assert "secret" not in page.text and "color" not in page.text


def test_pdf_pages_are_numbered_from_one(tmp_path):
    write_pdf(tmp_path / "a.pdf", ["Alpha page text.", "Beta page text."])
    pages = load(tmp_path / "a.pdf", "a.pdf", MB)
    assert [p.page for p in pages] == [1, 2]
    assert "Beta" in pages[1].text and "Beta" not in pages[0].text


def test_docx_paragraphs_are_loaded(tmp_path):
    write_docx(tmp_path / "a.docx", ["First paragraph.", "Second paragraph."])
    assert load(tmp_path / "a.docx", "a.docx", MB)[0].text == "First paragraph.\n\nSecond paragraph."


@pytest.mark.parametrize("name, content, reason", [
    ("binary.txt", bytes(range(256)) * 10, "binary"),
    ("latin1.txt", "café".encode("latin-1"), "not valid UTF-8"),
    ("empty.md", b"", "no text found"),
    ("empty.csv", b"", "no text found"),
    ("blank.txt", b"  \n\n \t", "no text found"),
    ("truncated.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "PDF could not be read"),
    ("notzip.docx", b"this is not a zip archive", "DOCX could not be read"),
    ("notzip.pptx", b"this is not a zip archive", "PPTX could not be read"),
    ("notzip.xlsx", b"this is not a zip archive", "XLSX could not be read"),
    ("notzip.epub", b"this is not a zip archive", "EPUB could not be read"),
    ("latin1.csv", "café;1".encode("latin-1"), "not valid UTF-8"),
    ("image.png", b"\x89PNG\r\n", "unsupported file type"),
])
def test_broken_files_raise_a_load_error_with_a_reason(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load(tmp_path / name, name, MB)


def test_files_over_the_size_limit_are_refused(tmp_path):
    (tmp_path / "big.txt").write_text("x" * 2000)
    with pytest.raises(LoadError, match="over the"):
        load(tmp_path / "big.txt", "big.txt", 1000)


def test_discover_walks_folders_in_order_and_skips_hidden_files(tmp_path):
    for name in ["b.txt", "a.md", "sub/c.pdf", ".hidden.txt", ".git/config"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = [f.relative_to(root).as_posix() for root, f in discover([tmp_path])]
    assert found == ["a.md", "b.txt", "sub/c.pdf"]


def test_discover_takes_a_single_file_relative_to_its_folder(tmp_path):
    (tmp_path / "one.txt").write_text("x")
    assert list(discover([tmp_path / "one.txt"])) == [(tmp_path, tmp_path / "one.txt")]


# --- structure: tables, slides, sheets, chapters --------------------------------------------------
def test_html_inline_markup_stays_in_its_sentence_and_table_rows_are_lines(tmp_path):
    write_html(tmp_path / "a.html", "<p>The <b>river</b> is\n long.</p><table><tr><th>Year</th><th>Flow</th></tr>"
                                    "<tr><td><p>2023</p></td><td>1,200 m³/s</td></tr></table><p>After.</p>")
    [page] = load(tmp_path / "a.html", "a.html", MB)
    assert "The river is long.\n\nYear\tFlow\n2023\t1,200 m³/s\n\nAfter." in page.text


def test_docx_tables_are_rows_in_document_order(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Before the table.")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([["Item", "Cost"], ["Pump", "$40"]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    document.add_paragraph("After the table.")
    document.save(str(tmp_path / "a.docx"))
    [page] = load(tmp_path / "a.docx", "a.docx", MB)
    assert page.text == "Before the table.\n\nItem\tCost\nPump\t$40\n\nAfter the table."


def test_pptx_has_one_page_per_slide_with_its_paragraphs_and_table_rows(tmp_path):
    write_pptx(tmp_path / "a.pptx", [["Quarterly review", "Sales grew."], ["Outlook"]],
               table=[["Region", "Q1"], ["North", "12"]])
    pages = load(tmp_path / "a.pptx", "a.pptx", MB)
    assert [(p.page, p.text) for p in pages] == [(1, "Quarterly review\n\nSales grew."),
                                                  (2, "Outlook\n\nRegion\tQ1\nNorth\t12")]


def test_xlsx_has_one_page_per_sheet_named_first_with_rows_as_lines(tmp_path):
    write_xlsx(tmp_path / "a.xlsx", {"Revenue": [["Year", "Amount"], [2023, 1204.5], [None, None]],
                                      "Notes": [["Audited."]]})
    pages = load(tmp_path / "a.xlsx", "a.xlsx", MB)
    assert [(p.page, p.text) for p in pages] == [(1, "Revenue\n\nYear\tAmount\n2023\t1204.5"), (2, "Notes\n\nAudited.")]


def test_csv_rows_are_lines_and_a_quoted_line_break_stays_in_its_row(tmp_path):
    (tmp_path / "a.csv").write_text('name;note\nPump;"needs\na seal"\nValve;ok\n', encoding="utf-8")
    [page] = load(tmp_path / "a.csv", "a.csv", MB)
    assert page.text == "name\tnote\nPump\tneeds a seal\nValve\tok" and page.page is None


def test_epub_has_one_page_per_chapter(tmp_path):
    write_epub(tmp_path / "a.epub", ["<h1>One</h1><p>The first <i>chapter</i>.</p>", "<p>The second.</p>"])
    pages = load(tmp_path / "a.epub", "a.epub", MB)
    assert [(p.page, p.text) for p in pages] == [(1, "One\n\nThe first chapter."), (2, "The second.")]


# --- scanned PDFs ---------------------------------------------------------------------------------
SCANNED = ["The pump station opened in 1998.", "It serves four villages."]


def test_a_scanned_pdf_page_is_read_by_ocr(tmp_path):
    [page] = load(write_scanned_pdf(tmp_path / "scan.pdf", SCANNED), "scan.pdf", 50 * MB)
    assert "pump station opened in 1998" in page.text and "four villages" in page.text and page.page == 1


def test_a_scanned_page_is_laid_out_like_a_page_with_a_text_layer(tmp_path):
    lines = ["The pump station on the north bank opened in 1998 after three",
             "years of planning, and it now serves four villages.", "",
             "Maintenance is done by a crew of six who live in the nearest", "village."]
    [page] = load(write_scanned_pdf(tmp_path / "scan.pdf", lines), "scan.pdf", 50 * MB)
    assert page.text == ("The pump station on the north bank opened in 1998 after three years of planning, and it now "
                         "serves four villages.\n\nMaintenance is done by a crew of six who live in the nearest village.")


def test_without_an_ocr_engine_scanned_pages_are_left_out_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    path = write_scanned_pdf(tmp_path / "mixed.pdf", SCANNED, text_page="A page with a text layer.")
    with pytest.warns(LoadWarning, match=r"scanned page\(s\) 2 left out: Tesseract OCR is not installed"):
        pages = load(path, "mixed.pdf", 50 * MB)
    assert [p.page for p in pages] == [1]


def test_scanned_pages_still_unread_at_the_time_limit_are_left_out_with_a_warning(tmp_path, monkeypatch):
    def out_of_time(image, dpi, left, top, bottom, timeout):  # Tesseract killed at the file's deadline
        raise subprocess.TimeoutExpired("tesseract", timeout)

    monkeypatch.setattr(ocr, "read_page", out_of_time)
    path = write_scanned_pdf(tmp_path / "mixed.pdf", SCANNED, text_page="A page with a text layer.")
    with pytest.warns(LoadWarning, match=r"scanned page\(s\) 2 left out: reading took over 60 s"):
        pages = load(path, "mixed.pdf", 50 * MB, Settings(max_load_seconds=60))
    assert [p.page for p in pages] == [1]


def test_a_scan_without_an_ocr_engine_is_refused_naming_the_engine(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(LoadError, match="no text layer.*Tesseract OCR is not installed"):
        load(write_scanned_pdf(tmp_path / "scan.pdf", SCANNED), "scan.pdf", 50 * MB)


# --- PDF character boxes ----------------------------------------------------------------------------
def test_char_boxes_are_pdfium_boxes_of_a_span_of_the_stored_text(tmp_path):
    path = write_pdf(tmp_path / "a.pdf", ["Alpha page text.", "The valve was replaced in March."])
    page = load(path, "a.pdf", MB)[1]
    start = page.text.index("valve")
    boxes = char_boxes(path, 2, start, start + len("valve"))
    assert len(boxes) == 5
    assert all(left < right and bottom < top for left, bottom, right, top in boxes)
    assert [box[0] for box in boxes] == sorted(box[0] for box in boxes)  # left to right on one line
    assert len({round(box[1]) for box in boxes}) == 1


def test_a_pdf_whose_font_metrics_are_broken_still_has_its_wrapped_lines_joined():
    # a real protocol (tests/data/pdfs, MIT: see LICENSE.txt there) whose font's boxes are 11.6 times as
    # tall as its letters: every line looked taller than the gap to the next
    path = Path(__file__).parent / "data" / "pdfs" / "NCT06154122_Prot_000.pdf"
    page = load(path, "protocol.pdf", 4 * MB)[0]
    assert "has potential for people with SCI during rehabilitation" in page.text


def test_a_pdfs_running_header_and_footer_become_its_title_and_leave_its_text(tmp_path):
    from fpdf import FPDF

    class Filing(FPDF):
        def header(self):
            self.set_font("helvetica", size=9)
            self.cell(0, 6, "Acme Corp", align="L")
            self.ln(12)

        def footer(self):
            self.set_y(-15)
            self.set_font("helvetica", size=9)
            self.cell(0, 6, f"Q1 2023 Form 10-Q      {self.page_no()}", align="C")

    pdf = Filing()
    for text in ["Net sales rose in every segment.", "Operating income fell.", "Cash rose."]:
        pdf.add_page()
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, text)
    pdf.output(str(tmp_path / "filing.pdf"))
    pages = load(tmp_path / "filing.pdf", "filing.pdf", MB)
    assert pages[0].title == "Acme Corp | Q1 2023 Form 10-Q" and {p.title for p in pages} == {pages[0].title}
    assert not any("Acme" in p.text or "10-Q" in p.text for p in pages)


def test_a_pdf_page_that_inherits_its_size_from_the_page_tree_is_measured_at_that_size(tmp_path):
    import pikepdf

    from rag.loaders import pdf as pdf_loader
    from rag.loaders.limits import Budget

    path = write_pdf(tmp_path / "a.pdf", ["Alpha page text."])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        del pdf.pages[0].obj["/MediaBox"]
        pdf.Root.Pages["/MediaBox"] = pikepdf.Array([0, 0, 500, 900])  # not Letter, which PDFium falls back to
        pdf.save(path)
    budget = Budget(path, Settings())
    with pdf_loader._open(path, budget) as (doc, _):
        layout = pdf_loader._text_layer(doc, 0, budget)
    assert (layout.bottom, layout.top) == (0, 900)
