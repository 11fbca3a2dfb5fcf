"""What kind of answer a question wants, and which kinds of answer a piece of evidence holds.

One mechanism for every question: the question word, and for "what/which …" the head noun after it
("which year", "what percentage of", "which two countries"), mapped through one table of noun
classes to an answer type, the classic question typing of Li & Roth (2002) cut down to what can be
spotted in text with regular expressions: a person, a time, a quantity, a place, a reason, a choice
of two, a yes/no, a definition. The same classes are spotted in sentences, so "does this sentence
hold the kind of thing asked for" is one comparison, not a rule per question form.

Regexes, not a tagger: they run in microseconds per sentence at question time (an NLP pipeline
over 25 candidate sentences would cost several times the whole 10 ms answer budget)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from rag.answer.text import STOPWORDS

PERSON, TIME, QUANTITY, PLACE, REASON, PAIR, YESNO, DEFINITION, OTHER = (
    "person", "time", "quantity", "place", "reason", "pair", "yesno", "definition", "other")
SPOTTABLE = (PERSON, TIME, QUANTITY, PLACE, REASON, PAIR)  # kinds a sentence can be seen to hold

# Head nouns of "what/which <noun>" by the kind of answer they ask for.
NOUN_CLASSES = {
    PERSON: "person people man woman men women official spokesperson spokesman spokeswoman minister president "
            "leader politician author writer scientist player king queen emperor chancellor governor mayor founder "
            "inventor artist composer director senator pope coach ruler commander actor singer chief executive ceo "
            "chairman chairwoman chair head manager officer member members investigator investigators pilot sponsor "
            "duke count bishop general son daughter father mother brother sister wife husband successor heir "
            "architect engineer designer physician doctor sponsor owner",
    TIME: "year years day days date dates month months time times century centuries decade decades season era "
          "period age hour hours week weeks morning evening night quarter",
    QUANTITY: "number numbers amount amounts percentage percent share rate rates total price cost costs population "
              "duration size ratio length height width depth weight distance speed fee fees budget revenue income "
              "sum value temperature dose dosage volume capacity "
              # the line items of financial statements, which analysts ask for by name
              "sales expense expenses earnings profit profits loss losses margin margins assets liabilities cash "
              "flow debt equity dividend dividends eps ebitda tax taxes capex spending backlog headcount inventory "
              "inventories receivables proceeds deficit surplus turnover",
    PLACE: "city cities country countries region regions state states place places location locations area areas "
           "river rivers town towns continent island islands county province capital nation nations airport "
           "airports street village lake sea ocean mountain site sites airstrip field",
}
NOUN_CLASS = {noun: kind for kind, nouns in NOUN_CLASSES.items() for noun in nouns.split()}
HOW = {"many": QUANTITY, "much": QUANTITY, "long": QUANTITY, "old": QUANTITY, "far": QUANTITY, "often": QUANTITY,
       "big": QUANTITY, "large": QUANTITY, "tall": QUANTITY, "high": QUANTITY, "fast": QUANTITY, "heavy": QUANTITY}
WH = {"who": PERSON, "whom": PERSON, "whose": PERSON, "when": TIME, "where": PLACE, "why": REASON}
AUXILIARIES = {"is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "has", "have", "had",
               "should", "shall", "may", "might", "must", "isn't", "aren't", "wasn't", "didn't", "doesn't"}
BOUNDARY = AUXILIARIES | {"of", "in", "on", "at", "for", "to", "from", "by", "with"}  # the noun phrase ends here
ATTRIBUTE_FOLLOWERS = {None, "of", "in", "for", "at", "on", "per", "from", "during", "when", "as", "that", "s"}
LOOK = 5  # "which Lithuanian official", "what is the name of the spokesperson": the head noun is near
_WORD = re.compile(r"[\w'’-]+")

NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
                "hundreds|thousand|thousands|million|millions|billion|dozen|dozens")  # not "several": no count
_WEEKDAY = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_MONTH = ("january|february|march|april|may|june|july|august|september|october|november|december|"
          "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
SPOTTERS = {
    TIME: re.compile(
        r"\b(" + _WEEKDAY + "|" + _MONTH + r"|today|"
        r"yesterday|tomorrow|tonight|ago|weekend|spring|summer|autumn|winter|century|centuries|decades?|"
        r"era|dynasty|reign|weeks?|months?|years?|daily|annually|until|since|"
        r"\d[\d,.]*\s*(hours?|hrs?|minutes?|mins?|seconds?|days?)|"
        r"1\d{3}s?|20\d{2}s?|\d+(st|nd|rd|th)|\d{1,2}[:/.-]\d{1,2}([:/.-]\d{2,4})?|q[1-4]|fy\s?\d{2,4})\b", re.I),
    REASON: re.compile(r"\b(because|due to|owing to|as a result|in order to|so that|so as to|since|caused|causes|"
                       r"cause|reason|reasons|led to|lead to|result of|resulted|thanks to|therefore|to (avoid|prevent|"
                       r"allow|ensure|protect|reduce|improve|increase|help|make|provide|keep|support))\b", re.I),
    PLACE: re.compile(r"\b(in|at|near|from|into|to|across|between|on|of)\s+(the\s+)?[A-Z][\w'’-]+"),
    PAIR: re.compile(r"\b[A-Z][\w'’-]+(\s+[A-Z][\w'’-]+)*\s*(,|and|&|or)\s+(the\s+)?[A-Z][\w'’-]+"),
}
_DAY = (_WEEKDAY + r"|today|yesterday|tomorrow|\d{1,2}(st|nd|rd|th)?\s+(of\s+)?(" + _MONTH + r")\b|"
        r"(" + _MONTH + r")\.?\s+\d{1,2}\b|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")
_YEAR = r"(1\d{3}|20\d{2})s?|(this|last|next|that|same|following|previous|prior) year|fy\s?\d{2,4}"
# The unit a time question asks in ("in what year", "which day", "what century"): a time in another unit
# ("last month" for "in what year did she become prime minister?") does not answer it.
GRAINS = {
    "year": re.compile(rf"\b({_YEAR})\b", re.I),
    "century": re.compile(r"\bcentur(y|ies)\b", re.I),
    "decade": re.compile(r"\b(1\d|20)?\d0s\b|\bdecades?\b", re.I),
    "month": re.compile(rf"\b({_MONTH}|(this|last|next) month)\b", re.I),
    "day": re.compile(rf"\b({_DAY})", re.I),
    "date": re.compile(rf"\b({_DAY}|{_YEAR})", re.I),
}
GRAIN = re.compile(r"\b(what|which)\s+(year|century|decade|month|day|date)s?\b", re.I)
NUMBER = re.compile(rf"\d[\d,.]*|\b({NUMBER_WORDS})\b", re.I)
# A vague quantity: it answers "how many" without a number, so it never ranks a unit, but it is not absence.
QUANTIFIER = re.compile(r"\b(several|many|few|numerous|multiple|handful|some|most|countless|dozens|scores|"
                        r"a number of)\b", re.I)
# "How many (total flight) hours", "how long": an amount in a unit of measure, which the answer states
# beside that unit ("2,319 hours", "1,500-foot", "12 mi", "three weeks"); the unit's other spellings follow it.
UNITS = {"hours": "hours?|hrs?", "minutes": "minutes?|mins?", "days": "days?", "weeks": "weeks?",
         "months": "months?", "years": "years?|yrs?", "miles": "miles?|mi|nm", "feet": "feet|foot|ft",
         "meters": "met(?:er|re)s?|m", "kilometers": "kilomet(?:er|re)s?|km", "pounds": "pounds?|lbs?",
         "gallons": "gallons?|gal", "knots": "knots?|kts?", "dollars": "dollars?|\\$|usd", "percent": "percent|%"}
MEASURED = re.compile(r"\bhow (?:many|much)\s+(?:[a-z-]+\s+){0,2}?(" + "|".join(UNITS) + r")\b", re.I)
HOW_LONG = re.compile(r"\bhow long\b(?!\s+ago)", re.I)  # a duration or a length: "three weeks", "1,500-foot"
LONG_UNITS = ("hours", "minutes", "days", "weeks", "months", "years", "miles", "feet", "meters", "kilometers")
COUNT = r"(?:\d[\d,.]*|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|several|few)"


def measure_asked(question: str) -> re.Pattern | None:
    """For a question that asks how many of a unit of measure, or how long, a pattern of an amount
    stated in that unit (in a duration or a length for "how long")."""
    if found := MEASURED.search(question):
        unit = UNITS[found.group(1).lower()]
    elif HOW_LONG.search(question):
        unit = "|".join(UNITS[u] for u in LONG_UNITS)
    else:
        return None
    return re.compile(r"(?:\b" + COUNT + r"\s*-?\s*(?:" + unit + r")\b)|(?:\b(?:" + unit + r")\s*\d)", re.I)


# The question's own word, not a relative pronoun: "the spokesperson who warned" is asked by "what".
QUESTION_WORD = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)
PLACE_WORDS = {"in", "at", "near", "from", "into", "to", "across", "of", "on", "the", "a", "an"}
ROLE = re.compile(r"\b(" + "|".join(sorted(NOUN_CLASSES[PERSON].split(), key=len, reverse=True)) + r")s?\b", re.I)


@lru_cache(maxsize=4096)
def answer_type(question: str) -> str:
    """The kind of answer wanted: from the question word, else the head noun of "what/which …",
    else yes/no for a question opening with an auxiliary verb, else a definition for "what is X"."""
    tokens = [t.lower() for t in _WORD.findall(question)]
    for i, token in enumerate(tokens):
        if token in WH:
            return WH[token]
        if token == "how" and i + 1 < len(tokens):
            return HOW.get(tokens[i + 1], OTHER)
        if token in {"what", "which"}:
            return _head_noun_type(tokens[i + 1:])
    if tokens and tokens[0] in AUXILIARIES:
        return YESNO
    return OTHER


def _head_noun_type(rest: list[str]) -> str:
    """"which two countries" wants a pair; "what year" a time; "what is X" a definition."""
    if rest[:1] and rest[0] in {"two", "both"}:
        return PAIR
    auxiliary = bool(rest[:1]) and rest[0] in AUXILIARIES
    if auxiliary:  # "what is/was/did …": the noun comes later, if at all
        if rest[0] in {"is", "are", "was", "were"} and len(rest) <= 4:
            return DEFINITION
        rest = rest[1:]
    if rest[:3] == ["the", "name", "of"] or rest[:2] == ["name", "of"]:
        rest, auxiliary = rest[rest.index("of") + 1:], False
    for i, token in enumerate(rest[:LOOK]):
        if token in BOUNDARY:  # "which solo landing of the day", "what altitude did the pilot select"
            return OTHER
        if token in NOUN_CLASS:
            after = rest[i + 1] if i + 1 < len(rest) else None
            # after "what was", the noun is what is asked ("the runway length in feet") unless a verb
            # follows it, which makes it the subject ("what was the pilot making adjustments to?")
            if not auxiliary or after in ATTRIBUTE_FOLLOWERS:
                return NOUN_CLASS[token]
            if after not in NOUN_CLASS:  # "total time": the compound's last noun decides
                return OTHER
    return OTHER


def holds(kind: str, sentence: str, question: str = "") -> bool:
    """Whether the sentence holds an answer of this kind. A quantity is a number the question does not
    hold; a person is someone the question does not name (names_someone), or, for a "who" question, a
    role ("Who is Kaja Kallas?" is answered by "the Estonian prime minister", "Who used the church to
    unify themselves?" by "the dukes"); a place is one the question does not name; a time is in the
    unit the question asks in, if it says one (GRAINS). One kind at a time: the answerer asks only for
    the kind a question wants, for some 25 units per question."""
    asked = _asked(question)
    if kind == QUANTITY:
        return bool(counts(sentence) - asked.numbers)  # "2020-2024", "H2O" hold their own numbers
    if kind == PERSON:
        return (names_someone(_WORD.findall(sentence), asked.names, lone=asked.who)
                or asked.who and bool(ROLE.search(sentence)))
    if kind == PLACE:
        return any(not _mentioned(_name(m.group().split()[-1]), asked.names)
                   for m in SPOTTERS[PLACE].finditer(sentence))
    if kind == TIME and asked.grain:
        return bool(GRAINS[asked.grain].search(sentence))
    return kind in SPOTTERS and bool(SPOTTERS[kind].search(sentence))


class _Asked(NamedTuple):
    names: frozenset[str]  # the question's words, as names are compared (_name)
    numbers: frozenset[str]
    who: bool              # a "who" question
    grain: str             # the unit a time is asked in ("year" for "in what year"), or ""


@lru_cache(maxsize=1024)
def _asked(question: str) -> _Asked:
    """What `holds` needs of a question, worked out once for all the units it is asked of."""
    tokens = _WORD.findall(question)
    grain = GRAIN.search(question)
    first = QUESTION_WORD.search(question)
    who = bool(first) and first.group(1).lower().startswith("who")
    return _Asked(frozenset(_name(t) for t in tokens), frozenset(counts(question)), who,
                  grain.group(2).lower() if grain else "")


def names_someone(tokens: list[str], asked: frozenset[str], lone: bool) -> bool:
    """A capitalised word the question does not hold, after the sentence's first word: a run of
    capitalised words ("Prime Minister Kaja Kallas") whose last word, the name's head, the question does
    not hold ("US President Joe Biden" is the Biden a question names), or, when `lone` (a "who"
    question, which asks for someone by name), a word alone but not after a preposition or an article,
    where a lone capitalised word is a place or a thing ("in Paris", "the Ukraine crisis"), or an
    acronym anywhere ("ITV", "BSkyB": who did it may be an organisation). "Which official …" and "the
    name of the …" need the run: "Lithuania and Estonia" or "NATO" names no official."""
    capital = [t[:1].isupper() and t.lower() not in STOPWORDS for t in tokens]
    if lone and any(sum(ch.isupper() for ch in t) >= 2 and not _mentioned(_name(t), asked) for t in tokens):
        return True  # even as the sentence's first word
    i = 1
    while i < len(tokens):
        if not capital[i]:
            i += 1
            continue
        start = i - 1 if capital[i - 1] else i  # a run may begin with the sentence's first word
        while i + 1 < len(tokens) and capital[i + 1]:
            i += 1
        if not _mentioned(_name(tokens[i]), asked) and (
                i > start or (lone and tokens[start - 1].lower() not in PLACE_WORDS)):
            return True
        i += 1
    return False


def counts(sentence: str) -> set[str]:
    """Numbers (digits or words) that count or measure something: not those in a name such as
    "Mirage 2000" or "Windows 10", which follow a capitalised word."""
    out = set()
    for m in NUMBER.finditer(sentence):
        if glued(sentence, m.start(), m.end()):
            continue  # "H2O", "CO2", "type 4J": part of a name
        before = sentence[:m.start()].split()[-1:] or [""]  # "Mirage 2000": a name; "Age: 17": a count
        if not (m.group()[:1].isdigit() and before[0][:1].isupper() and before[0][-1:].isalnum()
                and sentence[m.start() - 1:m.start()] == " "):
            out.add(m.group().lower().rstrip(".,").replace(",", ""))
    return out


def glued(text: str, start: int, end: int) -> bool:
    """The number text[start:end] is part of a word: a letter right before it, or a capital right
    after it ("H2O", "MMTCO2e", "CMT4J"; not "5mg" or "17,")."""
    return text[start - 1:start].isalpha() or text[end:end + 1].isupper()


def _name(token: str) -> str:
    return re.sub(r"['’]s$", "", token.lower())


def _mentioned(word: str, asked: frozenset[str]) -> bool:
    """Words that share five letters count as one name: Ukraine/Ukrainian, Russia/Russian."""
    return word in asked or (len(word) >= 5 and any(a[:5] == word[:5] for a in asked))


# A question about several documents at once: it compares them, asks of each or of both, or asks how
# something changed across them ("across these quarters", "how have … changed", "the two accidents").
ACROSS = re.compile(
    r"\b(?:compare[sd]?|comparison|across|each|both|the (?:two|three|four|five)\b|differ(?:s|ed|ence|ences)?"
    r"|how (?:has|have|did|do|does)\b.{1,80}\bchange[sd]?|over the (?:quarters|years|months|periods)|trends?"
    r"|respectively|versus|vs\.)", re.I)


def asks_across(question: str) -> bool:
    """The question asks about several documents (rag.answer.pipeline answers it one unit per document)."""
    return bool(ACROSS.search(question))
