"""DOCX: paragraphs and tables in the order the document has them, tables one row per line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.loaders.layout import Block, compose, titled
from rag.loaders.limits import Budget, unzipped


def load_docx(path: Path, budget: Budget) -> list[str]:
    """The document's text, titled by its core properties' title when it has one."""
    import docx

    document = docx.Document(unzipped(path, budget))
    return titled([budget.spend(compose(_blocks(document, budget)))], document.core_properties.title)


def _blocks(document: Any, budget: Budget) -> Iterator[Block]:
    from docx.table import Table

    for item in document.iter_inner_content():
        budget.check_time()
        yield table_rows(item) if isinstance(item, Table) else item.text


def table_rows(table: Any) -> list[list[str]]:
    """A python-docx or python-pptx table's rows, each merged cell once: python-docx lists it once per
    grid column it spans, python-pptx lists the columns it covers as spanned cells."""
    rows = []
    for row in table.rows:
        cells = list(row.cells)
        rows.append([cell.text for k, cell in enumerate(cells)
                     if not getattr(cell, "is_spanned", False) and (k == 0 or cell._tc is not cells[k - 1]._tc)])
    return rows
