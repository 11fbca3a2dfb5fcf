"""Question sets: SQuAD 2.0 JSON (its paragraphs become a corpus) and our JSONL/CSV format."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Item:
    question: str
    answers: list[str]
    answerable: bool
    source: str | None = None  # the paragraph file a SQuAD question was asked about


def load_squad(path: Path) -> tuple[dict[str, str], list[Item]]:
    """({file name: paragraph text}, items). Paragraphs are named p000.txt, p001.txt, ... in order."""
    paragraphs: dict[str, str] = {}
    items: list[Item] = []
    for article in json.loads(Path(path).read_text(encoding="utf-8"))["data"]:
        for para in article["paragraphs"]:
            name = f"p{len(paragraphs):03d}.txt"
            paragraphs[name] = para["context"]
            for qa in para["qas"]:
                answerable = not qa.get("is_impossible") and bool(qa["answers"])
                items.append(Item(qa["question"], [a["text"] for a in qa["answers"]] if answerable else [],
                                  answerable, name))
    return paragraphs, items


def write_corpus(paragraphs: dict[str, str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in paragraphs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
