"""Writers for real test documents in every supported format, and for broken ones."""

from __future__ import annotations

from pathlib import Path


def write_pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def write_html(path: Path, body: str, title: str = "Test page") -> Path:
    path.write_text(f"<!doctype html><html><head><title>{title}</title><style>p {{color: red}}</style>"
                    f"<script>var secret = 'not text';</script></head><body>{body}</body></html>", encoding="utf-8")
    return path
