"""Answer JSON -> the HTML the chat and its Sources panel show, and the plain text "Copy" gives.
Everything from a document or a model is escaped here, once, so a document containing `<script>` or
markdown tricks shows as text, never as markup."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from rag.answer.strength import weak, words
from rag.answer.text import sentence_spans
from rag.cards import document_name
from rag.types import Answer, Citation, ShortAnswer

PageText = Callable[[str, int | None], str | None]
CONTEXT_CHARS = 300  # at most this much of the surrounding passage on each side of a cited span
MARKER = re.compile(r"\[(\d+)\]")
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def plain(text: str) -> str:
    """Text the chat's markdown renderer shows literally: HTML escaped, markdown syntax backslashed."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def block_text(text: str) -> str:
    """Text inside an HTML block of the chat's markdown (a line starting with `<div>`), where markdown
    is not read: HTML escaped, line breaks as <br>, so that no blank line ends the block early and lets
    the rest be read as markdown."""
    return html.escape(text, quote=False).replace("\n", "<br>")


def answer_from_dict(data: dict) -> Answer:
    """An answer as the browser kept it (the answer JSON), back as an Answer; KeyError/TypeError if it
    isn't one, so a tampered or outdated stored conversation is dropped rather than shown wrong."""
    citations = [Citation(int(c["n"]), str(c["source"]), None if c["page"] is None else int(c["page"]),
                          str(c["chunk_id"]), int(c["start"]), int(c["end"]), str(c["text"]), float(c["score"]),
                          None if c.get("strength") is None else float(c["strength"]))
                 for c in data["citations"]]
    short = data.get("short_answer")
    return Answer(str(data["question"]), str(data["answer"]), citations, bool(data["abstained"]),
                  str(data["answerer"]), searched=None if data.get("searched") is None else str(data["searched"]),
                  warnings=[str(w) for w in data.get("warnings", [])],
                  short_answer=short and ShortAnswer(str(short["text"]), int(short["citation"]), int(short["start"]),
                                                     int(short["end"])))


def answer_html(answer: Answer, turn: int) -> str:
    """The answer as the chat shows it: what was searched if that differs from what was typed, each
    [n] a link to its card in the Sources panel (ids are per turn), warnings, and a copy button."""
    searched = ""
    if answer.searched and " ".join(answer.searched.split()) != " ".join(answer.question.split()):
        searched = f'<div class="searched">Searched: <q>{block_text(answer.searched)}</q></div>\n\n'
    if answer.abstained:
        body = f'<span class="abstained">Not in the documents.</span> {plain(answer.answer)}'
    else:
        parts = re.split(r"(\[\d+\])", answer.answer)
        body = "".join(f'<a href="#src-{turn}-{m.group(1)}" class="cite">[{m.group(1)}]</a>'
                       if (m := MARKER.fullmatch(part)) else _with_short_answer(part, parts[i + 1:i + 2], answer)
                       for i, part in enumerate(parts))
    if weak(answer):
        searched += ('<div class="weak-evidence" role="note">This answer rests on weak evidence: the quoted source '
                     'may not answer the question. Check it, or ask more precisely.</div>\n\n')
    notes = "".join(f'\n\n<div class="warning">{block_text(plain_warning(w))}</div>' for w in answer.warnings)
    copy = f'\n\n<button type="button" class="copy-answer turn-{turn}">Copy answer and sources</button>'
    return searched + body + notes + copy


def _with_short_answer(text: str, marker: list[str], answer: Answer) -> str:
    """`text`, escaped, with the short answer in bold where this is the sentence its citation marks."""
    short = answer.short_answer
    at = text.find(short.text) if short and marker == [f"[{short.citation}]"] else -1
    if at < 0:
        return plain(text)
    return f"{plain(text[:at])}<strong>{plain(short.text)}</strong>{plain(text[at + len(short.text):])}"


# The answer pipeline's warnings name exception classes and stages; a reader gets words instead.
FAILURES = {"Timeout": "did not answer in time", "Connection": "could not be reached",
            "RateLimit": "refused: too many requests", "Authentication": "refused the API key"}
EXCEPTION_NOTE = re.compile(r"\s*\((?:[\w.]+\.)?(\w+?)(?:Error|Exception)\b.*?\)(?=;|$)", re.DOTALL)
PHRASES = [("LLM unavailable", "the language model was unavailable"), ("LLM's", "language model's"),
           ("for condensing the follow-up", "to rewrite the follow-up question"),
           ("answered extractively", "this answer quotes the documents instead")]


def plain_warning(warning: str) -> str:
    """"LLM unavailable (APITimeoutError: …); answered extractively" -> "The language model was
    unavailable: it did not answer in time; this answer quotes the documents instead"."""
    def words(m: re.Match) -> str:
        return ": it " + next((text for key, text in FAILURES.items() if key in m.group(1)), "failed")

    text = EXCEPTION_NOTE.sub(words, warning, count=1)
    for jargon, words_ in PHRASES:
        text = text.replace(jargon, words_)
    return text[:1].upper() + text[1:]


def plain_reason(reason: str) -> str:
    """Why a file could not be indexed, without the parser's exception: "PDF could not be read
    (PdfiumError: Failed to load document)" -> "the file is damaged, or is not really a PDF"."""
    m = re.fullmatch(r"(\w+) could not be read \(.*\)", reason, re.DOTALL)
    return f"the file is damaged, or is not really a {m.group(1)}" if m else reason


# --- the Sources panel ----------------------------------------------------------------------------
def document_title(source: str, page_text: PageText) -> str:
    """What a card is titled: the file's name, unless that says nothing (a download's hash-like name),
    then the first line of the document."""
    if document_name(source):
        return source.rsplit("/", 1)[-1]
    first = page_text(source, None) or page_text(source, 1) or ""
    line = next((ln.strip() for ln in first.splitlines() if ln.strip()), source)
    return line if len(line) <= 80 else line[:79].rsplit(" ", 1)[0] + "…"


def passage_bounds(text: str, start: int, end: int, context: int = CONTEXT_CHARS) -> tuple[int, int]:
    """The passage shown around a cited span: whole sentences before and after it, within `context`
    characters; the span's own ends where no sentence boundary is that close."""
    lo, hi = max(0, start - context), min(len(text), end + context)
    spans = sentence_spans(text, lo, hi)
    whole = [(s, e) for i, (s, e) in enumerate(spans)  # the window's first and last pieces may be cut
             if (i > 0 or lo == 0) and (i < len(spans) - 1 or hi == len(text))]
    return (min([s for s, _ in whole if s <= start], default=start),
            max([e for _, e in whole if e >= end], default=end))


def where(citation: Citation) -> str:
    return f"page {citation.page}, " if citation.page else ""


def card_html(c: Citation, turn: int, page_text: PageText) -> str:
    text = page_text(c.source, c.page) or ""
    current = text[c.start:c.end] == c.text
    if current:
        start, end = c.start, c.end
    else:  # the document changed or went since: the span as it was cited, and no page to show
        text, start, end = c.text, 0, len(c.text)
    lo, hi = passage_bounds(text, start, end)
    title = html.escape(document_title(c.source, page_text)) + (f", page {c.page}" if c.page else "")
    said = words(c.strength)
    strength = f' <span class="strength {said}">{said} evidence</span>' if said else ""
    detail = f"{html.escape(c.source)} · {where(c)}characters {c.start:,}–{c.end:,}"
    passage = (f'{"…" if lo else ""}{html.escape(text[lo:start])}<mark>{html.escape(text[start:end])}</mark>'
               f'{html.escape(text[end:hi])}{"…" if hi < len(text) else ""}')
    pdf = current and c.page is not None and c.source.lower().endswith(".pdf")
    page = (f'<button type="button" class="show-page">Show page {c.page} with the passage highlighted</button>'
            f'<div class="page-view" hidden></div>') if pdf else ""
    return (f'<article class="source" id="src-{turn}-{c.n}" data-source="{html.escape(c.source)}" '
            f'data-page="{c.page or 0}" data-start="{c.start}" data-end="{c.end}"{" data-pdf=1" if pdf else ""}>'
            f'<h4 class="title">[{c.n}] {title}{strength}</h4><div class="where">{detail}</div>'
            f'<blockquote>{passage}</blockquote>{page}<a href="#chat" class="back">Back to the answer</a></article>')


def copy_text(answer: Answer) -> str:
    """What "Copy" puts on the clipboard: the answer as plain text, then its sources."""
    if answer.abstained or not answer.citations:
        return answer.answer
    sources = "\n".join(f'[{c.n}] {c.source}, {where(c)}"{c.text}"' for c in answer.citations)
    return f"{answer.answer}\n\nSources:\n{sources}"


def turn_html(answer: Answer, turn: int, page_text: PageText) -> str:
    asked = f'<div class="asked">Sources for <q>{html.escape(answer.question)}</q></div>'
    cards = ("".join(card_html(c, turn, page_text) for c in answer.citations) if not answer.abstained
             else '<p class="none">No sources: the documents don\'t answer this.</p>')
    return (f'<section class="turn">{asked}{cards}'
            f'<textarea hidden id="copy-{turn}" aria-hidden="true">{html.escape(copy_text(answer))}</textarea></section>')


def sources_html(answers: list[Answer], page_text: PageText) -> str:
    """The latest answer's sources; earlier answers' sources folded away below them (their copy text
    and cards stay in the page, so their [n] links and Copy buttons still work)."""
    if not answers:
        return '<p class="none">The sources of each answer appear here.</p>'
    turns = [turn_html(a, i, page_text) for i, a in enumerate(answers, 1)]
    earlier = ""
    if len(turns) > 1:
        earlier = (f'<details class="earlier"><summary>Sources of earlier answers ({len(turns) - 1})</summary>'
                   f'{"".join(reversed(turns[:-1]))}</details>')
    return turns[-1] + earlier
