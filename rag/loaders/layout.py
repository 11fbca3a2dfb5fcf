"""Page text that reads the way the page does, so that chunks, sentences and citations are whole.

PDFs (and OCR) give visual lines: a sentence wrapped over two lines would be cited up to the line
break, running headers and page numbers would be indexed (and cited) on every page, and a table row
would read as one run of words. The cleaned text joins wrapped lines, drops running lines, keeps a
table row on one line with its cells apart, and separates paragraphs by a blank line. It is what the
index stores and what citations point into, so it is built from spans of the source text plus a few
inserted separators, and `Cleaned.source_indices` can tell, for any span of it, which characters of
the source (PDFium's text page) it came from: that is what a page view needs to highlight a citation.

DOCX, HTML and the other structured formats know their paragraphs and tables already: `compose`
writes them with the same separators. Everything here is pure: no file, no PDF library."""

from __future__ import annotations

import math
import re
import statistics
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

CELL = "\t"  # between the cells of a table row
ROW = "\n"  # between lines that belong together (table rows, lines set close without being wrapped)
PARAGRAPH = "\n\n"
SOFT_HYPHEN = "\ufffe"  # PDFium's mark for a hyphen it found at a line end, where it already joined the word

MARGIN_ZONE = 0.12  # running headers and footers sit within this fraction of the page height from an edge
RUNNING_SHARE = 0.3  # ... and repeat (digits aside) on at least this share of the pages (and on 2 or more)
CELL_GAP = 1.0  # a gap between words wider than this many line heights separates table cells
TABLE_PITCH = 3.0  # rows of one table are at most this many line heights apart
BLOCK_REACH = 3  # lines either side that tell how wide a block of text is where a line sits
HIDDEN = 0.3  # a line set this many times smaller than the page's usual line is hidden text (ids, markers) ...
UNREADABLE = 3.0  # ... if it is also under this many points high, which no one reads on paper
SAME_ROW = 0.25  # lines whose tops and bottoms are this many line heights apart or less sit on one row
CELL_SHARE = 0.3  # a cell of a table given column by column is narrower than this share of the page's text

Table = Sequence[Sequence[str]]
Block = str | Table  # a paragraph, or a table's rows of cells

BULLET = re.compile(r"[•●○◦▪■□➢✓✔*·o\-–—]")
NUMBERED = re.compile(r"\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,5})[.)]|\d{1,3}(?:\.\d{1,3})+\.?|\([a-zA-Z0-9]{1,4}\)")
HYPHENS = "-\u2010\u00ad"
WHITESPACE = re.compile(r"\s+")
COUNTER = re.compile(r"[a-z].*#|#.*[a-z]")  # a running key of words and a number: "page # of #"
OPEN_END = re.compile(r"(?:,|\b[a-z][a-z'’]*)$")  # a line that stops mid-clause: "…, the", "…30,"
ITEM_START = re.compile(r"[•●○◦▪■□➢✓✔*·\-–—]\s*[^\W\d_]")  # "- Mobility", "•Pain"; not "-5"
LEADERS = re.compile(r" ?(?:\. ?){4,}|…{2,}")  # dot leaders of a table of contents


@dataclass(frozen=True)
class Line:
    """One visual line: the spans of the page's source text it shows (more than one: the cells of a
    table row) and where it sits, in PDF points with y upwards."""

    cells: tuple[tuple[int, int], ...]
    left: float
    right: float
    top: float
    bottom: float
    first_word: float  # width of its first word: had it fitted at the end of the line above, that line ended on purpose
    last_cell: float  # left edge of its last cell, which may wrap onto the next lines ("Remarks:  It was ... and")

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 1e-3)

    @property
    def is_row(self) -> bool:
        return len(self.cells) > 1


@dataclass(frozen=True)
class PageLayout:
    """A page's source text (PDFium's text page, or the words OCR read), its lines in reading order and
    the vertical extent of the page, which tells the margins from the body."""

    text: str
    lines: list[Line]
    top: float
    bottom: float


@dataclass(frozen=True)
class Cleaned:
    """The cleaned text and where it came from: `runs` are (offset in text, offset in the source, length);
    characters outside every run were inserted (separators)."""

    text: str
    runs: tuple[tuple[int, int, int], ...]

    def source_indices(self, start: int, end: int) -> list[int]:
        """Source offsets of the characters of `text[start:end]` that were taken from the source."""
        first = max(bisect_right(self.runs, (start, math.inf, math.inf)) - 1, 0)
        out: list[int] = []
        for at, src, length in self.runs[first:]:
            if at >= end:
                break
            lo, hi = max(start, at), min(end, at + length)
            out.extend(range(src + lo - at, src + hi - at))
        return out


class _Builder:
    """Cleaned text assembled from spans of the source and inserted separators."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.parts: list[str] = []
        self.runs: list[tuple[int, int, int]] = []
        self.size = 0

    def take(self, start: int, end: int) -> None:
        for piece_start, piece_end in _without_soft_hyphens(self.source, start, end):
            self.runs.append((self.size, piece_start, piece_end - piece_start))
            self._add(self.source[piece_start:piece_end])

    def put(self, literal: str) -> None:
        self._add(literal)

    def _add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def build(self) -> Cleaned:
        return Cleaned("".join(self.parts), tuple(self.runs))


def _without_soft_hyphens(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    while (mark := text.find(SOFT_HYPHEN, start, end)) != -1:
        if mark > start:
            yield start, mark
        start = mark + 1
    if end > start:
        yield start, end


# --- running headers and footers ----------------------------------------------------------------
def running_key(text: str) -> str:
    """What stays the same of a running line from page to page: page numbers and dates change."""
    return WHITESPACE.sub(" ", re.sub(r"\d+", "#", text.lower())).strip()


def _in_margin(line: Line, page: PageLayout) -> bool:
    middle, zone = (line.top + line.bottom) / 2, MARGIN_ZONE * (page.top - page.bottom)
    return middle >= page.top - zone or middle <= page.bottom + zone


def _margin_keys(page: PageLayout) -> Iterable[tuple[Line, str, list[str]]]:
    """Each line in the page's margins with its key and its cells' keys."""
    for line in page.lines:
        if _in_margin(line, page):
            cells = [page.text[s:e] for s, e in line.cells]
            yield line, running_key(" ".join(cells)), [running_key(cell) for cell in cells]


def running_keys(pages: Sequence[PageLayout]) -> set[str]:
    """Lines and cells (digits aside) that sit in the top or bottom margin of many pages: running
    headers, footers and page numbers. Cells count on their own, as a footer often holds the page
    number in a cell of its own ("Page 2 of 3 | DEN08WA042"), and so do whole lines, as the same
    footer may come out in one cell on some pages and in two on others."""
    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({key for _, line, cells in _margin_keys(page) for key in [line, *cells]})
    needed = max(2, math.ceil(RUNNING_SHARE * len(pages)))
    return {key for key, count in seen.items() if count >= needed}


TITLE_CELLS = 3  # running cells that make a document's title at most
LETTERS = re.compile(r"[^\W\d_]{3}")
PAGE_NUMBER = re.compile(r"^(?:page\s*\d+|\d{1,3})(?:\s*of\s*\d+)?\b|\b(?:page\s*\d+|\d{1,3})(?:\s*of\s*\d+)?$",
                         re.I)  # "Page 3 of 10", "15": the page number beside a running title


def running_title(pages: Sequence[PageLayout], keys: set[str]) -> str | None:
    """What the running headers and footers say on page after page, page numbers aside: the document's
    own name ("U.S. Department of Transportation | Strategic Plan", "Apple Inc. | Q1 2023 Form 10-Q"),
    which the layout cleanup drops from the page text but retrieval wants beside every chunk. The
    cells that repeat on the most pages, headers before footers, left to right, as first written;
    None when no running cell has a word in it."""
    seen: Counter[str] = Counter()
    first: dict[str, tuple[bool, float, str]] = {}
    for page in pages:
        middle = (page.top + page.bottom) / 2
        on_page = set()
        for line, _, cells in _margin_keys(page):
            for (start, end), key in zip(line.cells, cells, strict=True):
                text = PAGE_NUMBER.sub("", " ".join(page.text[start:end].split())).strip(" |-–—")
                if key in keys and LETTERS.search(text):
                    on_page.add(key)
                    first.setdefault(key, (line.top < middle, line.left, text))
        seen.update(on_page)
    if not seen:
        return None
    most = max(seen.values())
    chosen = sorted(first[key] for key, count in seen.items() if count >= RUNNING_SHARE * most)
    names = list(dict.fromkeys(text for _, _, text in chosen))
    return " | ".join(names[:TITLE_CELLS])


TITLE_LINES = 4  # lines of a title block at most
TITLE_TYPE = 1.25  # a title block's type is at least this much larger than the first page's usual type
TITLE_CHARS = 120  # a longer line in large type is a standfirst, not a title
TITLE_BODY = 600  # characters of usual type after which large type is a section heading, not the title


def title_block(page: PageLayout, keys: set[str]) -> str | None:
    """The first page's lines set in type larger than its usual (the median over its characters),
    in reading order, before the body of the page has begun (TITLE_BODY): how a document announces itself ("NVIDIA CORPORATION", "Strategic Plan FY
    2022-2026", "FORM 10-Q"), which its later pages rarely repeat. None when no line stands out."""
    lines = [(line, one_line(" ".join(page.text[s:e] for s, e in line.cells)))
             for line in _visible(_without_running(page, keys))]
    sizes = sorted((line.height, len(text)) for line, text in lines)
    if not sizes:
        return None
    half, seen, usual = sum(n for _, n in sizes) / 2, 0, sizes[-1][0]
    for height, n in sizes:
        seen += n
        if seen >= half:
            usual = height
            break
    big, body = [], 0
    for line, text in lines:
        if line.height < TITLE_TYPE * usual:
            body += len(text)
        elif body <= TITLE_BODY and LETTERS.search(text) and len(text) <= TITLE_CHARS:
            big.append(text)
    return " | ".join(list(dict.fromkeys(big))[:TITLE_LINES]) or None


class Texts(list):
    """A loader's texts, one per page, with the document's title when the loader found one."""

    title: str | None = None


def titled(texts: Iterable[str], title: str | None) -> Texts:
    """A loader's texts with the title its format gives the document, on one line (None: it has none)."""
    out = Texts(texts)
    out.title = one_line(title or "") or None
    return out


def _without_running(page: PageLayout, keys: set[str]) -> list[Line]:
    """Lines in the margins that are running lines, made of running cells, or that hold a running page
    counter ("Page # of #") beside a header that changes within the document."""
    running = {id(line) for line, key, cells in _margin_keys(page)
               if key in keys or all(c in keys for c in cells) or any(c in keys and COUNTER.search(c) for c in cells)}
    return [line for line in page.lines if id(line) not in running]


# --- wrapped lines --------------------------------------------------------------------------------
class _Geometry:
    """What tells a wrapped line from one that ends a paragraph, measured on the page: its usual line
    pitch, and where text ends on the right, both in the page's column that starts at a line's left
    edge and in the line's own block (the run of lines set close together: a narrow table cell)."""

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines = lines
        pitches = [a.bottom - b.bottom for a, b in pairwise(lines)
                   if not a.is_row and not b.is_row and 0.5 < (a.bottom - b.bottom) / max(a.height, b.height) < 3]
        self.pitch = statistics.median(pitches) if pitches else 0.0
        self.columns: dict[int, float] = {}
        self.blocks: list[int] = []  # block number of each line, -1 for table rows
        for i, line in enumerate(lines):
            if line.is_row:
                self.blocks.append(-1)
                continue
            key = self._bucket(line)
            self.columns[key] = max(self.columns.get(key, line.right), line.right)
            above = lines[i - 1] if i else None
            same = above is not None and not above.is_row and self.close(above, line) and \
                abs(above.left - line.left) <= 2 * line.height
            self.blocks.append(self.blocks[-1] if same else i)

    @staticmethod
    def _bucket(line: Line, left: float | None = None) -> int:
        return int((line.left if left is None else left) // (2 * line.height))

    def _column_right(self, line: Line, left: float) -> float:
        key = self._bucket(line, left)
        return max(self.columns.get(k, line.right) for k in (key - 1, key, key + 1))

    def _block_right(self, i: int) -> float:
        """Where the lines near line i in its block end on the right: a narrow table cell's width."""
        near = range(max(i - BLOCK_REACH, 0), min(i + BLOCK_REACH + 1, len(self.lines)))
        return max(self.lines[j].right for j in near if self.blocks[j] == self.blocks[i])

    def close(self, above: Line, below: Line) -> bool:
        """`below` is the next line of the same block: right under `above`, at the page's usual pitch."""
        pitch, height = above.bottom - below.bottom, max(above.height, below.height)
        overlap = below.left < above.right and above.left < below.right
        return overlap and 0.5 * height <= pitch <= max(1.25 * self.pitch, 1.5 * height)

    def together(self, i: int) -> bool:
        """Lines i - 1 and i, not wrapped, still belong together: set close, or rows of one table."""
        above, below = self.lines[i - 1], self.lines[i]
        if above.is_row and below.is_row:
            return 0 < above.bottom - below.bottom <= TABLE_PITCH * max(above.height, below.height)
        return self.close(above, below)

    def wrapped(self, i: int, text: str) -> bool:
        """Line i - 1 was wrapped into line i: same size of type, and the first word of line i would not
        have fitted at the end of the line above, whose column was full. A block narrower than its page
        column (a table cell) counts as the column only when line i goes on in lower case or line i - 1
        ends mid-clause (a comma, a word in lower case: "By September 30," / "2023, the"): the lines of
        an address are short too, and end on names. A table row wraps into the line below when its last cell does."""
        above, below = self.lines[i - 1], self.lines[i]
        if below.is_row or not self.close(above, below):
            return False
        if above.is_row and abs(below.left - above.last_cell) > above.height:
            return False
        if text[above.cells[-1][1] - 1] == SOFT_HYPHEN:
            return True
        if abs(above.height - below.height) > 0.25 * max(above.height, below.height):
            return False
        below_text = text[below.cells[0][0]:below.cells[0][1]]
        if _starts_item(below_text, text[above.cells[-1][0]:above.cells[-1][1]]):
            return False
        needed = above.right + below.first_word + 0.3 * above.height + 0.5 * above.height
        if needed > self._column_right(above, above.last_cell if above.is_row else above.left):
            return True
        above_text = text[above.cells[-1][0]:above.cells[-1][1]]
        return self.blocks[i - 1] >= 0 and needed > self._block_right(i - 1) and (
            below_text[0].islower() or OPEN_END.search(above_text) is not None)


def is_list_marker(token: str) -> bool:
    """A bullet or an item number ("•", "3.", "2.1", "b)", "(iv)")."""
    return BULLET.fullmatch(token) is not None or NUMBERED.fullmatch(token) is not None


def split_cells(text: str, start: int, end: int, gaps: Sequence[tuple[int, int, float]],
                height: float) -> tuple[tuple[int, int], ...]:
    """A line's `text[start:end]` as cells, given the gaps between its words (start and end in `text`,
    width): gaps wider than CELL_GAP line heights separate cells, except after a list marker (a tab
    stop), and except when every gap is wide and about as wide as the others with words in lower case:
    justified prose in a narrow column ("been   in   contact")."""
    wide = [(a, b) for a, b, width in gaps if width > CELL_GAP * height and not is_list_marker(text[start:a].strip())]
    widths = [width for _, _, width in gaps]
    if len(gaps) >= 2 and len(wide) == len(gaps) and max(widths) < 1.3 * min(widths) and any(
            text[b].islower() for _, b, _ in gaps):
        wide = []
    bounds = [start, *(x for gap in wide for x in gap), end]
    return tuple(zip(bounds[::2], bounds[1::2], strict=True))


def _starts_item(text: str, above: str) -> bool:
    """`text` starts a list item: after a bullet, or after an item number when the line above ended a
    sentence or clause (else "2.5 mg" may just be the rest of a wrapped sentence)."""
    first = text.split(maxsplit=1)
    if len(first) < 2:
        return False
    return BULLET.fullmatch(first[0]) is not None or (
        NUMBERED.fullmatch(first[0]) is not None and above.rstrip()[-1:] in tuple(".:;!?"))


def _split_at_leaders(line: Line, text: str) -> Line:
    """A table of contents entry ("Mission ........ 7") is a row of two cells: its leader dots reach the
    margin, so it would otherwise pass for a wrapped line."""
    cells = []
    for start, end in line.cells:
        for leader in LEADERS.finditer(text, start, end):
            if leader.start() > start:
                cells.append((start, leader.start()))
            start = leader.end()
        if end > start:
            cells.append((start, end))
    return replace(line, cells=tuple(cells)) if len(cells) != len(line.cells) else line


# --- hidden lines and tables given column by column ----------------------------------------------
def _visible(lines: list[Line]) -> list[Line]:
    """The lines a reader sees: not those set in type too small to read and a fraction of the page's
    usual size (a 1-point "_ca108f14-c375-…" or "PLACEHOLDER_3" that a publishing tool left as an anchor)."""
    if not lines:
        return lines
    usual = statistics.median(line.height for line in lines)
    return [line for line in lines if line.height >= min(HIDDEN * usual, UNREADABLE)]


def _same_row(a: Line, b: Line) -> bool:
    tolerance = SAME_ROW * max(a.height, b.height)
    return abs(a.top - b.top) <= tolerance and abs(a.bottom - b.bottom) <= tolerance


def _beside(row: Line, line: Line) -> bool:
    """`line` is left or right of `row`, not over it."""
    slack = 0.5 * line.height
    return line.left >= row.right - slack or line.right <= row.left + slack


def _merged(row: Line, line: Line) -> Line:
    """`line`'s cells put into `row`, left to right; the row keeps its own vertical place."""
    if line.left >= row.left:
        cells, last = row.cells + line.cells, line.last_cell if line.is_row else line.left
    else:
        cells, last = line.cells + row.cells, row.last_cell if row.is_row else row.left
    return replace(row, cells=cells, left=min(row.left, line.left), right=max(row.right, line.right), last_cell=last)


def in_rows(lines: list[Line], source: str) -> list[Line]:
    """Lines in reading order where a table came out column by column (PDFium gives the text in the
    order it was drawn: "Target / Actual", then "2023-09-30 / 2021-10-01", then "1.22 / 1.36"): a line
    that goes back up the page to the top of the run that began the last time the text went back up
    is the start of the next column; it and the lines under it join the rows they sit on, so that a
    row's label and its figures end up on one line. Only single-line cells narrower than CELL_SHARE of
    the page's text are joined this way: the columns of a page of prose, and cells that wrap over
    several lines, stay paragraphs."""
    if len(lines) < 3:
        return lines
    narrow = CELL_SHARE * (max(line.right for line in lines) - min(line.left for line in lines))

    def cell_like(line: Line, below: Line | None) -> bool:
        start, end = line.cells[0]
        return all(_width(line, cell) < narrow for cell in line.cells) and not (
            below is not None and _continues(line, below, source)) and not ITEM_START.match(source, start, end)

    out: list[Line] = []
    first: list[Line] = []  # each row of `out` as it came, before other lines joined it
    group = 0  # where the current run of columns begins in `out`
    zipping = False  # the line before joined a row: the lines under it may too
    for i, line in enumerate(lines):
        below = lines[i + 1] if i + 1 < len(lines) else None
        back_up = bool(out) and _middle(line) - _middle(out[-1]) > SAME_ROW * max(line.height, out[-1].height)
        target = None
        if (zipping or back_up and _same_row(out[group], line)) and cell_like(line, below) and not any(
                _continues(a, b, source) or not cell_like(a, None) for a, b in pairwise(first[group:])):
            target = next((k for k in range(group, len(out)) if _same_row(out[k], line) and _beside(out[k], line)
                           and cell_like(first[k], None)), None)
        if target is not None:
            out[target] = _merged(out[target], line)
            zipping = True
            continue
        zipping = False
        if back_up:
            group = len(out)
        out.append(line)
        first.append(line)
    return out


def _continues(above: Line, below: Line, source: str) -> bool:
    """`below` goes on with `above`'s text: right under it, same left edge, in lower case."""
    height = max(above.height, below.height)
    return 0 < above.bottom - below.bottom <= 2 * height and abs(above.left - below.left) <= height and \
        source[below.cells[0][0]].islower()


def _middle(line: Line) -> float:
    return (line.top + line.bottom) / 2


def _width(line: Line, cell: tuple[int, int]) -> float:
    """A cell's width, from the line's width in proportion to the characters it holds."""
    chars = sum(end - start for start, end in line.cells)
    return (line.right - line.left) * (cell[1] - cell[0]) / max(chars, 1)


def clean_page(page: PageLayout, keys: set[str]) -> Cleaned:
    """The page's text without its running lines, wrapped lines joined, one line per table row."""
    lines = in_rows(_visible(_without_running(page, keys)), page.text)
    lines = [_split_at_leaders(line, page.text) for line in lines]
    geometry = _Geometry(lines)
    out = _Builder(page.text)
    for i, line in enumerate(lines):
        if i:
            if geometry.wrapped(i, page.text):
                _join_wrapped(out, page.text, lines[i - 1], line)
            else:
                out.put(ROW if geometry.together(i) else PARAGRAPH)
        for k, (start, end) in enumerate(line.cells):
            if k:
                out.put(CELL)
            out.take(start, end)
    return out.build()


def _join_wrapped(out: _Builder, text: str, above: Line, below: Line) -> None:
    """A space between the two lines; nothing after a hyphen followed by a lower-case letter, which
    joins the word. PDFium's soft hyphen (a word it found broken) is dropped; a hyphen it left in place
    is kept, as it most likely belongs to the word ("e-mail", "5-point")."""
    last = text[above.cells[-1][1] - 1]
    if last != SOFT_HYPHEN and not (last in HYPHENS and text[below.cells[0][0]].islower()):
        out.put(" ")


def clean_document(pages: Sequence[PageLayout]) -> list[Cleaned]:
    """Every page cleaned; running lines are found across all pages of the document."""
    keys = running_keys(pages)
    return [clean_page(page, keys) for page in pages]


# --- formats that know their structure ----------------------------------------------------------
def one_line(text: str) -> str:
    """A paragraph or a cell on one line: whitespace (newlines, tabs) between words becomes a space."""
    return WHITESPACE.sub(" ", text).strip()


def compose(blocks: Iterable[Block]) -> str:
    """Paragraphs separated by a blank line; a table's rows one per line, cells separated by CELL."""
    parts = []
    for block in blocks:
        if isinstance(block, str):
            text = one_line(block)
        else:
            rows = [CELL.join(one_line(cell) for cell in row) for row in block]
            text = ROW.join(row for row in rows if row.strip())
        if text:
            parts.append(text)
    return PARAGRAPH.join(parts)
