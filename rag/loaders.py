"""Turn a file into Pages of text. Plain text keeps the file's own characters, so offsets index the
file itself; PDF, DOCX and HTML keep the extracted text, which the index stores for re-checking.

Files come from anywhere, so each one is read within limits (Settings: max_file_mb, max_file_chars,
max_inflated_mb, max_pdf_pages, max_load_seconds): a hostile file (a zip or PDF bomb, a 50 MB single
line, a PDF of 100,000 pages) is stopped early with a LoadError that names the limit, rather than
stopping the whole run with a traceback or exhausting memory, and the rest of the folder is indexed."""

from __future__ import annotations

import io
import re
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from rag.config import Settings
from rag.errors import LoadError
from rag.types import Page

if TYPE_CHECKING:
    from pypdf import PdfReader

BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
MB = 1_000_000
UNZIP_STEP = 1 << 20  # bytes inflated per read of a DOCX part


class Budget:
    """What reading one file may still cost. Loaders spend it as text comes out, so that a hostile
    file is stopped part-way, while memory and time are still small, rather than after it was expanded."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self.settings = settings
        self.chars = 0
        self.deadline = time.monotonic() + settings.max_load_seconds

    @property
    def max_inflated_bytes(self) -> int:
        return int(self.settings.max_inflated_mb * MB)

    def fail(self, reason: str) -> NoReturn:
        raise LoadError(str(self.path), reason)

    def check_time(self) -> None:
        """Called between pages, paragraphs and tags: a parser can't be stopped in the middle of one."""
        if time.monotonic() > self.deadline:
            self.fail(f"reading took over {self.settings.max_load_seconds:g} s (RAG_MAX_LOAD_SECONDS)")

    def spend(self, text: str) -> str:
        self.chars += len(text)
        if self.chars > self.settings.max_file_chars:
            self.fail(f"over {self.settings.max_file_chars:,} characters of text (RAG_MAX_FILE_CHARS)")
        self.check_time()
        return text


def _read_utf8(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data:  # anywhere, not only in the first 8 KB: UTF-8 text never holds a NUL
        raise LoadError(str(path), "looks like a binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LoadError(str(path), f"not valid UTF-8 (byte {e.start})") from None


def _tidy(text: str) -> str:
    """Extracted text: collapse runs of blank lines, which extraction produces and which carry no meaning."""
    return BLANK_RUNS.sub("\n\n", text).strip()


def load_text(path: Path, budget: Budget) -> list[str]:
    return [budget.spend(_read_utf8(path))]


def load_html(path: Path, budget: Budget) -> list[str]:
    from bs4 import BeautifulSoup

    class TimedSoup(BeautifulSoup):
        """Parsing tag-dense HTML takes seconds per MB: the deadline is checked at every tag."""

        def handle_starttag(self, *args: Any, **kwargs: Any) -> Any:
            budget.check_time()
            return super().handle_starttag(*args, **kwargs)

    soup = TimedSoup(_read_utf8(path), "lxml")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    return [budget.spend(_tidy(soup.get_text("\n")))]


def load_pdf(path: Path, budget: Budget) -> list[str]:
    """pypdf bounds each inflated stream by RAG_MAX_INFLATED_MB (and has limits of its own, on tokens, page
    trees...); the pages, text and time of the whole file are bounded here."""
    from pypdf import PasswordType, PdfReader, apply_configuration
    from pypdf.errors import DependencyError, LimitReachedError

    cap = budget.max_inflated_bytes
    try:
        with apply_configuration(zlib_maximum_output_length=cap, lzw_maximum_output_length=cap,
                                 run_length_maximum_output_length=cap, brotli_maximum_output_length=cap):
            reader = PdfReader(path)  # tries the empty password, which opens PDFs that only restrict printing etc.
            if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                budget.fail("PDF is encrypted with a password")
            _check_page_count(reader, budget)
            return [budget.spend(_tidy(page.extract_text() or "")) for page in reader.pages]
    except LimitReachedError as e:
        budget.fail(f"PDF is over a safety limit ({e}): a decompression bomb? Streams may inflate to "
                    f"{cap / MB:g} MB (RAG_MAX_INFLATED_MB)")
    except DependencyError as e:  # AES encryption without the `cryptography` package
        budget.fail(f"PDF needs a package that is not installed ({e})")


def _check_page_count(reader: PdfReader, budget: Budget) -> None:
    """The declared /Count first, as counting the pages parses every one (11 s for 100,000); then the real
    count, as a hostile file may declare fewer pages than it has."""
    limit = budget.settings.max_pdf_pages
    declared = reader.root_object["/Pages"].get("/Count")
    count = declared if isinstance(declared, int) and declared > limit else len(reader.pages)
    if count > limit:
        budget.fail(f"{count:,} pages, over the {limit:,} page limit (RAG_MAX_PDF_PAGES)")


def _unzipped(path: Path, budget: Budget) -> io.BytesIO:
    """The DOCX's parts, inflated in steps and stored uncompressed in memory, for python-docx to read.

    A zip bomb either declares its inflated sizes, which are added up before anything is inflated, or
    lies about them in its headers: zipfile's read() of a whole part (what python-docx does) inflates
    all of it, up to 2 GB, before cutting to the declared size, while reads in steps stop there (and a
    lying part then fails its CRC check)."""
    cap = budget.max_inflated_bytes
    packed = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(packed, "w") as dst:
        declared = sum(info.file_size for info in src.infolist())
        if declared > cap:
            budget.fail(f"DOCX would unzip to {declared / MB:,.0f} MB, over the {cap / MB:g} MB limit "
                        "(RAG_MAX_INFLATED_MB): a zip bomb?")
        for info in src.infolist():
            with src.open(info) as part, dst.open(info.filename, "w") as copy:
                shutil.copyfileobj(part, copy, UNZIP_STEP)
    return packed


def load_docx(path: Path, budget: Budget) -> list[str]:
    import docx

    document = docx.Document(_unzipped(path, budget))
    parts = [budget.spend(p.text) for p in document.paragraphs]
    for table in document.tables:
        parts += [budget.spend("\t".join(cell.text for cell in row.cells)) for row in table.rows]
    return [_tidy("\n\n".join(parts))]


LOADERS: dict[str, Callable[[Path, Budget], list[str]]] = {
    ".txt": load_text, ".md": load_text, ".markdown": load_text,
    ".html": load_html, ".htm": load_html, ".pdf": load_pdf, ".docx": load_docx,
}


def _extract(path: Path, budget: Budget) -> list[str]:
    """The loader's texts. Parsers of hostile files raise anything (zipfile, lxml, pypdf's limits, even
    MemoryError): each becomes a LoadError for this file, so that it can't stop the rest of the folder."""
    try:
        return LOADERS[path.suffix.lower()](path, budget)
    except LoadError:
        raise
    except Exception as e:  # noqa: BLE001 (see the docstring)
        kind = path.suffix.lstrip(".").upper()
        raise LoadError(str(path), f"{kind} could not be read ({type(e).__name__}: {e})") from None


def load(path: Path, source: str, max_bytes: int, settings: Settings | None = None) -> list[Page]:
    """All pages of one file, numbered from 1 for PDFs and None otherwise. Raises LoadError.

    `max_bytes` is the caller's size limit (RAG_MAX_FILE_MB); `settings` gives the other limits
    (unset: Settings() from the environment)."""
    if path.suffix.lower() not in LOADERS:
        raise LoadError(str(path), f"unsupported file type {path.suffix!r}")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(str(path), f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit (RAG_MAX_FILE_MB)")
    texts = _extract(path, Budget(path, settings or Settings()))
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
