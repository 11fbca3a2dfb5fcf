"""Document cards: what each document says it is, read from its title and first page at index time.

Folders of look-alike documents (a company's quarterly filings, one agency's accident reports,
versions of a contract) differ in a few words that most of their pages never repeat: the issuer on
the cover, the period, the aircraft and place of the accident. The card keeps those words beside
every chunk of the document (its `label` is part of each chunk's context, embedded and BM25-indexed,
never cited), so a question that names the document finds its pages; its `date` orders documents
for "the latest" and for answers across documents.

A card holds:
- `title`: the loader's title (a PDF's title block, the lines in its largest type on the first page,
  and its running header; DOCX/EPUB metadata; HTML <title>), else the first Markdown heading or the
  first short line; the label holds it, whichever it is;
- `names`: other names the first page gives the document or its subject: a short form and the name
  it stands for ("DOT", "U.S. Department of Transportation"; the short form first, as questions
  write it and as a long title block may leave no room for both in the label), a trading symbol,
  the line a form captions as a name ("Apple Inc." above "(Exact name of registrant …)"), and the
  first page's identifying fields ("Location: Tallahassee, FL", "Aircraft: Piper PA-22-150");
- `dates`: the dates the first page states, ISO, in the order stated; `date`, the first of them (a
  date in the title first): the period a filing covers, the day of an accident, a plan's first year."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


from rag.answer.countries import state_names
from rag.answer.features import title_case
from rag.types import Page

FIRST_PAGE = 3000  # characters of the first page read for names and dates
NAMES = 6  # names kept at most
SHORT_FORMS = 2  # names given with their short form, the first ones only: later ones name what it is about
OPENING_CHARS = 250  # a first page's line that states its title is no longer than this
OPENING_LINES = 6  # ... and, when written as titles are, among its first lines
FIELDS = 3  # identifying fields ("Label: value") of a form's first page kept at most
LABEL_CHARS = 300  # a card's label longer than this is cut: it rides along with every chunk's embedding

MONTHS = {m: n for n, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], 1) for m in names}
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")
MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DATES = [re.compile(p, re.I) for p in (
    MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b",       # July 1, 2023
    r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + MONTH + r",?\s+(?P<year>(?:19|20)\d\d)\b",  # 1 July 2023
    r"\b(?P<year>(?:19|20)\d\d)-(?P<mm>\d\d)-(?P<day>\d\d)\b",                         # 2023-07-01
    r"\b(?P<mm>\d{1,2})/(?P<day>\d{1,2})/(?P<year>(?:19|20)\d\d)\b",                    # 12/08/2007
    r"\b" + MONTH + r",?\s+(?P<year>(?:19|20)\d\d)\b",                                   # March 2022
    r"\b(?:FY|fiscal years?)\s*(?P<year>(?:19|20)\d\d)\b",                               # FY 2022
    r"\b(?P<year>(?:19|20)\d\d)\s*[–-]\s*(?:19|20)\d\d\b",                                # 2022 – 2026
)]
SHORT_FORM = re.compile(  # "Department of Transportation (DOT)", "Acme Corp. (the “Supplier”)"
    r"((?:[A-Z][\w&.'’-]*\s+(?:(?:of|and|for|the|on|&)\s+)*){1,7})\(\s*(?:the\s+)?[\"“]?([A-Z][\w&.-]{1,15})[\"”]?\s*\)")
SYMBOL = re.compile(r"\b(?:trading\s+symbol|ticker)", re.I)
TICKER = re.compile(r"(?<![\w.])[A-Z]{1,5}(?![\w.])")
NOT_TICKERS = {"LLC", "INC", "LTD", "PLC", "CORP", "CO", "LP", "NA", "USD", "N"}  # beside a symbol in its row
CAPTION = re.compile(r"\((?=[^)]*\bname\b)[^)]*\)$", re.I)  # "(Exact name of registrant as specified in its charter)"
TITLED = re.compile(r"^(?:(?:official|full|study|protocol|project|document)\s+)?title(?:\s*:|\t)\s*(.{10,200})", re.I)
LIST_ITEM = re.compile(r"[•●○◦▪■□➢✓✔*·–—-]\s")  # "• Mr Joseph John – Urology Registrar …" is a list, not a title
TITLE_LABEL = re.compile(r"^(?:[\d.]+\s*)?(?:\w+\s+){0,2}title(?:\s+of\s+[\w ]{3,40})?\s*:?$", re.I)  # "1.2 English Title of research project:"
FIELD_NAME = re.compile(r"^[A-Z][\w &/-]{2,30}: ")  # a field as names holds it
FIELD = re.compile(r"^([A-Z][\w &/-]{2,30}):\t+([^\t\n]{3,60})")  # a form's "Location:\tTallahassee, FL"
PAGE_NUMBER = re.compile(r"(?<![\d,.])\d{1,3}(?![\d,.])")
WORD = re.compile(r"[^\W\d_]{2}")
REPEATED_PAGES = 3  # a line on this many pages of a document is a running line, wherever it sits
MAX_REPEATED = 300  # repeated lines kept per card at most
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)  # Markdown
LETTERS_DIGITS = re.compile(r"(?<=[^\W\d_]{2})(?=\d)|(?<=\d)(?=[^\W\d_]{2})")
ID_LIKE = re.compile(r"(?=\w*\d)(?=\w*[a-zA-Z])\w{8,}|\d{5,}")  # hashes, uuids, long serials


def document_name(source: str, title: str | None = None) -> str:
    """What names the document: its path without the extension, folders included ("filings/apple/
    2023-q2 10-Q.pdf" -> "filings apple 2023 q2 10 Q"), then its own title if it has one. Questions name
    a document by company, period or subject, which most of its chunks never repeat."""
    words = re.sub(r"[\W_]+", " ", source.rsplit(".", 1)[0]).split()
    name = " ".join(LETTERS_DIGITS.sub(" ", w) for w in words if not ID_LIKE.fullmatch(w))  # "DOT2022": DOT 2022
    if not re.search(r"[^\W\d_]{3}", name):  # "000 3f9a…": a download's or an upload's name says nothing
        name = ""
    title = " ".join((title or "").split())
    if not name:
        return title
    return f"{name}: {title}" if title and title.lower() not in name.lower() else name


@dataclass(frozen=True)
class Card:
    source: str
    title: str = ""
    names: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    label: str = field(default="", compare=False)
    repeated: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @property
    def date(self) -> str | None:
        return self.dates[0] if self.dates else None

    def to_dict(self) -> dict:
        return {"title": self.title, "names": list(self.names), "dates": list(self.dates), "date": self.date}


def card_from_dict(source: str, d: dict) -> Card:
    return Card(source, d.get("title", ""), tuple(d.get("names", ())), tuple(d.get("dates", ())), d.get("label", ""),
                frozenset(d.get("repeated", ())))


def stored(card: Card) -> dict:
    """What the index keeps of a card: what faces show, and the label and repeated lines."""
    return card.to_dict() | {"label": card.label, "repeated": sorted(card.repeated)}


def line_key(text: str) -> str:
    """A line as it repeats from page to page: case and spacing aside, a page number (a number of up
    to three digits standing alone) aside; amounts ("81,797") and years stay, so table rows differ."""
    return " ".join(PAGE_NUMBER.sub("#", text).split()).casefold()


def repeated_lines(pages: list[Page]) -> frozenset[str]:
    """Lines (line_key) that recur on REPEATED_PAGES pages of the document or more: running headers
    and footers the layout cleanup left (a section's own header, "Table of Contents" links, "See
    accompanying Notes …"). They never answer anything, so the answerer never cites them."""
    seen: dict[str, int] = {}
    for page in pages:
        for key in {line_key(line) for line in page.text.splitlines() if WORD.search(line) and len(line) <= 200}:
            seen[key] = seen.get(key, 0) + 1
    return frozenset(sorted((k for k, n in seen.items() if n >= REPEATED_PAGES), key=lambda k: -seen[k])[:MAX_REPEATED])


def make_card(pages: list[Page]) -> Card:
    """The card of one document from its loaded pages (page order; the first is its first page)."""
    first = pages[0]
    text = first.text[:FIRST_PAGE]
    title = " ".join((first.title or "").split()) or _heading(text)
    said = " ".join(title.replace(" | ", " ").split()).casefold()
    names = tuple(dict.fromkeys(n for n in _names(text) if " ".join(n.split()).casefold() not in said))[:NAMES]
    dates = tuple(dict.fromkeys(_dates(title) + _dates(text)))
    fields = "\n".join(n for n in names if FIELD_NAME.match(n))  # "Location: Tallahassee, FL": Florida
    names += tuple(state for state in state_names(fields) if state not in names)[:2]
    label = " — ".join(filter(None, [document_name(first.source, title), *map(spelled, dates[:1]), *names]))
    return Card(first.source, title, names, dates, label[:LABEL_CHARS], repeated_lines(pages))


def _heading(text: str) -> str:
    """A Markdown heading, else the first line when it is short enough to be a title."""
    found = HEADING.search(text)
    if found:
        return found.group(1).strip()
    line = text.strip().split("\n", 1)[0].strip()
    return line if 0 < len(line) <= 100 and not line.endswith((".", ",", ";", ":")) else ""


def _names(text: str) -> list[str]:
    """The first page's names, shortest and surest first (the label keeps LABEL_CHARS): a form's
    captioned name and a trading symbol, then the lines that state its title, then names given with
    their short form, then its first identifying fields."""
    lines = [line.strip() for line in text.splitlines()]
    own, short_forms = [], []
    for long, short in SHORT_FORM.findall(text)[:SHORT_FORMS]:
        short_forms += [short, " ".join(long.split())]  # the short form first: questions write "USAID"
    for i, line in enumerate(lines):
        if SYMBOL.search(line):
            own += [t for below in lines[i + 1:i + 3] for t in TICKER.findall(below) if t not in NOT_TICKERS][:2]
        if found := CAPTION.search(line):  # the name is the line above its caption, or before it on its line
            named = line[:found.start()].strip() or (lines[i - 1] if i else "")
            own += [named] if named else []
    fields = [f"{m.group(1)}: {m.group(2).strip()}" for line in lines if (m := FIELD.match(line))]
    names = own + _title_lines(lines) + short_forms + fields[:FIELDS]
    return [n for n in names if len(n) > 1]


def _title_lines(lines: list[str]) -> list[str]:
    """Where a first page states its full title without setting it in large type: its opening line,
    the first line written as titles are ("Comparison between Platelet Rich Plasma and Corticosteroids
    for …") among its first OPENING_LINES, and a "Title:" field, on its line (or in the cell beside a
    form's "Title" cell, a tab away: "Title  Comparison of …") or under a label line ("Title" / "1.2 English Title
    of research project:")."""
    shown = [line.lstrip("#").strip() for line in lines if line.strip()]
    head = [line for line in shown[:OPENING_LINES] if len(line) <= OPENING_CHARS and not FIELD.match(line)]
    out = head[:1] + [line for line in head if title_case(line) and not LIST_ITEM.match(line)][:1]
    for i, line in enumerate(shown):
        if found := TITLED.match(line):
            out.append(found.group(1).strip())
            break
        if TITLE_LABEL.match(line) and i + 1 < len(shown) and len(shown[i + 1]) <= OPENING_CHARS:
            out.append(shown[i + 1])
            break
    return list(dict.fromkeys(out))


def _dates(text: str) -> list[str]:
    """ISO dates in the order the text states them (a month alone: its first day; a year: 1 January)."""
    found = []
    for pattern in DATES:
        for m in pattern.finditer(text):
            g = m.groupdict()
            month = MONTHS[g["month"].lower().rstrip(".")] if g.get("month") else int(g.get("mm") or 1)
            day = int(g.get("day") or 1)
            if 1 <= month <= 12 and 1 <= day <= 31:
                found.append((m.start(), f"{g['year']}-{month:02d}-{day:02d}"))
    seen: dict[int, str] = {}
    for at, iso in sorted(found):  # a longer match at the same place wins (listed first)
        if not any(abs(at - other) < 12 for other in seen):
            seen[at] = iso
    return list(seen.values())


def spelled(iso: str) -> str:
    """A date as questions write it ("December 8, 2007"), whatever the document's way ("12/08/2007")."""
    year, month, day = map(int, iso.split("-"))
    return f"{MONTH_NAMES[month - 1]} {day}, {year}"
