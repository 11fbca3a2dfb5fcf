"""Spreadsheets: XLSX (one page per sheet, numbered from 1) and CSV, each row one line with its cells
separated like a table row elsewhere, so that a row can be cited whole."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rag.loaders.layout import compose
from rag.loaders.limits import Budget, read_utf8, unzipped

SNIFF_CHARS = 64 * 1024  # what csv.Sniffer reads to guess the delimiter


def load_xlsx(path: Path, budget: Budget) -> list[str]:
    """Each sheet's name, then its rows. Read-only mode streams the sheets' XML, which is already
    unzipped within the inflate limit."""
    import openpyxl

    book = openpyxl.load_workbook(unzipped(path, budget), read_only=True, data_only=True)
    try:
        return [budget.spend(compose([sheet.title, list(_rows(sheet.iter_rows(values_only=True), budget))]))
                for sheet in book.worksheets]
    finally:
        book.close()


def load_csv(path: Path, budget: Budget) -> list[str]:
    """The delimiter (comma, semicolon, tab...) is guessed from the start of the file; a quoted cell
    holding line breaks stays in its row."""
    text = read_utf8(path)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:SNIFF_CHARS])
    except csv.Error:  # one column, or too little to tell
        dialect = csv.excel
    return [budget.spend(compose([list(_rows(csv.reader(io.StringIO(text, newline=""), dialect), budget))]))]


def _rows(rows: Iterable[Iterable[Any]], budget: Budget) -> Iterator[list[str]]:
    for n, row in enumerate(rows):
        if n % 1000 == 0:
            budget.check_time()
        cells = [_cell(value) for value in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            yield cells


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
