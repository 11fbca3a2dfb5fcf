"""Split Pages into citable Chunks whose offsets are exact: `page.text[chunk.start:chunk.end] == chunk.text`."""

from __future__ import annotations

import hashlib
import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.cards import HEADING, document_name
from rag.types import Chunk, Page

# Paragraphs, then lines, then sentence ends, then clauses, then words: chunks end on the
# largest boundary that fits, so a chunk is a run of whole sentences whenever one fits.
NON_BLANK = re.compile(r"\S")
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]




def chunk_id(source: str, page: int | None, start: int, text: str, context: str = "") -> str:
    """Same content at the same place gives the same id, so re-indexing is idempotent. The context is
    part of it: a chunk whose context changed is embedded again."""
    key = f"{source}\x00{page}\x00{start}\x00{text}\x00{context}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def contexts(page: Page, starts: list[int], name: str | None = None) -> list[str]:
    """Each chunk's context: the document's name (its card's label, rag.cards, when given), then the
    nearest heading above the chunk."""
    name = document_name(page.source, page.title) if name is None else name
    headings = [(m.start(), m.group(1).strip()) for m in HEADING.finditer(page.text)]
    out = []
    for start in starts:
        above = [h for at, h in headings if at <= start]
        out.append(" — ".join(filter(None, [name, above[-1] if above else ""])))
    return out


class _Splitter(RecursiveCharacterTextSplitter):
    """LangChain's splitter, except for text without any separator (a long run with no space or newline):
    LangChain cuts that into one string per character and merges them back, which for a 50 MB single
    line costs gigabytes and minutes; the same windows are cut here directly."""

    def _split_text(self, text: str, separators: list[str]) -> list[str]:
        if any(sep and sep in text for sep in separators):
            return super()._split_text(text, separators)
        return _windows(text, self._chunk_size, self._chunk_overlap)


def _windows(text: str, size: int, overlap: int) -> list[str]:
    """What LangChain's merge of single characters gives: `size` characters every `size - overlap`,
    the last one reaching the end, whitespace stripped, blank ones dropped."""
    step = size - overlap
    starts = range(0, max(len(text) - overlap, 1), step)
    return [piece for start in starts if (piece := text[start:start + size].strip())]


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return _Splitter(
        separators=SEPARATORS, keep_separator="end", chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, chunk_size // 2), strip_whitespace=True,
    )


def split(page: Page, splitter: RecursiveCharacterTextSplitter, name: str | None = None) -> list[Chunk]:
    """Chunks in document order, each at the place the splitter took it from. `name`: what names the
    document in each chunk's context (default: `document_name`)."""
    pieces = splitter.split_text(page.text)
    starts = _locate(page.text, pieces, splitter._chunk_overlap)
    return [Chunk(chunk_id(page.source, page.page, s, p, c), page.source, page.page, s, s + len(p), p, c)
            for s, p, c in zip(starts, pieces, contexts(page, starts, name), strict=True)]


def _locate(text: str, pieces: list[str], overlap: int) -> list[int]:
    """Start offsets for the splitter's pieces, which tile the text in order: each one starts at the
    first non-blank character after the previous one, or inside its last `overlap` characters.

    A plain forward search (what LangChain's `add_start_index` does) can pick an earlier copy of a
    repeated passage and leave a gap; here every candidate place is tried, depth first, until the
    pieces tile the whole text."""

    def first_non_blank(i: int) -> int:
        found = NON_BLANK.search(text, i)
        return found.start() if found else len(text)

    def candidates(k: int, starts: list[int]) -> list[int]:
        if k == 0:
            first = first_non_blank(0)
            return [first] if text.startswith(pieces[0], first) else []
        start, end = starts[-1], starts[-1] + len(pieces[k - 1])
        after = first_non_blank(end)
        return [s for s in range(max(start, end - overlap), after + 1) if text.startswith(pieces[k], s)]

    if not pieces:
        return []
    starts: list[int] = []  # where pieces 0..k-1 are placed; one list, so memory stays linear in the pieces
    untried = [iter(candidates(0, starts))]  # untried[k]: the places left to try for piece k
    while untried:
        place = next(untried[-1], None)
        if place is None:  # piece k fits nowhere after piece k-1's place: move piece k-1 on
            untried.pop()
            if starts:
                starts.pop()
            continue
        if len(starts) == len(pieces) - 1:
            if first_non_blank(place + len(pieces[-1])) == len(text):
                return [*starts, place]
            continue
        starts.append(place)
        untried.append(iter(candidates(len(starts), starts)))
    raise AssertionError("the splitter's chunks do not tile the text")  # it only returns substrings in order
