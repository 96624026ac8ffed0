"""The amount rule: what an amount field may hold, and why a figure is refused.

The ugly figures people and programs type, a property over any string, and the promise the
rule makes to the store: what it keeps reads back unchanged from both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from handlers.i18n import translator
from handlers.money import MAX_AMOUNT, AmountProblem, check_amount, explain, read_amount
from storage.audit import SYSTEM
from storage.db import Store
from storage.models import Category, Entry, EntryKind, Via
from storage.records import add_entry

NOT_A_NUMBER = AmountProblem.NOT_A_NUMBER
NOT_POSITIVE = AmountProblem.NOT_POSITIVE
TOO_PRECISE = AmountProblem.TOO_PRECISE
TOO_LARGE = AmountProblem.TOO_LARGE
LARGEST = Decimal("9999999999999.99")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("250000", Decimal(250000), id="digits"),
        pytest.param("250 000", Decimal(250000), id="french-grouping"),
        pytest.param("250\u202f000", Decimal(250000), id="narrow-no-break-space"),
        pytest.param("250,000.50", Decimal("250000.50"), id="english-grouping-and-cents"),
        pytest.param("250.000,50", Decimal("250000.50"), id="continental-grouping-and-cents"),
        pytest.param("250 000,50", Decimal("250000.50"), id="french-cents"),
        pytest.param("40'000", Decimal(40000), id="swiss-apostrophe"),
        pytest.param("1,5 million", Decimal(1500000), id="million"),
        pytest.param("2 M", Decimal(2000000), id="m"),
        pytest.param("30k", Decimal(30000), id="k"),
        pytest.param("0.01", Decimal("0.01"), id="one-cent"),
        pytest.param("0.010", Decimal("0.01"), id="trailing-zero-is-not-a-decimal"),
        pytest.param("40000.00", Decimal(40000), id="as-the-form-shows-a-record"),
        pytest.param("  250000 \n", Decimal(250000), id="whitespace-around"),
        pytest.param("+250000", Decimal(250000), id="plus-sign"),
        pytest.param("9999999999999.99", LARGEST, id="largest"),
        pytest.param("0.0015 k", Decimal("1.5"), id="multiplier-keeps-cents-exact"),
        pytest.param("NaN", NOT_A_NUMBER, id="nan"),
        pytest.param("nan", NOT_A_NUMBER, id="nan-lower"),
        pytest.param("sNaN", NOT_A_NUMBER, id="signalling-nan"),
        pytest.param("Infinity", NOT_A_NUMBER, id="infinity"),
        pytest.param("-Infinity", NOT_A_NUMBER, id="minus-infinity"),
        pytest.param("inf", NOT_A_NUMBER, id="inf"),
        pytest.param("1e308", NOT_A_NUMBER, id="e-notation-huge"),
        pytest.param("1E+2", NOT_A_NUMBER, id="e-notation-small"),
        pytest.param("1.23457E+11", NOT_A_NUMBER, id="excel-rounded-display"),
        pytest.param("2.5e-3", NOT_A_NUMBER, id="e-notation-negative-exponent"),
        pytest.param("٢٥٠٠٠٠", NOT_A_NUMBER, id="arabic-indic-digits"),
        pytest.param("\uff12\uff15\uff10", NOT_A_NUMBER, id="fullwidth-digits"),
        pytest.param("1_000", NOT_A_NUMBER, id="python-underscores"),
        pytest.param("0x10", NOT_A_NUMBER, id="hexadecimal"),
        pytest.param("lots", NOT_A_NUMBER, id="words"),
        pytest.param("", NOT_A_NUMBER, id="empty"),
        pytest.param("   ", NOT_A_NUMBER, id="blank"),
        pytest.param("250\t000", NOT_A_NUMBER, id="tab-is-no-grouping"),
        pytest.param("1,234,56", NOT_A_NUMBER, id="grouping-equal-to-decimal"),
        pytest.param("250000 USD", NOT_A_NUMBER, id="currency-is-not-a-figure"),
        pytest.param("0", NOT_POSITIVE, id="zero"),
        pytest.param("0.00", NOT_POSITIVE, id="zero-cents"),
        pytest.param("-0", NOT_POSITIVE, id="minus-zero"),
        pytest.param("-500", NOT_POSITIVE, id="negative"),
        pytest.param("\u2212500", NOT_POSITIVE, id="unicode-minus"),
        pytest.param("0.001", TOO_PRECISE, id="a-tenth-of-a-cent"),
        pytest.param("0.005", TOO_PRECISE, id="half-a-cent-is-not-rounded"),
        pytest.param("250000.505", TOO_PRECISE, id="three-decimals"),
        pytest.param("0." + "0" * 3000 + "1", TOO_PRECISE, id="thousands-of-decimals"),
        pytest.param("10000000000000", TOO_LARGE, id="ten-trillion"),
        pytest.param("99999999999999.99", TOO_LARGE, id="sqlite-would-keep-98-cents"),
        pytest.param("100000000000000", TOO_LARGE, id="numeric-16-2-overflow"),
        pytest.param("99999999999999999999", TOO_LARGE, id="twenty-nines"),
        pytest.param("9" * 5000, TOO_LARGE, id="thousands-of-digits"),
        pytest.param("999 999 999 999 999 bn", TOO_LARGE, id="multiplied-beyond"),
    ],
)
def test_read_amount(text: str, expected: Decimal | AmountProblem) -> None:
    assert read_amount(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(Decimal("NaN"), NOT_A_NUMBER, id="nan"),
        pytest.param(Decimal("sNaN"), NOT_A_NUMBER, id="signalling-nan-never-compared"),
        pytest.param(Decimal("Infinity"), NOT_A_NUMBER, id="infinity"),
        pytest.param(Decimal("1E+2"), NOT_A_NUMBER, id="e-notation-as-read-from-a-sentence"),
        pytest.param(Decimal("1E+999999999"), NOT_A_NUMBER, id="beyond-the-context"),
        pytest.param(Decimal("-0"), NOT_POSITIVE, id="minus-zero"),
        pytest.param(Decimal("1E-999999999"), TOO_PRECISE, id="tiny"),
        pytest.param(MAX_AMOUNT, TOO_LARGE, id="the-limit"),
        pytest.param(LARGEST, LARGEST, id="below-the-limit"),
    ],
)
def test_check_amount(value: Decimal, expected: Decimal | AmountProblem) -> None:
    assert check_amount(value) == expected


@pytest.mark.parametrize(
    ("language", "problem", "text"),
    [
        ("en", TOO_LARGE, "The amount must be less than 10,000,000,000,000; check the number of"),
        ("fr", TOO_LARGE, "Le montant doit être inférieur à 10\u202f000\u202f000\u202f000"),
        ("es", TOO_PRECISE, "Indique el importe con dos decimales como máximo"),
        ("fr", NOT_A_NUMBER, "Indiquez le montant en chiffres"),
        ("es", NOT_POSITIVE, "El importe debe ser superior a 0"),
    ],
)
def test_the_reason_is_explained_in_the_readers_language(
    language: str, problem: AmountProblem, text: str
) -> None:
    assert explain(problem, translator(language)).startswith(text)


# What SQLite does to a Numeric(16, 2): SQLAlchemy binds a float and reads it back rounded to
# cents. PostgreSQL keeps the decimal exactly but refuses more than 14 digits before the point.
_SQLITE = sa.create_engine("sqlite://")
_AMOUNTS = sa.Table("amounts", sa.MetaData(), sa.Column("amount", sa.Numeric(16, 2)))
_AMOUNTS.create(_SQLITE)


def _through_sqlite(value: Decimal) -> Decimal:
    with _SQLITE.begin() as connection:
        connection.execute(_AMOUNTS.delete())
        connection.execute(_AMOUNTS.insert(), {"amount": value})
        stored = connection.scalar(select(_AMOUNTS.c.amount))
    assert isinstance(stored, Decimal)
    return stored


_FIGURES = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 .,'-+eE\u202fkmMnNaIifsy", max_size=30),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(min_value=0, max_value=MAX_AMOUNT * 10, places=3).map(str),
)


@pytest.mark.filterwarnings("ignore:Dialect sqlite.*Decimal:sqlalchemy.exc.SAWarning")
@given(_FIGURES)
def test_any_text_is_an_amount_the_store_keeps_or_a_reason(text: str) -> None:
    read = read_amount(text)
    if isinstance(read, AmountProblem):
        return
    assert _through_sqlite(read) == read
    sign, digits, exponent = read.as_tuple()
    assert isinstance(exponent, int)
    assert sign == 0
    assert len(digits) + exponent <= 14  # numeric(16, 2): PostgreSQL keeps it, no overflow
    assert read == read.quantize(Decimal("0.01"))  # ... and does not round it


@pytest.mark.parametrize("text", ["0.01", "1234567890123.45", "7036874417766.41", str(LARGEST)])
async def test_the_largest_and_smallest_amounts_read_back_unchanged(
    store: Store, text: str
) -> None:
    amount = read_amount(text)
    assert isinstance(amount, Decimal)
    async with store.transaction() as session:
        await add_entry(
            session,
            SYSTEM,
            datetime(2027, 4, 20, tzinfo=UTC),
            kind=EntryKind.NEED,
            category=Category.FUNDING,
            description="Clearance",
            amount=amount,
            currency="USD",
            via=Via.IMPORT,
        )
    async with store.transaction() as session:
        assert await session.scalar(select(Entry.amount)) == Decimal(text)
