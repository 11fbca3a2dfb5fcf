"""Plain text and Markdown: the file's own characters, so that offsets index the file itself."""

from __future__ import annotations

from pathlib import Path

from rag.loaders.limits import Budget, read_utf8


def load_text(path: Path, budget: Budget) -> list[str]:
    return [budget.spend(read_utf8(path))]
