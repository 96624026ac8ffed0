"""parse_amount: how delegates write money in English, French and Spanish, and what is not money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.understanding import parse_amount


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        pytest.param("USD 250,000", "250000", "USD", id="code-before-comma-thousands"),
        pytest.param("250 000 USD", "250000", "USD", id="code-after-space-thousands"),
        pytest.param("250 000 $US", "250000", "USD", id="french-dollar-symbol"),
        pytest.param("€1.2m", "1200000", "EUR", id="euro-sign-and-m"),
        pytest.param("1,5 million d'euros", "1500000", "EUR", id="french-million-d-euros"),
        pytest.param("1,5 million d\u2019euros", "1500000", "EUR", id="curly-apostrophe"),
        pytest.param("CHF 40'000", "40000", "CHF", id="swiss-apostrophe-thousands"),
        pytest.param("CHF 40\u2019000", "40000", "CHF", id="swiss-curly-apostrophe"),
        pytest.param("£30k", "30000", "GBP", id="pound-sign-and-k"),
        pytest.param("250.000,50 EUR", "250000.50", "EUR", id="continental-decimal-comma"),
        pytest.param("$ 10", "10", "USD", id="dollar-sign-space"),
        pytest.param("$10", "10", "USD", id="dollar-sign"),
        pytest.param("US$ 5,000", "5000", "USD", id="spanish-dollar-symbol"),
        pytest.param("250\u00a0000 USD", "250000", "USD", id="no-break-space-thousands"),
        pytest.param("250\u202f000 €", "250000", "EUR", id="narrow-no-break-space-thousands"),
        pytest.param("1 200 000,50 EUR", "1200000.50", "EUR", id="french-grouping-and-decimal"),
        pytest.param("USD 1,234,567.89", "1234567.89", "USD", id="english-grouping-and-decimal"),
        pytest.param("50.000 dólares", "50000", "USD", id="spanish-dot-thousands-dolares"),
        pytest.param("1.2 million euros", "1200000", "EUR", id="english-million-euros"),
        pytest.param("2 millones de dólares", "2000000", "USD", id="spanish-millones-de"),
        pytest.param("250 mil dólares", "250000", "USD", id="spanish-mil"),
        pytest.param("1,2 M€", "1200000", "EUR", id="french-m-euro"),
        pytest.param("USD 3 million", "3000000", "USD", id="code-then-million"),
        pytest.param("$1.5bn", "1500000000", "USD", id="bn"),
        pytest.param("999 999 999 999 999 bn EUR", "999999999999999000000000", "EUR", id="largest"),
        pytest.param("2 milliards d'euros", "2000000000", "EUR", id="milliards"),
        pytest.param("10 000 francs suisses", "10000", "CHF", id="babel-french-name"),
        pytest.param("5,000 Swiss francs", "5000", "CHF", id="babel-english-name"),
        pytest.param("700 libras esterlinas", "700", "GBP", id="babel-spanish-name"),
        pytest.param("100 dollars des États-Unis", "100", "USD", id="babel-name-with-accents"),
        pytest.param("12.50 usd", "12.50", "USD", id="lower-case-common-code"),
        pytest.param("3 000 000 XOF", "3000000", "XOF", id="cfa-franc-code"),
        pytest.param("PEN 5,000", "5000", "PEN", id="capital-iso-code"),
        pytest.param("10 000 TOP", "10000", "TOP", id="word-like-code-after-number"),
        pytest.param("about 40 000 NOK for training", "40000", "NOK", id="in-a-sentence"),
        pytest.param("article 4: USD 250,000", "250000", "USD", id="after-an-article"),
        pytest.param("2026 € 500", "500", "EUR", id="sign-belongs-to-following-number"),
        pytest.param("en 2026, 500 EUR", "500", "EUR", id="year-then-amount"),
        pytest.param("-5 USD then USD 7", "7", "USD", id="skips-negative-takes-next"),
        pytest.param("USD 1,2345", "1.2345", "USD", id="irregular-grouping-is-decimal"),
        pytest.param("0.001 USD", "0.001", "USD", id="too-precise-read-as-written"),
        pytest.param("USD 0,0000001", "0.0000001", "USD", id="tiny-read-as-written"),
        pytest.param("1.23456789 million EUR", "1234567.89", "EUR", id="multiplied-exactly"),
        pytest.param("le 3e rapport : 500 EUR", "500", "EUR", id="french-ordinal-is-no-exponent"),
    ],
)
def test_parse_amount_reads(text: str, amount: str, currency: str) -> None:
    assert parse_amount(text) == (Decimal(amount), currency)


def test_parse_amount_keeps_the_cents_exactly() -> None:
    found = parse_amount("250.000,50 EUR")
    assert found is not None
    assert str(found[0]) == "250000.50"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        pytest.param("we need 1e308 USD", "1E+308", id="e-notation-before-currency"),
        pytest.param("USD 1E+2 for clearance", "1E+2", id="e-notation-after-currency"),
        pytest.param("1.5e6 euros", "1.5E+6", id="e-notation-with-a-mantissa"),
        pytest.param("USD 1e999999999", "1E+999999999", id="e-notation-beyond-decimal-context"),
    ],
)
def test_e_notation_is_one_figure_kept_as_written(text: str, written: str) -> None:
    """Never its exponent ("308") nor a guess; the amount rule refuses it (see test_money)."""
    found = parse_amount(text)
    assert found is not None
    assert str(found[0]) == written


def test_parse_amount_tidies_whole_multiples() -> None:
    found = parse_amount("€1.2m")
    assert found is not None
    assert str(found[0]) == "1200000"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("article 4", id="article"),
        pytest.param("art. 4", id="art-abbreviation"),
        pytest.param("our 2026 report", id="year"),
        pytest.param("on 12 April 2026", id="date"),
        pytest.param("2027-04-12", id="iso-date"),
        pytest.param("12/04/2027", id="day-first-date"),
        pytest.param("N-2026-0042", id="reference"),
        pytest.param("we need 250 000 for clearance", id="number-without-currency"),
        pytest.param("-500 USD", id="negative-after"),
        pytest.param("USD -500", id="negative-before"),
        pytest.param("\u2212€500", id="unicode-minus"),
        pytest.param("0 USD", id="zero"),
        pytest.param("USD 0.00", id="zero-with-cents"),
        pytest.param("TOP 10 PRIORITIES", id="word-like-code-before-number"),
        pytest.param("top 10", id="lower-case-rare-code"),
        pytest.param("all 3 teams", id="lower-case-all"),
        pytest.param("500 usda", id="code-inside-word"),
        pytest.param("5 euroscepticism", id="currency-inside-word"),
        pytest.param("USD 1,234,56", id="grouping-equal-to-decimal"),
        pytest.param("USD", id="currency-only"),
        pytest.param("$", id="sign-only"),
        pytest.param("USD " + "9" * 5000, id="thousands-of-digits"),
        pytest.param("9" * 16 + " USD", id="beyond-any-pledge"),
        pytest.param("9" * 20 + " bn USD", id="beyond-any-pledge-with-multiplier"),
        pytest.param("", id="empty"),
        pytest.param("12 mines in the north", id="m-inside-word-is-not-million"),
        pytest.param("200 or so", id="french-word-for-gold-is-not-money"),
    ],
)
def test_parse_amount_finds_no_money(text: str) -> None:
    assert parse_amount(text) is None
