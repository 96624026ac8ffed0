"""The message catalog: every text a person reads, in English, French and Spanish.

Source strings are English and marked with ``_()``; French and Spanish live in gettext ``.po``
catalogs read with Babel at first use (no compiled ``.mo`` files to keep in step). Dates, times,
numbers and money are formatted the way the reader's language writes them, in the reader's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from gettext import c2py
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates, numbers
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LANGUAGES = ("en", "fr", "es")
DEFAULT_LANGUAGE = "en"
# Reference locales for formatting dates and numbers in each language (fr_FR, not Geneva's fr_CH:
# most French-writing delegates read "250 000", not the Swiss "250'000").
LOCALES = {"en": "en_GB", "fr": "fr_FR", "es": "es_ES"}


def _(message: str) -> str:
    """Mark a string for extraction; it is translated where it is rendered."""
    return message


def language_or_default(language: str | None) -> str:
    code = (language or "").lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@cache
def load_catalog(language: str) -> Catalog | None:
    if language == DEFAULT_LANGUAGE:
        return None
    path = files("handlers") / "locales" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


@dataclass(frozen=True)
class Translator:
    """Translates and formats for one reader's language."""

    language: str

    @property
    def locale(self) -> str:
        return LOCALES[self.language]

    def gettext(self, message: str, **values: Any) -> str:
        catalog = load_catalog(self.language)
        text = message
        if catalog is not None:
            found = catalog.get(message)
            if found is not None and found.string and not found.fuzzy:
                text = str(found.string)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, count: int, **values: Any) -> str:
        catalog = load_catalog(self.language)
        forms: tuple[str, ...] = (singular, plural)
        if catalog is not None:
            found = catalog.get((singular, plural))
            if found is not None and isinstance(found.string, tuple | list) and all(found.string):
                forms = tuple(found.string)
        index = c2py(catalog.plural_expr)(count) if catalog is not None else int(count != 1)
        return forms[min(index, len(forms) - 1)].format(count=count, **values)

    def date(self, value: date, format: str = "long") -> str:
        return dates.format_date(value, format=format, locale=self.locale)

    def time(self, value: datetime, zone: ZoneInfo) -> str:
        """A moment as the reader's clock shows it, with the zone named."""
        local = value.astimezone(zone)
        day = dates.format_date(local.date(), "long", locale=self.locale)
        clock = dates.format_time(local, "HH:mm", locale=self.locale)
        return f"{day}, {clock} {dates.get_timezone_name(local, 'long', locale=self.locale)}"

    def number(self, value: int | Decimal) -> str:
        return numbers.format_decimal(value, locale=self.locale)

    def money(self, amount: Decimal, currency: str) -> str:
        return numbers.format_currency(amount, currency, locale=self.locale)

    def percent(self, value: float) -> str:
        return numbers.format_percent(value, locale=self.locale)


def translator(language: str | None) -> Translator:
    return Translator(language_or_default(language))
