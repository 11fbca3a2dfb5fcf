"""What reading one file may cost, shared by every loader: files come from anywhere, so a hostile one
(a zip or PDF bomb, a 50 MB single line, a PDF of 100,000 pages) must be stopped early with a LoadError
that names the limit, rather than stop the whole run with a traceback or exhaust memory."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from pathlib import Path
from typing import NoReturn

from rag.config import Settings
from rag.errors import LoadError

MB = 1_000_000
UNZIP_STEP = 1 << 20  # bytes inflated per read of a zip member


class Budget:
    """What reading one file may still cost. Loaders spend it as text comes out, so that a hostile
    file is stopped part-way, while memory and time are still small, rather than after it was expanded."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self.settings = settings
        self.chars = 0
        self.deadline = time.monotonic() + settings.max_load_seconds

    @property
    def kind(self) -> str:
        return self.path.suffix.lstrip(".").upper()

    @property
    def max_inflated_bytes(self) -> int:
        return int(self.settings.max_inflated_mb * MB)

    @property
    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def fail(self, reason: str) -> NoReturn:
        raise LoadError(str(self.path), reason)

    def over_time(self) -> str:
        return f"reading took over {self.settings.max_load_seconds:g} s (RAG_MAX_LOAD_SECONDS)"

    def check_time(self) -> None:
        """Called between pages, paragraphs and tags: a parser can't be stopped in the middle of one."""
        if self.seconds_left < 0:
            self.fail(self.over_time())

    def spend(self, text: str) -> str:
        self.chars += len(text)
        if self.chars > self.settings.max_file_chars:
            self.fail(f"over {self.settings.max_file_chars:,} characters of text (RAG_MAX_FILE_CHARS)")
        self.check_time()
        return text


def read_utf8(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data:  # anywhere, not only in the first 8 KB: UTF-8 text never holds a NUL
        raise LoadError(str(path), "looks like a binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LoadError(str(path), f"not valid UTF-8 (byte {e.start})") from None


def unzipped(path: Path, budget: Budget) -> io.BytesIO:
    """A zip-based file's members (DOCX, PPTX, XLSX, EPUB), inflated in steps and stored uncompressed in
    memory, for the format's library to read.

    A zip bomb either declares its inflated sizes, which are added up before anything is inflated, or
    lies about them in its headers: zipfile's read() of a whole member (what those libraries do)
    inflates all of it, up to 2 GB, before cutting to the declared size, while reads in steps stop
    there (and a lying member then fails its CRC check)."""
    cap = budget.max_inflated_bytes
    packed = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(packed, "w") as dst:
        declared = sum(info.file_size for info in src.infolist())
        if declared > cap:
            budget.fail(f"{budget.kind} would unzip to {declared / MB:,.0f} MB, over the {cap / MB:g} MB limit "
                        "(RAG_MAX_INFLATED_MB): a zip bomb?")
        for info in src.infolist():
            with src.open(info) as part, dst.open(info.filename, "w") as copy:
                shutil.copyfileobj(part, copy, UNZIP_STEP)
    packed.seek(0)
    return packed
