"""Reading a test set file into rows (one dict per question), whatever wrote it: JSONL, a JSON list
or a LlamaIndex `{"examples": [...]}` file, and CSV as spreadsheets save it (Excel's "CSV UTF-8"
starts with a byte order mark; a European Excel separates with ";"; TSV with tabs). Which keys
mean what is decided afterwards, in rag.testsets.formats."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from rag.errors import InvalidTestSetError

Row = tuple[str, dict]  # (where it is, for messages: "file, line n"; the row)
SEPARATORS = ",;\t"  # not "|": it separates answers inside the native format's cells


def read_text(path: Path) -> str:
    """The file's text; a UTF-8 byte order mark (Excel's "CSV UTF-8") is dropped."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidTestSetError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8 "
                                  f'(in Excel: "CSV UTF-8")') from None


def jsonl_rows(path: Path) -> list[Row]:
    rows = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InvalidTestSetError(f"{path}, line {n}: not valid JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise InvalidTestSetError(f"{path}, line {n}: expected a JSON object")
        rows.append((f"{path}, line {n}", row))
    return rows


def json_document(path: Path) -> object:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise InvalidTestSetError(f"{path}, line {e.lineno}: not valid JSON ({e.msg})") from None


def json_rows(path: Path, data: object) -> list[Row]:
    """A JSON list of objects (RAGAS's `to_list()`, DeepEval's saved goldens, promptfoo tests) or a
    LlamaIndex LabelledRagDataset (`{"examples": [...]}`)."""
    if isinstance(data, dict) and isinstance(data.get("examples"), list):
        data = data["examples"]
    if not isinstance(data, list):
        raise InvalidTestSetError(f'{path}: not SQuAD 2.0 JSON ("data"), a LlamaIndex dataset ("examples") '
                                  f"nor a JSON list of questions")
    rows = []
    for n, row in enumerate(data, 1):
        if not isinstance(row, dict):
            raise InvalidTestSetError(f"{path}, item {n}: expected a JSON object")
        rows.append((f"{path}, item {n}", row))
    return rows


def dialect(path: Path, text: str) -> type[csv.Dialect] | csv.Dialect:
    """Tab for .tsv; else the separator csv.Sniffer finds in the first lines, "," when it finds none."""
    if path.suffix.lower() == ".tsv":
        return csv.excel_tab
    try:
        return csv.Sniffer().sniff("\n".join(text.splitlines()[:20]), delimiters=SEPARATORS)
    except csv.Error:
        return csv.excel


def csv_rows(path: Path) -> tuple[list[Row], list[str]]:
    """(rows, the header's columns). Empty cells are left out of a row, as a missing key would be."""
    text = read_text(path)
    sniffed = dialect(path, text)
    reader = csv.DictReader(text.splitlines(keepends=True), dialect=sniffed)
    if not reader.fieldnames:
        raise InvalidTestSetError(f"{path}: no header line")
    rows = []
    for row in reader:
        if None in row:
            raise InvalidTestSetError(f"{path}, line {reader.line_num}: more cells than the header has columns")
        rows.append((f"{path}, line {reader.line_num}", {k: v for k, v in row.items() if v not in (None, "")}))
    return rows, list(reader.fieldnames)
