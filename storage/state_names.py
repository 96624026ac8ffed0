"""Find a State from what a person types: a code, or a name in English, French or Spanish.

Names come from the treaty data, from CLDR (via Babel) in the three languages, and from a short
alias table for forms CLDR lacks (Babel does not ship CLDR's alternative names such as "Ivory
Coast" or "UK"). Matching ignores case, accents and punctuation, and tries in turn: a code, an
exact name, a name that starts with the query's words ("Bosnia"), and a close spelling
("Afganistan"). An ambiguous query finds nothing; `suggest` lists the candidates instead.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cache

from storage.cldr_defaults import cldr_name, cldr_territory_names
from storage.sourced import Language
from storage.treaty_data import StateFacts, load_treaty_data

# Forms people use that CLDR's en/fr/es territory names do not give, by ISO3.
ALIASES: Mapping[str, tuple[str, ...]] = {
    "BIH": ("BiH",),
    "CIV": ("Ivory Coast", "Costa de Marfil"),
    "COD": ("DRC", "DR Congo", "Democratic Republic of Congo", "RDC", "RD Congo"),
    "COG": (
        "Republic of the Congo",
        "Congo Republic",
        "République du Congo",
        "República del Congo",
    ),
    "CPV": ("Cape Verde", "Cap Vert"),
    "CZE": ("République tchèque", "República Checa"),
    "GBR": ("UK", "Great Britain", "Britain", "Grande-Bretagne", "Gran Bretaña"),
    "LAO": ("Lao PDR", "Lao", "République démocratique populaire lao"),
    "MDA": ("Moldova", "République de Moldova", "República de Moldova"),
    "MKD": (
        "Macedonia",
        "Macédoine",
        "FYROM",
        "The former Yugoslav Republic of Macedonia",
        "ex-République yougoslave de Macédoine",
    ),
    "NLD": ("Holland",),
    "PSE": ("Palestine", "State of Palestine", "Palestina"),
    "SWZ": ("Swaziland", "Suazilandia"),
    "VAT": ("Holy See", "Vatican", "Saint-Siège", "Santa Sede"),
}

# Prefix and close matches need this many characters, so "an" or "re" find nothing.
MIN_FUZZY_LENGTH = 3
CLOSE_CUTOFF = 0.8  # for find(): a typo, not a different State ("Iran" is not "Iraq")
SUGGEST_CUTOFF = 0.7
LANGUAGES: tuple[Language, ...] = ("en", "fr", "es")

_APOSTROPHES = re.compile("['\u2019\u2018`\u00b4.]")


def normalize(text: str) -> str:
    """Lowercase ASCII words: accents, apostrophes and dots dropped, "&" read as "and".

    "C\u00f4te d\u2019Ivoire", "Cote dIvoire" and "COTE D'IVOIRE" all become "cote divoire".
    """
    # Apostrophes go first: NFKD would turn an acute accent sign into a space.
    text = _APOSTROPHES.sub("", text).replace("&", " and ")
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = re.sub(r"[^a-z0-9]+", " ", plain).split()
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words)


class StateIndex:
    """Look up States (parties, signatories, the withdrawn) by code or name.

    A query that names a territory outside the index ("Sudan", "Dominica") finds nothing, even
    though it begins a name inside it ("Sudán del Sur", "Dominican Republic").
    """

    def __init__(self, states: Iterable[StateFacts]) -> None:
        self._states: dict[str, StateFacts] = {}
        self._by_iso2: dict[str, StateFacts] = {}
        self._names: dict[str, set[str]] = defaultdict(set)  # normalized name -> ISO3 codes
        for state in states:
            self._states[state.iso3] = state
            self._by_iso2[state.iso2] = state
            names = [state.name_en.value, state.name_fr.value, state.name_es.value]
            names += [cldr_name(state.iso2, language) or "" for language in LANGUAGES]
            names += ALIASES.get(state.iso3, ())
            for name in names:
                if key := normalize(name):
                    self._names[key].add(state.iso3)
        self._outside = {
            key
            for language in LANGUAGES
            for code, name in cldr_territory_names(language).items()
            if code not in self._by_iso2 and (key := normalize(name)) not in self._names
        }

    def find(self, query: str) -> StateFacts | None:
        """The one State the query means, or None when it means none or several."""
        matches = self._candidates(query, close_cutoff=CLOSE_CUTOFF, strict=True)
        return self._states[matches[0]] if len(matches) == 1 else None

    def suggest(self, query: str, limit: int = 5) -> list[str]:
        """English names of indexed States the query might mean, best first."""
        matches = self._candidates(query, close_cutoff=SUGGEST_CUTOFF, strict=False)
        return [self._states[iso3].name_en.value for iso3 in matches[:limit]]

    def _candidates(self, query: str, *, close_cutoff: float, strict: bool) -> list[str]:
        """ISO3 codes from the first stage that matches: code, exact name, prefix, close spelling.

        `strict` (for find) gives up when the query names, or nearly names, a territory outside
        the index.
        """
        raw = query.strip()
        if raw.isascii() and raw.isalpha():
            code = raw.upper()
            if len(code) == 3 and code in self._states:
                return [code]
            if len(code) == 2 and code in self._by_iso2:
                return [self._by_iso2[code].iso3]
        key = normalize(raw)
        if not key:
            return []
        if key in self._names:
            return sorted(self._names[key])
        if len(key) < MIN_FUZZY_LENGTH or (strict and key in self._outside):
            return []
        # Whole words only: "Bosnia" finds "Bosnia and Herzegovina"; "Dominica" does not find
        # "Dominican Republic".
        prefixed = {
            iso3
            for name, codes in self._names.items()
            if name.startswith(key + " ")
            for iso3 in codes
        }
        if prefixed:
            return sorted(prefixed)
        pool = [*self._names, *self._outside] if strict else list(self._names)
        ordered: list[str] = []
        for name in difflib.get_close_matches(key, pool, n=15, cutoff=close_cutoff):
            if name not in self._names:
                return []  # as close to a State outside the index: ambiguous
            ordered += [iso3 for iso3 in sorted(self._names[name]) if iso3 not in ordered]
        return ordered


@cache
def shipped_state_index() -> StateIndex:
    """The index over the shipped treaty data, built once: what every channel looks names up in."""
    return StateIndex(load_treaty_data().states)


def resolve_state_code(query: str) -> str | None:
    """The ISO3 code of the State a person named (code, or a name in en/fr/es), or None."""
    found = shipped_state_index().find(query)
    return found.iso3 if found else None
