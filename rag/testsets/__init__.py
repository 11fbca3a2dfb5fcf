"""Question sets for `rag eval`: our JSONL and CSV formats, and SQuAD 2.0 JSON (its paragraphs
become the corpus). A bad file is refused whole, with the line that broke it, before any work."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InvalidTestSetError


@dataclass(frozen=True)
class Item:
    question: str
    answers: list[str]
    answerable: bool | None  # None: no gold given, only citations and latency are measured
    source: str | None = None  # the paragraph file a SQuAD question was asked about


def load_testset(path: Path) -> tuple[dict[str, str] | None, list[Item]]:
    """(the set's own corpus, or None when it is asked about documents given separately; items)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidTestSetError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        corpus, items = None, load_jsonl(path)
    elif suffix == ".csv":
        corpus, items = None, _load_csv(path)
    elif suffix == ".json":
        corpus, items = load_squad(path)
    else:
        raise InvalidTestSetError(f"{path}: unknown test set format {suffix!r}; use .jsonl, .csv or SQuAD 2.0 .json")
    if not items:
        raise InvalidTestSetError(f"{path}: no questions in it")
    return corpus, items


def _item(row: dict, where: str, csv_row: bool = False) -> Item:
    """One question from a JSONL object or a CSV row (whose cells are all strings)."""
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InvalidTestSetError(f'{where}: needs a non-empty "question"')
    answers = row.get("answers") or []
    if csv_row and answers:  # a JSON list, or answers separated by "|"
        text = answers.strip()
        try:
            answers = json.loads(text) if text.startswith("[") else [a.strip() for a in text.split("|")]
        except json.JSONDecodeError:
            raise InvalidTestSetError(f'{where}: "answers" looks like a JSON list but is not valid JSON') from None
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise InvalidTestSetError(f'{where}: "answers" must be a list of strings')
    answers = [a for a in answers if a.strip()]
    answerable = row.get("answerable")
    if csv_row and isinstance(answerable, str):
        flag = answerable.strip().lower()
        if flag not in {"", "true", "false", "1", "0", "yes", "no"}:
            raise InvalidTestSetError(f'{where}: "answerable" must be true or false, not {answerable!r}')
        answerable = None if not flag else flag in {"true", "1", "yes"}
    if answerable is None and answers:
        answerable = True
    if answerable is not None and not isinstance(answerable, bool):
        raise InvalidTestSetError(f'{where}: "answerable" must be true or false')
    return Item(question.strip(), answers, answerable)


def load_jsonl(path: Path) -> list[Item]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InvalidTestSetError(f"{path}, line {n}: not valid JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise InvalidTestSetError(f"{path}, line {n}: expected a JSON object")
        items.append(_item(row, f"{path}, line {n}"))
    return items


def _load_csv(path: Path) -> list[Item]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "question" not in reader.fieldnames:
            raise InvalidTestSetError(f'{path}, line 1: the header needs a "question" column '
                               f'(and optionally "answers", "answerable")')
        return [_item(row, f"{path}, line {reader.line_num}", csv_row=True) for row in reader]


def load_squad(path: Path) -> tuple[dict[str, str], list[Item]]:
    """({file name: paragraph text}, items). Paragraphs are named after their article and numbered in
    order (Normans_p000.txt, …, Rhine_p061.txt), as a user's files would be named after their subject."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        paragraphs: dict[str, str] = {}
        items: list[Item] = []
        for article in data["data"]:
            title = re.sub(r"[^\w()-]+", "_", str(article.get("title") or "article")).strip("_")
            for para in article["paragraphs"]:
                name = f"{title}_p{len(paragraphs):03d}.txt"
                paragraphs[name] = para["context"]
                for qa in para["qas"]:
                    answerable = not qa.get("is_impossible") and bool(qa["answers"])
                    items.append(Item(qa["question"], [a["text"] for a in qa["answers"]] if answerable else [],
                                      answerable, name))
    except json.JSONDecodeError as e:
        raise InvalidTestSetError(f"{path}, line {e.lineno}: not valid JSON ({e.msg})") from None
    except (KeyError, TypeError) as e:
        raise InvalidTestSetError(f"{path}: not SQuAD 2.0 JSON (data → paragraphs → context, qas; missing {e})") from None
    return paragraphs, items


def write_corpus(paragraphs: dict[str, str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in paragraphs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
