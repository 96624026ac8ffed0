"""parse_date: dates in three languages; a day and month alone is the latest one not after today."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.understanding import parse_date

TODAY = date(2026, 5, 20)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("on 12 April", date(2026, 4, 12), id="english-day-month"),
        pytest.param("on April 12th", date(2026, 4, 12), id="english-month-day-ordinal"),
        pytest.param("the 12th of April", date(2026, 4, 12), id="english-of"),
        pytest.param("12 Apr.", date(2026, 4, 12), id="english-abbreviation"),
        pytest.param("on 20 May", date(2026, 5, 20), id="today-itself"),
        pytest.param("on 21 May", date(2025, 5, 21), id="tomorrow-means-last-year"),
        pytest.param("on 31 December", date(2025, 12, 31), id="year-end-is-last-year"),
        pytest.param("29 February", date(2024, 2, 29), id="leap-day-finds-a-leap-year"),
        pytest.param("le 12 avril", date(2026, 4, 12), id="french"),
        pytest.param("le 1er mars", date(2026, 3, 1), id="french-premier"),
        pytest.param("le 3 février", date(2026, 2, 3), id="french-accent"),
        pytest.param("LE 3 FEVRIER", date(2026, 2, 3), id="french-caps-no-accent"),
        pytest.param("le 15 août", date(2025, 8, 15), id="french-aout-last-year"),
        pytest.param("le 2 sept. 2025", date(2025, 9, 2), id="french-abbreviation-year"),
        pytest.param("el 12 de abril", date(2026, 4, 12), id="spanish"),
        pytest.param("el 12 de abril de 2027", date(2027, 4, 12), id="spanish-with-year"),
        pytest.param("el 5 de septiembre del 2024", date(2024, 9, 5), id="spanish-del"),
        pytest.param("12 April 2027", date(2027, 4, 12), id="explicit-future-year-kept"),
        pytest.param("April 12, 2025", date(2025, 4, 12), id="american-with-year"),
        pytest.param("2027-04-12", date(2027, 4, 12), id="iso"),
        pytest.param("12/04/2027", date(2027, 4, 12), id="day-first-slash"),
        pytest.param("12.04.2027", date(2027, 4, 12), id="day-first-dot"),
        pytest.param("3/4/26", date(2026, 4, 3), id="day-first-two-digit-year"),
        pytest.param("yesterday", date(2026, 5, 19), id="yesterday"),
        pytest.param("hier", date(2026, 5, 19), id="hier"),
        pytest.param("ayer por la mañana", date(2026, 5, 19), id="ayer-por-la-manana"),
        pytest.param("avant-hier", date(2026, 5, 18), id="avant-hier-not-hier"),
        pytest.param("the day before yesterday", date(2026, 5, 18), id="day-before-yesterday"),
        pytest.param("anteayer", date(2026, 5, 18), id="anteayer"),
        pytest.param("today", date(2026, 5, 20), id="today"),
        pytest.param("aujourd\u2019hui", date(2026, 5, 20), id="aujourd-hui-curly"),
        pytest.param("hoy", date(2026, 5, 20), id="hoy"),
        pytest.param("esta mañana", date(2026, 5, 20), id="esta-manana-is-today"),
        pytest.param("3 days ago", date(2026, 5, 17), id="days-ago"),
        pytest.param("il y a 2 jours", date(2026, 5, 18), id="il-y-a"),
        pytest.param("hace 10 días", date(2026, 5, 10), id="hace"),
        pytest.param("on Monday", date(2026, 5, 18), id="weekday"),
        pytest.param("on Wednesday", date(2026, 5, 13), id="weekday-today-means-last-week"),
        pytest.param("lundi dernier", date(2026, 5, 18), id="french-weekday"),
        pytest.param("el viernes pasado", date(2026, 5, 15), id="spanish-weekday"),
        pytest.param("31 February, then 3 March", date(2026, 3, 3), id="skips-impossible"),
        pytest.param("sent 2 May, reviewed 9 May", date(2026, 5, 2), id="first-date-wins"),
        pytest.param("our 2026 report, sent 12 April", date(2026, 4, 12), id="year-is-not-a-day"),
    ],
)
def test_parse_date_reads(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


def test_day_month_on_the_day_before_is_last_year() -> None:
    assert parse_date("12 April", today=date(2026, 4, 11)) == date(2025, 4, 12)


def test_day_month_across_new_year() -> None:
    assert parse_date("30 December", today=date(2027, 1, 2)) == date(2026, 12, 30)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("31 February", id="31-february"),
        pytest.param("31 April 2026", id="31-april-with-year"),
        pytest.param("30/02/2026", id="day-first-impossible"),
        pytest.param("2026-13-01", id="iso-month-13"),
        pytest.param("29 February 2026", id="leap-day-in-common-year"),
        pytest.param("our 2026 report", id="year-only"),
        pytest.param("April 2026", id="month-and-year"),
        pytest.param("article 4", id="article"),
        pytest.param("USD 250,000", id="amount"),
        pytest.param("N-2026-0042", id="reference"),
        pytest.param("1.250.000 EUR", id="dotted-amount-is-not-a-date"),
        pytest.param("we may need 3 more", id="may-the-verb"),
        pytest.param("3 days", id="days-without-ago"),
        pytest.param("Ministerio en Santo Domingo", id="santo-domingo-is-a-city"),
        pytest.param("por la mañana", id="por-la-manana-is-morning-not-tomorrow"),
        pytest.param("", id="empty"),
    ],
)
def test_parse_date_finds_none(text: str) -> None:
    assert parse_date(text, today=TODAY) is None
