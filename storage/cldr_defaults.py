"""The defaults CLDR gives a State when no source states them: its names in French and Spanish,
its language, its time zone and its weekend.

Each comes as a ``Sourced`` default with the CLDR data it was read from, which the ISU may
correct with ``ccm-bot states set`` (later loads keep the correction).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.core import get_global

from storage.sourced import Language, Sourced

CLDR = "CLDR territory data via Babel"


# CLDR lists several zones for these States; reminders follow the capital's clock. Only States in
# the shipped files are listed (checked by a test); a State missing here falls back to CLDR's
# first zone, and its `timezone.source` says so.
CAPITAL_ZONES: Mapping[str, tuple[str, str]] = {
    "AUS": ("Australia/Sydney", "Canberra"),
    "CAN": ("America/Toronto", "Ottawa"),
    "CHL": ("America/Santiago", "Santiago"),
    "COD": ("Africa/Kinshasa", "Kinshasa"),
    "CYP": ("Asia/Nicosia", "Nicosia"),
    "DEU": ("Europe/Berlin", "Berlin"),
    "ECU": ("America/Guayaquil", "Quito"),
    "ESP": ("Europe/Madrid", "Madrid"),
    "IDN": ("Asia/Jakarta", "Jakarta"),
    "MEX": ("America/Mexico_City", "Mexico City"),
    "NZL": ("Pacific/Auckland", "Wellington"),
    "PRT": ("Europe/Lisbon", "Lisbon"),
    "PSE": ("Asia/Hebron", "Ramallah, seat of government (West Bank)"),
}

# Where CLDR's name is the territory's, not the treaty party's (Vatican City for the Holy See,
# "Palestinian Territories" for the State of Palestine), or an informal disambiguation
# ("Congo-Brazzaville"), we use the UN designation instead.
UN_NAMES: Mapping[str, Mapping[Language, str]] = {
    "VAT": {"fr": "Saint-Siège", "es": "Santa Sede"},
    "PSE": {"fr": "État de Palestine", "es": "Estado de Palestina"},
    "COG": {"fr": "Congo"},
    "COD": {"fr": "République démocratique du Congo"},
}
UN_NAME_SOURCE = "UN designation of the party (CLDR's territory name differs)"


def iso2_for(iso3: str) -> str | None:
    """ISO 3166-1 alpha-2 for an alpha-3 code, from CLDR's territory aliases."""
    aliases: Sequence[str] = get_global("territory_aliases").get(iso3, ())
    if len(aliases) != 1 or not re.fullmatch(r"[A-Z]{2}", aliases[0]):
        return None
    return aliases[0]


@cache
def cldr_territory_names(language: Language) -> Mapping[str, str]:
    """CLDR's names for every territory and region (keys such as "FR" or "419") in a language."""
    return dict(Locale(language).territories)


def cldr_name(iso2: str, language: Language) -> str | None:
    return cldr_territory_names(language).get(iso2)


def default_language(iso2: str) -> Sourced[Language]:
    """English, French or Spanish: whichever official language most of the population uses.

    CLDR counts "official" and "de_facto_official" languages; if none of the three is official
    the default is English.
    """
    languages: Mapping[str, Mapping[str, Any]] = get_global("territory_languages").get(iso2, {})
    shares = {
        code: float(info.get("population_percent", 0.0))
        for code, info in languages.items()
        if code in ("en", "fr", "es")
        and info.get("official_status") in ("official", "de_facto_official")
    }
    if not shares:
        return Sourced("en", "default", f"{CLDR}: none of en/fr/es official in {iso2}; English")
    chosen = max(_LANGUAGES, key=lambda code: shares.get(code, -1.0))
    detail = ", ".join(f"{code} {share:g}%" for code, share in sorted(shares.items()))
    return Sourced(chosen, "default", f"{CLDR}: official languages by population share: {detail}")


def default_timezone(iso3: str, iso2: str) -> Sourced[str]:
    """The State's CLDR zone; for States with several, the capital's (see CAPITAL_ZONES)."""
    zones: Sequence[str] = get_global("territory_zones").get(iso2, ())
    if iso3 in CAPITAL_ZONES:
        zone, capital = CAPITAL_ZONES[iso3]
        return Sourced(zone, "default", f"{CLDR}: zone of the capital, {capital}")
    if len(zones) == 1:
        return Sourced(zones[0], "default", CLDR)
    if zones:
        return Sourced(
            zones[0],
            "default",
            f"{CLDR}: first of {len(zones)} zones; capital unknown to ccm-bot, please confirm",
        )
    return Sourced("UTC", "default", f"no CLDR zone for {iso2}; UTC, please confirm")


_LANGUAGES: tuple[Language, ...] = ("en", "fr", "es")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def weekend_days(start: int, end: int) -> frozenset[int]:
    """The days from `start` to `end` inclusive (0 = Monday), wrapping past Sunday."""
    return frozenset((start + offset) % 7 for offset in range((end - start) % 7 + 1))


def default_weekend(iso2: str) -> Sourced[frozenset[int]]:
    """Weekend days (0 = Monday) from CLDR week data; the range may wrap past Sunday."""
    try:
        locale = Locale.parse(f"und_{iso2}")
        start, end = locale.weekend_start, locale.weekend_end
    except (UnknownLocaleError, KeyError, ValueError):
        return Sourced(frozenset({5, 6}), "default", f"no CLDR week data for {iso2}; Sat-Sun")
    days = weekend_days(start, end)
    span = _DAY_NAMES[start] if start == end else f"{_DAY_NAMES[start]}-{_DAY_NAMES[end]}"
    return Sourced(days, "default", f"{CLDR} (week data: {span})")


@cache
def zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
