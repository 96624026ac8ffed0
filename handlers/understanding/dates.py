"""Dates as delegates write them: "12 April", "le 1er avril", "el 12 de abril de 2027",
"2027-04-12", "12/04/2027" (day first), "yesterday", "hier", "ayer", "lundi dernier"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import get_day_names, get_month_names

from handlers.understanding._text import build_alternation, fold, fold_word, normalise

_LOCALES = ("en", "fr", "es")


def _month_numbers() -> dict[str, int]:
    months: dict[str, int] = {}
    for locale in _LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale).items():
                    word = fold_word(name).rstrip(".")
                    if months.setdefault(word, number) != number:  # pragma: no cover - CLDR data
                        raise ValueError(f"month {word!r} is ambiguous")
    months.setdefault("sept", 9)
    return months


def _weekday_numbers() -> dict[str, int]:
    # Babel numbers days Monday=0 like date.weekday().
    return {
        fold_word(name): number
        for locale in _LOCALES
        for number, name in get_day_names("wide", "format", locale).items()
    }


MONTHS = _month_numbers()
WEEKDAYS = _weekday_numbers()
_MONTH = build_alternation(MONTHS)
_ORDINAL = r"(?:st|nd|rd|th|er|re|e|eme|o|º|°)?"
_NOT_AFTER_NUMBER = r"(?<![\w/.,\-])"

_DAY_MONTH = re.compile(
    _NOT_AFTER_NUMBER + r"(?P<day>\d{1,2})" + _ORDINAL + r"\.?\s+(?:de\s+|of\s+)?"
    r"(?P<month>" + _MONTH + r")\b\.?"
    r"(?:,?\s+(?:de\s+|del\s+)?(?P<year>\d{4})\b)?"
)
_MONTH_DAY = re.compile(
    r"\b(?P<month>" + _MONTH + r")\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?![.,:/]?\d)"
    r"(?:,?\s+(?P<year>\d{4})\b)?"
)
_ISO = re.compile(
    _NOT_AFTER_NUMBER + r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?![\d\-])"
)
_DAY_FIRST = re.compile(
    _NOT_AFTER_NUMBER + r"(?P<day>\d{1,2})(?P<sep>[/.\-])(?P<month>\d{1,2})(?P=sep)"
    r"(?P<year>\d{4}|\d{2})(?!\w|[/.\-]\d)"
)

_RELATIVE_DAYS = {
    "the day before yesterday": -2,
    "day before yesterday": -2,
    "avant-hier": -2,
    "avant hier": -2,
    "anteayer": -2,
    "antier": -2,
    "antes de ayer": -2,
    "yesterday": -1,
    "hier": -1,
    "ayer": -1,
    "today": 0,
    "this morning": 0,
    "this afternoon": 0,
    "aujourd'hui": 0,
    "aujourd hui": 0,
    "ce matin": 0,
    "cet apres-midi": 0,
    "hoy": 0,
    "esta manana": 0,
    "esta tarde": 0,
    "tomorrow": 1,
    "demain": 1,
    "pasado manana": 2,
    "apres-demain": 2,
    "the day after tomorrow": 2,
}
# "mañana" alone is tomorrow, but "por la mañana" is "in the morning".
_RELATIVE = re.compile(
    r"\b(?:(?P<word>" + build_alternation(_RELATIVE_DAYS) + r")|(?<!la )(?P<manana>manana))\b"
)
_DAYS_AGO = re.compile(
    r"\b(?:(?P<en>\d{1,2})\s+days?\s+ago|il\s+y\s+a\s+(?P<fr>\d{1,2})\s+jours?"
    r"|hace\s+(?P<es>\d{1,2})\s+dias?)\b"
)
_WEEKDAY = re.compile(
    r"\b(?<!santo )(?:(?P<direction>last|next|proximo|pasado)\s+)?(?P<weekday>"
    + build_alternation(WEEKDAYS)
    + r")\b(?:\s+(?P<after>dernier|derniere|pasado|prochain|proximo|que\s+viene))?"
)
_AHEAD = frozenset({"next", "prochain", "proximo", "que viene"})


@dataclass(frozen=True)
class FoundDate:
    on: date
    start: int
    end: int


def _resolve_day_month(day: int, month: int, *, today: date, future: bool) -> date | None:
    """The most recent such day not after today (or, looking ahead, the next one after today).
    Searches a few years so that 29 February finds a leap year."""
    step = 1 if future else -1
    for offset in range(9):
        year = today.year + step * offset
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if (candidate > today) if future else (candidate <= today):
            return candidate
    return None


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None  # 31 February, month 13


def _candidates(folded: str, *, today: date, future: bool) -> list[tuple[int, int, date | None]]:
    found: list[tuple[int, int, date | None]] = []
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for match in pattern.finditer(folded):
            day, month = int(match["day"]), MONTHS[re.sub(r"\s+", " ", match["month"])]
            on = (
                _make(int(match["year"]), month, day)
                if match["year"]
                else _resolve_day_month(day, month, today=today, future=future)
            )
            found.append((match.start(), match.end(), on))
    for match in _ISO.finditer(folded):
        on = _make(int(match["year"]), int(match["month"]), int(match["day"]))
        found.append((match.start(), match.end(), on))
    for match in _DAY_FIRST.finditer(folded):
        year = int(match["year"])
        year += 2000 if year < 100 else 0
        found.append(
            (match.start(), match.end(), _make(year, int(match["month"]), int(match["day"])))
        )
    for match in _RELATIVE.finditer(folded):
        offset = 1 if match["manana"] else _RELATIVE_DAYS[re.sub(r"\s+", " ", match["word"])]
        found.append((match.start(), match.end(), today + timedelta(days=offset)))
    for match in _DAYS_AGO.finditer(folded):
        days = int(match["en"] or match["fr"] or match["es"])
        found.append((match.start(), match.end(), today - timedelta(days=days)))
    for match in _WEEKDAY.finditer(folded):
        # A weekday named alone is the last one before today, or the next one after it.
        weekday = WEEKDAYS[match["weekday"]]
        said = {re.sub(r"\s+", " ", word) for word in (match["direction"], match["after"]) if word}
        if said & _AHEAD or (future and not said):
            on = today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
        else:
            on = today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)
        found.append((match.start(), match.end(), on))
    return found


def find_date(folded: str, *, today: date, future: bool = False) -> FoundDate | None:
    """The first valid date mentioned in folded text, with its span."""
    candidates = sorted(
        _candidates(folded, today=today, future=future), key=lambda c: (c[0], -c[1])
    )
    for start, end, on in candidates:
        if on is not None:
            return FoundDate(on, start, end)
    return None


def date_spans(folded: str, *, today: date) -> list[tuple[int, int]]:
    """Every date-looking span, valid or not, so a year inside one is not read as a report year."""
    return [(start, end) for start, end, _ in _candidates(folded, today=today, future=False)]


def parse_date(text: str, *, today: date) -> date | None:
    """A date mentioned in text. A day and month without a year is the most recent such date not
    after today (a report submitted "on 12 April" is in the past); 31 February gives None."""
    found = find_date(fold(normalise(text)), today=today)
    return None if found is None else found.on
