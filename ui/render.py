"""Answer JSON -> the HTML the chat shows. Everything from a document or a model is escaped here,
once, so a document containing `<script>` or markdown tricks shows as text, never as markup."""

from __future__ import annotations

import html
import re

from rag.types import Answer

CONTEXT_CHARS = 300  # of the surrounding passage shown on each side of a cited span
MARKER = re.compile(r"\[(\d+)\]")
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def plain(text: str) -> str:
    """Text the chat's markdown renderer shows literally: HTML escaped, markdown syntax backslashed."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def answer_markdown(answer: Answer, turn: int) -> str:
    """The answer with each [n] a link to its source in the sources panel (ids are per turn)."""
    if answer.abstained:
        return f'<span class="abstained">Not in the documents.</span> {plain(answer.answer)}'
    linked = []
    for part in re.split(r"(\[\d+\])", answer.answer):
        m = MARKER.fullmatch(part)
        linked.append(f'<a href="#src-{turn}-{m.group(1)}" class="cite">[{m.group(1)}]</a>' if m else plain(part))
    text = "".join(linked)
    if answer.warnings:
        text += "\n\n" + "\n".join(f"_Warning: {plain(w)}_" for w in answer.warnings)
    return text


def word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Move the cut ends of a context window inward, so it starts and ends with whole words."""
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", 0, end)
        end = space if space > start else end
    return max(0, start), min(len(text), end)


def sources_html(answer: Answer, turn: int, page_text) -> str:
    """One card per citation: the cited span highlighted inside its surrounding passage."""
    head = f'<div class="turn"><div class="asked">{html.escape(answer.question)}</div>'
    if answer.abstained:
        return head + '<p class="none">No sources: the documents don\'t answer this.</p></div>'
    cards = []
    for c in answer.citations:
        text = page_text(c.source, c.page) or c.text
        start, end = word_bounds(text, c.start - CONTEXT_CHARS, c.end + CONTEXT_CHARS)
        where = html.escape(c.source) + (f", page {c.page}" if c.page else "") + f", characters {c.start}–{c.end}"
        cards.append(
            f'<div class="source" id="src-{turn}-{c.n}"><div class="where">[{c.n}] {where}</div>'
            f'<p>{"…" if start else ""}{html.escape(text[start:c.start])}<mark>{html.escape(text[c.start:c.end])}</mark>'
            f'{html.escape(text[c.end:end])}{"…" if end < len(text) else ""}</p></div>')
    return head + "".join(cards) + "</div>"
