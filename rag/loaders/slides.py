"""PPTX: one page per slide (numbered from 1), its text frames' paragraphs and its tables' rows, in the
order the slide lists its shapes (groups opened)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rag.loaders.layout import Block, compose
from rag.loaders.limits import Budget, unzipped
from rag.loaders.word import table_rows


def load_pptx(path: Path, budget: Budget) -> list[str]:
    import pptx

    slides = pptx.Presentation(unzipped(path, budget)).slides
    return [budget.spend(compose(_blocks(slide.shapes, budget))) for slide in slides]


def _blocks(shapes: Iterable[Any], budget: Budget) -> Iterator[Block]:
    for shape in shapes:
        budget.check_time()
        if getattr(shape, "has_table", False):
            yield table_rows(shape.table)
        elif hasattr(shape, "shapes"):  # a group
            yield from _blocks(shape.shapes, budget)
        elif getattr(shape, "has_text_frame", False):
            yield from (paragraph.text for paragraph in shape.text_frame.paragraphs)
