"""Turn a file into Pages of text. Plain text keeps the file's own characters, so offsets index the
file itself; PDF, DOCX and HTML keep the extracted text, which the index stores for re-checking."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from rag.errors import LoadError
from rag.types import Page

BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")


def _read_utf8(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise LoadError(str(path), "looks like a binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LoadError(str(path), f"not valid UTF-8 (byte {e.start})") from None


def _tidy(text: str) -> str:
    """Extracted text: collapse runs of blank lines, which extraction produces and which carry no meaning."""
    return BLANK_RUNS.sub("\n\n", text).strip()


def load_text(path: Path) -> list[str]:
    return [_read_utf8(path)]


def load_html(path: Path) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_utf8(path), "lxml")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    return [_tidy(soup.get_text("\n"))]


def load_pdf(path: Path) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise LoadError(str(path), "PDF is encrypted")
        return [_tidy(p.extract_text() or "") for p in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise LoadError(str(path), f"PDF could not be read ({e})") from None


def load_docx(path: Path) -> list[str]:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as e:  # python-docx raises zipfile, KeyError and lxml errors for broken files
        raise LoadError(str(path), f"DOCX could not be read ({type(e).__name__}: {e})") from None
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += ["\t".join(cell.text for cell in row.cells) for row in table.rows]
    return [_tidy("\n\n".join(parts))]


LOADERS: dict[str, Callable[[Path], list[str]]] = {
    ".txt": load_text, ".md": load_text, ".markdown": load_text,
    ".html": load_html, ".htm": load_html, ".pdf": load_pdf, ".docx": load_docx,
}


def load(path: Path, source: str, max_bytes: int) -> list[Page]:
    """All pages of one file, numbered from 1 for PDFs and None otherwise. Raises LoadError."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(str(path), f"unsupported file type {path.suffix!r}")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(str(path), f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit (RAG_MAX_FILE_MB)")
    texts = loader(path)
    paged = path.suffix.lower() == ".pdf"
    pages = [Page(source, i + 1 if paged else None, t) for i, t in enumerate(texts) if t.strip()]
    if not pages:
        raise LoadError(str(path), "no text found (empty file, or a scanned PDF without a text layer)")
    return pages


def discover(paths: list[Path]) -> Iterator[tuple[Path, Path]]:
    """(root, file) for every file under the given paths, in a stable order; hidden files and folders
    are left out. Unsupported types are yielded too, so that they are reported rather than silently ignored."""
    for given in paths:
        if given.is_file():
            yield given.parent, given
            continue
        for f in sorted(given.rglob("*")):
            rel = f.relative_to(given)
            if f.is_file() and not any(part.startswith(".") for part in rel.parts):
                yield given, f
