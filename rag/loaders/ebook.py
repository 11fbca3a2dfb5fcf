"""EPUB: one page per chapter (each document of the spine, numbered from 1), its HTML read like an HTML file;
titled by its Dublin Core title."""

from __future__ import annotations

from pathlib import Path

from rag.loaders.layout import compose, titled
from rag.loaders.limits import Budget, unzipped
from rag.loaders.markup import blocks, parse


def load_epub(path: Path, budget: Budget) -> list[str]:
    from ebooklib import ITEM_DOCUMENT, epub

    book = epub.read_epub(unzipped(path, budget))
    chapters = [book.get_item_with_id(item_id) for item_id, _ in book.spine]
    titles = book.get_metadata("DC", "title")  # [(title, attributes)], Dublin Core
    return titled((budget.spend(compose(blocks(parse(chapter.get_content(), budget), budget)))
                   for chapter in chapters if chapter is not None and chapter.get_type() == ITEM_DOCUMENT),
                  str(titles[0][0]) if titles else None)
