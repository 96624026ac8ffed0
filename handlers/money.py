"""The amount rule: what the store can hold as an amount, and why a figure is refused.

Every way an amount enters (the need/offer form, a sentence in chat or email, a keyword
answer, an import) ends here, so the same figure is kept or refused the same way everywhere,
with the same explanation next to the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum

from handlers.i18n import Translator, _
from handlers.understanding.amounts import read_figure

CENT = Decimal("0.01")
# The columns are Numeric(16, 2), but SQLite keeps NUMERIC as a double, exact to 15 significant
# digits: 99999999999999.99 comes back as 99999999999999.98. Below 10**13, with cents, every
# amount reads back as it was written on both stores; no pledge comes near it.
MAX_AMOUNT = Decimal(10) ** 13


class AmountProblem(StrEnum):
    """Why a figure is not an amount the store can hold."""

    NOT_A_NUMBER = "not_a_number"  # words, NaN, Infinity, E notation, other scripts' digits
    NOT_POSITIVE = "not_positive"  # 0, -0, -500
    TOO_PRECISE = "too_precise"  # 0.001: the store keeps cents, and would show "0 USD"
    TOO_LARGE = "too_large"  # from MAX_AMOUNT: more than the store holds exactly


_HINTS: Mapping[AmountProblem, str] = {
    AmountProblem.NOT_A_NUMBER: _("Write the amount as a number, e.g. 250000."),
    AmountProblem.NOT_POSITIVE: _("The amount must be more than 0; leave it out if it is unknown."),
    AmountProblem.TOO_PRECISE: _(
        "Give the amount with two decimals at most (cents), such as 250000.50."
    ),
    AmountProblem.TOO_LARGE: _("The amount must be less than {limit}; check the number of zeros."),
}


def check_amount(value: Decimal) -> Decimal | AmountProblem:
    """``value`` if the store can hold it exactly, else why not.

    A Decimal with a positive exponent (``1E+2``) was written in E notation, which is how
    spreadsheets print a number they rounded; our readers produce none otherwise, so it is
    refused whatever its value.
    """
    if not value.is_finite():
        return AmountProblem.NOT_A_NUMBER
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return AmountProblem.NOT_A_NUMBER
    if value <= 0:
        return AmountProblem.NOT_POSITIVE
    # Size before cents: quantizing 1E+308 would overflow the context's 28 digits.
    if value >= MAX_AMOUNT:
        return AmountProblem.TOO_LARGE
    if value != value.quantize(CENT):
        return AmountProblem.TOO_PRECISE
    return value


def read_amount(text: str) -> Decimal | AmountProblem:
    """A figure typed on its own (a form field): "250000", "250 000", "250.000,50",
    "1,5 million", with its sign; never raises."""
    figure = read_figure(text)
    return AmountProblem.NOT_A_NUMBER if figure is None else check_amount(figure)


def explain(problem: AmountProblem, t: Translator) -> str:
    """How to fix the amount, in the reader's language."""
    return t.gettext(_HINTS[problem], limit=t.number(MAX_AMOUNT))
