"""What every import shares: row errors, the plan of writes, and the cell parsers.

Each parser reads one cell of one row; when the cell is wrong it records a :class:`RowError`
saying how to fix it and returns ``None``, so one pass over a file lists every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

from babel.numbers import list_currencies
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.money import CENT, MAX_AMOUNT, AmountProblem, check_amount
from handlers.tables import Row
from schedules.zones import UnknownZone, resolve_zone
from storage.audit import Actor

E = TypeVar("E", bound=StrEnum)
# Opens one transaction (``Store.transaction``): checking a file reads in short ones of its own.
Sessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Write = Callable[[AsyncSession], Awaitable[object]]
# Writes part of a file ahead of its final transaction; returns how many rows it wrote.
Batch = Callable[[AsyncSession], Awaitable[int]]

LANGUAGES = ("en", "fr", "es")
FIRST_YEAR, LAST_YEAR = 2008, 2100  # the Convention was adopted in 2008
ARTICLES = (3, 4, 5, 6)

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# 250000 | 250,000 | 250 000 (also no-break and thin spaces, as French Excel writes) | 250'000,
# each with an optional decimal point; the grouping must be regular so 1,5 is not read as 15.
_AMOUNT = re.compile(
    r"^(?:[0-9]+|[0-9]{1,3}(?P<sep>[, \u00a0\u202f'\u2019])[0-9]{3}(?:(?P=sep)[0-9]{3})*)"
    r"(?:\.[0-9]+)?$"
)
_AMOUNT_PROBLEMS = {
    AmountProblem.NOT_A_NUMBER: "is not an amount; write it in digits",
    AmountProblem.NOT_POSITIVE: "must be more than 0; leave it empty if unknown",
    AmountProblem.TOO_PRECISE: "has more than 2 decimals; round it to cents",
    AmountProblem.TOO_LARGE: f"is too large (the most is {MAX_AMOUNT - CENT:,}); check the zeros",
}
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{6,20}$")


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in one cell: the line in the file, the column, and how to fix it."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class Step:
    """The write one valid row turns into; ``None`` when the store already says the same, or
    when the plan writes its rows together in ``finish``."""

    line: int
    outcome: Outcome
    write: Write | None = None


@dataclass(frozen=True)
class Staging:
    """Rows written before the final transaction, a batch per short transaction, and hidden
    from every reader until ``Plan.finish`` publishes them: the running bot's writers wait for
    one batch at most, never for the whole file. ``discard`` deletes a batch of them (returning
    how many) when the import stops before publishing."""

    batches: Sequence[Batch]
    discard: Batch


@dataclass
class Plan:
    steps: list[Step]
    # Runs after every step, in the same transaction: links between rows of the same file (a
    # contact's alternate), or every row at once where one statement per row would be slow.
    finish: Write | None = None
    staging: Staging | None = None


@dataclass
class Context:
    """What a plan needs to look things up; errors collect here. Plans only read: their writes
    run later, staged or in the one transaction that publishes the whole file."""

    reads: Sessions
    actor: Actor
    now: datetime
    resolve_state: Callable[[str], str | None]
    known_states: frozenset[str]
    columns: frozenset[str]
    errors: list[RowError] = field(default_factory=list)

    async def scalars(self, statement: Executable) -> list[Any]:
        async with self.reads() as session:
            return list((await session.scalars(statement)).all())

    async def rows(self, statement: Executable) -> list[Any]:
        async with self.reads() as session:
            return list((await session.execute(statement)).all())

    def cells(self, row: Row) -> Cells:
        return Cells(self, row)

    def error(self, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(line, column, message))


@dataclass(frozen=True)
class Importer:
    """One kind of file: its columns and how its rows become a plan."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    plan: Callable[[Context, Sequence[Row]], Awaitable[Plan]]
    # Columns that only make sense together (an amount needs its currency).
    pairs: tuple[tuple[str, str], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


@cache
def currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def choices(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


class Cells:
    """The cells of one row, parsed one column at a time; ``ok`` is False after any error."""

    def __init__(self, context: Context, row: Row) -> None:
        self.context = context
        self.row = row
        self.ok = True

    @property
    def line(self) -> int:
        return self.row.line

    def has(self, column: str) -> bool:
        return column in self.context.columns

    def raw(self, column: str) -> str:
        return self.row.get(column)

    def error(self, column: str, message: str) -> None:
        self.context.error(self.row.line, column, message)
        self.ok = False

    def _value(self, column: str, required: bool) -> str | None:
        value = self.raw(column)
        if value:
            return value
        if required:
            self.error(column, f"{column} is empty; every row needs one")
        return None

    def text(self, column: str, *, required: bool = False, max_length: int = 200) -> str | None:
        value = self._value(column, required)
        if value is not None and len(value) > max_length:
            self.error(column, f"{column} is {len(value)} characters; shorten it to {max_length}")
            return None
        return value

    def choice(self, column: str, enum: type[E], *, required: bool = False) -> E | None:
        value = self._value(column, required)
        if value is None:
            return None
        key = re.sub(r"[\s-]+", "_", value.lower())
        try:
            return enum(key)
        except ValueError:
            self.error(column, f"{column} {value!r} is not one of {choices(enum)}")
            return None

    def email(self, column: str, *, required: bool = False) -> str | None:
        value = self._value(column, required)
        if value is None:
            return None
        try:
            checked = validate_email(value, check_deliverability=False)
        except EmailNotValidError as error:
            self.error(column, f"{column} {value!r} is not an email address: {error}")
            return None
        return checked.normalized.lower()

    def slack_id(self, column: str) -> str | None:
        value = self._value(column, False)
        if value is None:
            return None
        if not _SLACK_ID.match(value.upper()):
            self.error(
                column,
                f"{column} {value!r} is not a Slack member ID; copy it from the person's Slack "
                "profile (⋮ → Copy member ID), it looks like U024BE7LH",
            )
            return None
        return value.upper()

    def state(self, column: str, *, required: bool = False) -> str | None:
        value = self._value(column, required)
        if value is None:
            return None
        iso3 = self.context.resolve_state(value)
        if iso3 is None or iso3 not in self.context.known_states:
            self.error(
                column, f"{column} {value!r} is not a known State; use its ISO3 code, e.g. FRA"
            )
            return None
        return iso3

    def language(self, column: str) -> str | None:
        value = self._value(column, False)
        if value is None:
            return None
        if value.lower() not in LANGUAGES:
            self.error(
                column,
                f"{column} {value!r} is not one of {', '.join(LANGUAGES)}; leave it empty to use "
                "the State's language",
            )
            return None
        return value.lower()

    def zone(self, column: str) -> str | None:
        value = self._value(column, False)
        if value is None:
            return None
        try:
            return resolve_zone(value).key
        except UnknownZone as error:
            self.error(column, f"{column}: {error}; leave it empty to use the State's zone")
            return None

    def day(self, column: str, *, required: bool = False) -> date | None:
        value = self._value(column, required)
        if value is None:
            return None
        iso, dmy = _ISO_DATE.match(value), _DMY_DATE.match(value)
        parts = (
            (int(iso[1]), int(iso[2]), int(iso[3]))
            if iso
            else (int(dmy[3]), int(dmy[2]), int(dmy[1]))
            if dmy
            else None
        )
        hint = "write it as YYYY-MM-DD (2027-04-30) or DD/MM/YYYY (30/04/2027)"
        if parts is None:
            self.error(column, f"{column} {value!r} is not a date; {hint}")
            return None
        try:
            day = date(*parts)
        except ValueError:
            self.error(column, f"{column} {value!r} is not a day of the calendar; {hint}")
            return None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.error(column, f"{column} {value!r} is not from {FIRST_YEAR} to {LAST_YEAR}")
            return None
        return day

    def year(self, column: str, *, required: bool = False) -> int | None:
        value = self._value(column, required)
        if value is None:
            return None
        if not value.isascii() or not value.isdigit() or not FIRST_YEAR <= int(value) <= LAST_YEAR:
            self.error(column, f"{column} {value!r} is not a year from {FIRST_YEAR} to {LAST_YEAR}")
            return None
        return int(value)

    def article(self, column: str = "article") -> int | None:
        value = self._value(column, False)
        if value is None:
            return None
        number = value.lower().removeprefix("art.").removeprefix("article").strip()
        if number not in {str(article) for article in ARTICLES}:
            self.error(column, f"{column} {value!r} is not one of 3, 4, 5, 6 (or empty)")
            return None
        return int(number)

    def money(
        self, amount_column: str = "amount", currency_column: str = "currency"
    ) -> tuple[Decimal | None, str | None]:
        """The amount and its ISO 4217 currency; either both or neither."""
        amount_text = self._value(amount_column, False)
        currency_text = self._value(currency_column, False)
        amount = self._amount(amount_column, amount_text) if amount_text else None
        currency = None
        if currency_text is not None:
            currency = currency_text.upper()
            if currency not in currencies():
                self.error(
                    currency_column,
                    f"{currency_column} {currency_text!r} is not an ISO 4217 code; write e.g. "
                    "EUR, USD, CHF",
                )
                currency = None
        if amount_text and currency_text is None:
            self.error(currency_column, f"{amount_column} {amount_text} needs its currency (EUR…)")
        if currency_text and amount_text is None:
            self.error(
                amount_column, f"{currency_column} {currency_text} is given without an amount"
            )
        return amount, currency

    def _amount(self, column: str, text: str) -> Decimal | None:
        """A file's amount: digits with a point for decimals (how spreadsheets export), then
        the amount rule every channel shares (handlers.money)."""
        hint = (
            "write digits such as 250000 or 250,000.00 (a point for decimals), with the "
            "currency in its own column"
        )
        if not _AMOUNT.match(text):
            self.error(column, f"{column} {text!r} is not an amount; {hint}")
            return None
        amount = check_amount(Decimal(re.sub(r"[, \u00a0\u202f'\u2019]", "", text)))
        if isinstance(amount, AmountProblem):
            self.error(column, f"{column} {text!r} {_AMOUNT_PROBLEMS[amount]}")
            return None
        return amount
