"""Question sets for `rag eval`, in the formats other tools write (rag.testsets.formats says which
keys are read) from JSONL, JSON or CSV files (rag.testsets.files), and SQuAD 2.0 JSON, whose
paragraphs become the corpus (as do the `context` fields of SQuAD rows from the Hugging Face Hub).
A bad file is refused whole, with the line that broke it, before any work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InvalidTestSetError
from rag.testsets.files import Row, csv_rows, json_document, json_rows, jsonl_rows
from rag.testsets.formats import SQUAD, Detected, Item, detect, item

__all__ = ["Item", "TestSet", "load_jsonl", "load_squad", "load_testset", "read_testset", "write_corpus"]
SUFFIXES = (".jsonl", ".json", ".csv", ".tsv")


@dataclass
class TestSet:
    path: Path
    corpus: dict[str, str] | None  # {file name: text} when the set brings its documents
    items: list[Item]
    detected: Detected


def read_testset(path: Path) -> TestSet:
    """The set, how its keys were read, and its own corpus if it brings one."""
    path = Path(path)
    if not path.is_file():
        raise InvalidTestSetError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = json_document(path)
        squad = isinstance(data, dict) and "data" in data
        testset = squad_testset(path, data) if squad else rows_testset(path, json_rows(path, data))
    elif suffix == ".jsonl":
        testset = rows_testset(path, jsonl_rows(path))
    elif suffix in (".csv", ".tsv"):
        testset = rows_testset(path, *csv_rows(path))
    else:
        raise InvalidTestSetError(f"{path}: unknown test set format {suffix!r}; use {', '.join(SUFFIXES)}")
    if not testset.items:
        raise InvalidTestSetError(f"{path}: no questions in it")
    return testset


def rows_testset(path: Path, rows: list[Row], columns: list[str] | None = None) -> TestSet:
    detected = detect(rows, columns)
    if columns is not None and detected.question not in columns:
        raise InvalidTestSetError(f'{path}, line 1: the header needs a question column ("question", "user_input", '
                                  f'"input" or "query"); it has {", ".join(map(repr, columns))}')
    corpus, sources = hub_squad_corpus(rows) if detected.gold is SQUAD else (None, [None] * len(rows))
    if corpus is not None:
        detected.documents = "context"
        detected.ignored.pop("context", None)
    return TestSet(path, corpus, [item(where, row, detected, source) for (where, row), source in zip(rows, sources)],
                   detected)


def squad_testset(path: Path, data: object) -> TestSet:
    corpus, items = load_squad(path, data)
    return TestSet(path, corpus, items, Detected("SQuAD 2.0 JSON", "question", SQUAD, ["answers"], "is_impossible",
                                                 "data → paragraphs → context"))


def load_testset(path: Path) -> tuple[dict[str, str] | None, list[Item]]:
    """(the set's own corpus, or None when it is asked about documents given separately; items)."""
    testset = read_testset(path)
    return testset.corpus, testset.items


def load_jsonl(path: Path) -> list[Item]:
    """The questions of a JSONL file whatever its name (`rag ask --batch`)."""
    rows = jsonl_rows(Path(path))
    detected = detect(rows)
    return [item(where, row, detected) for where, row in rows]


def paragraph_name(title: object, n: int) -> str:
    """Paragraphs are named after their article and numbered in order (Normans_p000.txt, …,
    Rhine_p061.txt), as a user's files would be named after their subject."""
    stem = re.sub(r"[^\w()-]+", "_", str(title or "article")).strip("_")
    return f"{stem}_p{n:03d}.txt"


def load_squad(path: Path, data: object = None) -> tuple[dict[str, str], list[Item]]:
    """({file name: paragraph text}, items) of a SQuAD 2.0 JSON file."""
    try:
        data = json_document(Path(path)) if data is None else data
        paragraphs: dict[str, str] = {}
        items: list[Item] = []
        for article in data["data"]:
            for para in article["paragraphs"]:
                name = paragraph_name(article.get("title"), len(paragraphs))
                paragraphs[name] = para["context"]
                for qa in para["qas"]:
                    answerable = not qa.get("is_impossible") and bool(qa["answers"])
                    items.append(Item(qa["question"], [a["text"] for a in qa["answers"]] if answerable else [],
                                      answerable, name))
    except (KeyError, TypeError) as e:
        raise InvalidTestSetError(f"{path}: not SQuAD 2.0 JSON (data → paragraphs → context, qas; missing {e})") from None
    return paragraphs, items


def hub_squad_corpus(rows: list[Row]) -> tuple[dict[str, str] | None, list[str | None]]:
    """SQuAD rows from the Hugging Face Hub carry their paragraph (`context`, `title`): the paragraphs
    become the corpus as SQuAD JSON's do. (None, no sources) when the rows carry none."""
    if not all(isinstance(row.get("context"), str) for _, row in rows):
        return None, [None] * len(rows)
    names: dict[str, str] = {}  # paragraph text -> file name
    for _, row in rows:
        names.setdefault(row["context"], paragraph_name(row.get("title"), len(names)))
    return {name: text for text, name in names.items()}, [names[row["context"]] for _, row in rows]


def write_corpus(paragraphs: dict[str, str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in paragraphs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
