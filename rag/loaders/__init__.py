"""Turn a file into Pages of text. Plain text keeps the file's own characters, so offsets index the
file itself; every other format keeps its extracted, cleaned text (rag.loaders.layout), which the index
stores for re-checking. One module per format; rag.loaders.limits holds what reading one file may cost.

Files come from anywhere, so each one is read within limits (Settings: max_file_mb, max_file_chars,
max_inflated_mb, max_pdf_pages, max_load_seconds): a hostile file (a zip or PDF bomb, a 50 MB single
line, a PDF of 100,000 pages) is stopped early with a LoadError that names the limit, rather than
stopping the whole run with a traceback or exhausting memory, and the rest of the folder is indexed.
A file indexed without part of its content (scanned pages and no OCR engine) raises a LoadWarning
through `warnings`, which callers may record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from rag.config import Settings
from rag.errors import LoadError
from rag.loaders.ebook import load_epub
from rag.loaders.limits import Budget
from rag.loaders.markup import load_html
from rag.loaders.pdf import load_pdf
from rag.loaders.sheets import load_csv, load_xlsx
from rag.loaders.slides import load_pptx
from rag.loaders.text import load_text
from rag.loaders.word import load_docx
from rag.types import Page

LOADERS: dict[str, Callable[[Path, Budget], list[str]]] = {
    ".txt": load_text, ".md": load_text, ".markdown": load_text, ".csv": load_csv,
    ".html": load_html, ".htm": load_html, ".pdf": load_pdf, ".docx": load_docx,
    ".pptx": load_pptx, ".xlsx": load_xlsx, ".epub": load_epub,
}
PAGED = {".pdf", ".pptx", ".xlsx", ".epub"}  # one text per page, slide, sheet or chapter, numbered from 1


def _extract(path: Path, budget: Budget) -> list[str]:
    """The loader's texts. Parsers of hostile files raise anything (zipfile, lxml, PDFium, even
    MemoryError): each becomes a LoadError for this file, so that it can't stop the rest of the folder."""
    try:
        return LOADERS[path.suffix.lower()](path, budget)
    except LoadError:
        raise
    except Exception as e:  # noqa: BLE001 (see the docstring)
        raise LoadError(str(path), f"{budget.kind} could not be read ({type(e).__name__}: {e})") from None


def load(path: Path, source: str, max_bytes: int, settings: Settings | None = None) -> list[Page]:
    """All pages of one file, numbered from 1 for paged formats (PDF, PPTX, XLSX, EPUB) and None
    otherwise. Raises LoadError.

    `max_bytes` is the caller's size limit (RAG_MAX_FILE_MB); `settings` gives the other limits
    (unset: Settings() from the environment)."""
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        raise LoadError(str(path), f"unsupported file type {path.suffix!r}")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(str(path), f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit (RAG_MAX_FILE_MB)")
    texts = _extract(path, Budget(path, settings or Settings()))
    paged = suffix in PAGED
    title = getattr(texts, "title", None)  # the document's own title, where its format gives one (Texts)
    pages = [Page(source, i + 1 if paged else None, t, title) for i, t in enumerate(texts) if t.strip()]
    if not pages:
        raise LoadError(str(path), "no text found (an empty file, or nothing but images)")
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
