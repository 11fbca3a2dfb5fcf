"""Split Pages into citable Chunks whose offsets are exact: `page.text[chunk.start:chunk.end] == chunk.text`."""

from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.types import Chunk, Page

# Paragraphs, then lines, then sentence ends, then clauses, then words: chunks end on the
# largest boundary that fits, so a chunk is a run of whole sentences whenever one fits.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def chunk_id(source: str, page: int | None, start: int, text: str) -> str:
    """Same content at the same place gives the same id, so re-indexing is idempotent."""
    key = f"{source}\x00{page}\x00{start}\x00{text}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS, keep_separator="end", chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, chunk_size // 2), strip_whitespace=True,
    )


def split(page: Page, splitter: RecursiveCharacterTextSplitter) -> list[Chunk]:
    """Chunks in document order. Offsets are found by searching forward from the previous chunk's
    start, so a repeated passage maps to its own occurrence, not the first one in the page."""
    chunks: list[Chunk] = []
    cursor = 0
    for piece in splitter.split_text(page.text):
        start = page.text.find(piece, cursor)
        if start < 0:  # the splitter only ever returns substrings; fail loudly if that changes
            raise AssertionError(f"splitter returned text not found in {page.source}")
        end = start + len(piece)
        chunks.append(Chunk(chunk_id(page.source, page.page, start, piece), page.source, page.page, start, end, piece))
        cursor = start + 1
    return chunks
