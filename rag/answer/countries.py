"""A country goes by several names: "Moscow's diplomats" are Russia's, "the American president" is
the United States'. A question may name a country one way and its document another, and the answerer
must not take that for a name the document never mentions. The names come from countryinfo's table
(a country's name, other spellings, demonym and capital); the capital stands for its government in
news and filings ("Moscow warned", "Washington agreed")."""

from __future__ import annotations

import re
from functools import lru_cache

from rag.answer.text import fold, stem

PROSE_CODES = {"US", "USA"}
Name = tuple[str, ...]  # a name's words, as rag.answer.extractive compares terms (folded, stemmed)


# US states by postal code: forms and datelines write "Tallahassee, FL" where a question says Florida.
US_STATES = dict(pair.replace("_", " ").split("=") for pair in (
    "AL=Alabama AK=Alaska AZ=Arizona AR=Arkansas CA=California CO=Colorado CT=Connecticut DE=Delaware "
    "FL=Florida GA=Georgia HI=Hawaii ID=Idaho IL=Illinois IN=Indiana IA=Iowa KS=Kansas KY=Kentucky "
    "LA=Louisiana ME=Maine MD=Maryland MA=Massachusetts MI=Michigan MN=Minnesota MS=Mississippi "
    "MO=Missouri MT=Montana NE=Nebraska NV=Nevada NH=New_Hampshire NJ=New_Jersey NM=New_Mexico NY=New_York "
    "NC=North_Carolina ND=North_Dakota OH=Ohio OK=Oklahoma OR=Oregon PA=Pennsylvania RI=Rhode_Island "
    "SC=South_Carolina SD=South_Dakota TN=Tennessee TX=Texas UT=Utah VT=Vermont VA=Virginia WA=Washington "
    "WV=West_Virginia WI=Wisconsin WY=Wyoming DC=District_of_Columbia").split())
STATE_AFTER_PLACE = re.compile(r"\b[A-Z][\w.'-]*,\s*(" + "|".join(US_STATES) + r")\b")


def state_names(text: str) -> list[str]:
    """The states that "Place, ST" abbreviations in the text stand for ("Belen, NM" -> New Mexico)."""
    return list(dict.fromkeys(US_STATES[code] for code in STATE_AFTER_PLACE.findall(text)))


def other_names(term: str) -> list[Name]:
    """The other names of the country that `term` (one folded, stemmed word) names, if it names one."""
    return _countries().get(term, [])


def _words(name: str) -> Name:
    return tuple(stem(fold(w)) for w in re.findall(r"\w+", name.lower()))


@lru_cache(maxsize=1)
def _countries() -> dict[str, list[Name]]:
    """One-word name -> every name of its country. A name that several share ("American" is also the
    Northern Mariana Islands' demonym, "French" Martinique's) is the most populous one's. Loaded on
    first use (about 30 ms, once per process): only a name that a retrieved document does not spell
    the question's way needs it."""
    from countryinfo import CountryInfo

    table: dict[str, tuple[int, list[Name]]] = {}
    for info in CountryInfo.all().values():
        capital = info.get("capital") or []  # a list where a country has several
        # ISO codes are left out: "NOR", "PAN", "MAR", "CA" are words or abbreviations in running text;
        # the United States' are the ones prose uses for the country itself
        codes = {str(code).upper() for code in (info.get("ISO") or {}).values()} - PROSE_CODES
        spellings = [info.get("name") or "", info.get("demonym") or "", *(info.get("altSpellings") or []),
                     *(c.split(" D.C.")[0] for c in ([capital] if isinstance(capital, str) else capital))]
        names = list(dict.fromkeys(_words(s) for s in spellings
                                   if s.isascii() and len(s) >= 2 and s.upper() not in codes))
        population = info.get("population") or 0
        for name in names:
            if len(name) == 1 and population >= table.get(name[0], (-1, []))[0]:
                table[name[0]] = (population, [n for n in names if n != name])
    return {word: names for word, (_, names) in table.items()}
