"""HTML (and the chapters of an EPUB): the visible text as paragraphs and table rows.

Text is grouped by the block element it sits in, so inline markup (`<b>`, `<a>`) stays inside its
sentence and a `<p>` or `<li>` becomes one paragraph, and each `<tr>` is one line with its cells apart.
The tree is walked flat (`descendants`) and each string looks up its ancestors: a recursive walk would
fail on a page nested 100,000 deep."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path
from typing import Any

from rag.loaders.layout import Block, compose, titled
from rag.loaders.limits import Budget, read_utf8

HIDDEN = ["script", "style", "noscript", "template"]
BREAKS = {"br", "hr"}
BLOCKS = {"address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl",
          "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
          "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "ul"} | BREAKS
CELLS = {"td", "th"}
CHECK_EVERY = 1000  # strings between two looks at the clock


def parse(markup: str | bytes, budget: Budget) -> Any:
    """BeautifulSoup with lxml, the deadline checked at every tag: parsing tag-dense HTML takes seconds per MB."""
    from bs4 import BeautifulSoup

    class TimedSoup(BeautifulSoup):
        def handle_starttag(self, *args: Any, **kwargs: Any) -> Any:
            budget.check_time()
            return super().handle_starttag(*args, **kwargs)

    soup = TimedSoup(markup, "lxml")
    for tag in soup(HIDDEN):
        tag.decompose()
    return soup


def blocks(soup: Any, budget: Budget) -> list[Block]:
    """Paragraphs and tables in document order."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    segments = []  # (table, row, cell, paragraph, text) per visible string; ids, so that groupby can compare them
    breaks = 0
    for n, node in enumerate(soup.descendants):
        if n % CHECK_EVERY == 0:
            budget.check_time()
        if isinstance(node, Tag):
            breaks += node.name in BREAKS
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            block, cell = _containers(node)
            row = cell.parent if cell is not None else None
            table = row.find_parent("table") if row is not None else None
            segments.append((id(table) if table else None, id(row), id(cell), (id(block), breaks), str(node)))
    out: list[Block] = []
    for table, in_table in groupby(segments, key=lambda s: s[0]):
        if table is None:
            out += ["".join(s[4] for s in para) for _, para in groupby(in_table, key=lambda s: s[3])]
        else:
            out.append([["".join(s[4] for s in cell) for _, cell in groupby(row, key=lambda s: s[2])]
                        for _, row in groupby(in_table, key=lambda s: s[1])])
    return out


def _containers(node: Any) -> tuple[Any, Any]:
    """The nearest block element around a string, and the table cell around it if any (which wins:
    paragraphs inside a cell are that cell's text)."""
    block = cell = None
    for parent in node.parents:
        if parent.name in CELLS:
            return block, parent
        if block is None and parent.name in BLOCKS:
            block = parent
    return block, cell


def load_html(path: Path, budget: Budget) -> list[str]:
    """The page's visible text, titled by its <title>."""
    soup = parse(read_utf8(path), budget)
    return titled([budget.spend(compose(blocks(soup, budget)))], soup.title.get_text() if soup.title else None)
