"""The shipped treaty data: what it says, the rules we compute from it, and how bad files fail."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.core import get_global

from storage.cldr_defaults import CAPITAL_ZONES, weekend_days
from storage.sourced import Sourced
from storage.treaty_data import (
    CONVENTION_ENTRY_INTO_FORCE,
    STATES_COLUMNS,
    THIRTIETH_INSTRUMENT_DEPOSITED,
    DeadlineEvent,
    StateFacts,
    TreatyData,
    TreatyDataError,
    article17_entry_into_force,
    load_treaty_data,
    obligation_history,
    read_deadline_history,
    read_signatories,
    read_states,
)

HEADER = ",".join(STATES_COLUMNS)
UN = "https://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-6.en.xml"


@pytest.fixture(scope="module")
def data() -> TreatyData:
    return load_treaty_data()


@pytest.fixture(scope="module")
def parties() -> list[StateFacts]:
    return read_states()


@pytest.fixture(scope="module")
def by_iso3(data: TreatyData) -> dict[str, StateFacts]:
    return {state.iso3: state for state in data.states}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- What the packaged files say ----------------------------------------------------------------


def test_parties_file_has_112_parties_and_lithuania_withdrawn(parties: list[StateFacts]) -> None:
    assert len(parties) == 113
    assert sum(s.status.value == "party" for s in parties) == 112
    [withdrawn] = [s for s in parties if s.status.value == "withdrawn"]
    assert withdrawn.iso3 == "LTU"
    assert withdrawn.status_date is not None
    assert withdrawn.status_date.value == date(2025, 3, 6)
    assert withdrawn.status_date.source.startswith("withdrawal: https://")


def test_signatories_are_states_with_signature_dates_where_known() -> None:
    signatories = {s.iso3: s for s in read_signatories()}
    assert len(signatories) == 12
    assert {s.status.value for s in signatories.values()} == {"signatory"}
    angola = signatories["AGO"]
    assert angola.status_date == Sourced(date(2008, 12, 3), "sourced", angola.source)
    assert angola.entry_into_force is None
    assert angola.instrument_deposited is None
    assert signatories["HTI"].status_date is None  # the source gives no date


def test_load_treaty_data_combines_parties_and_signatories(data: TreatyData) -> None:
    assert len(data.states) == 125
    assert len({s.iso3 for s in data.states}) == 125
    assert len(data.history) == 38


def test_vanuatu_enters_into_force_on_1_march_2026(by_iso3: dict[str, StateFacts]) -> None:
    vanuatu = by_iso3["VUT"]
    assert vanuatu.instrument_deposited is not None
    assert vanuatu.instrument_deposited.value == date(2025, 9, 5)
    assert vanuatu.entry_into_force == Sourced(date(2026, 3, 1), "sourced", vanuatu.source)


@pytest.mark.parametrize(
    ("deposited", "expected"),
    [
        (date(2008, 12, 3), date(2010, 8, 1)),  # signed and ratified at the signing conference
        (THIRTIETH_INSTRUMENT_DEPOSITED, date(2010, 8, 1)),
        (date(2010, 2, 17), date(2010, 8, 1)),  # after the 30th, but the same month
        (date(2010, 4, 28), date(2010, 10, 1)),
        (date(2011, 6, 30), date(2011, 12, 1)),
        (date(2011, 7, 1), date(2012, 1, 1)),  # across a year
        (date(2023, 12, 31), date(2024, 6, 1)),
        (date(2025, 9, 5), date(2026, 3, 1)),
    ],
)
def test_article17_entry_into_force(deposited: date, expected: date) -> None:
    assert article17_entry_into_force(deposited) == expected


def test_first_30_instruments_are_those_deposited_by_16_february_2010(
    parties: list[StateFacts],
) -> None:
    by_deposit = sorted(parties, key=lambda s: _value(s.instrument_deposited))
    first_30, later = by_deposit[:30], by_deposit[30:]
    assert all(_value(s.instrument_deposited) <= THIRTIETH_INSTRUMENT_DEPOSITED for s in first_30)
    assert all(_value(s.instrument_deposited) > THIRTIETH_INSTRUMENT_DEPOSITED for s in later)
    assert {_value(s.entry_into_force) for s in first_30} == {CONVENTION_ENTRY_INTO_FORCE}
    assert CONVENTION_ENTRY_INTO_FORCE not in {_value(s.entry_into_force) for s in later}


def test_article17_reproduces_every_sourced_entry_into_force(parties: list[StateFacts]) -> None:
    disagreements = [
        (s.iso3, _value(s.instrument_deposited), _value(s.entry_into_force))
        for s in parties
        if article17_entry_into_force(_value(s.instrument_deposited)) != _value(s.entry_into_force)
    ]
    assert all(_basis(s.entry_into_force) == "sourced" for s in parties)
    assert disagreements == []


def test_missing_entry_into_force_is_computed_with_its_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "states.csv",
        f"{HEADER}\n"
        f"AFG,Afghanistan,Asia,2011-09-08,,party,,,,{UN}\n"
        f"NOR,Norway,Europe,2008-12-03,,party,,,,{UN}\n",
    )
    afghanistan, norway = read_states(path)
    assert afghanistan.entry_into_force == Sourced(
        date(2012, 3, 1),
        "computed",
        "Art. 17(2): first day of the sixth month after the month of deposit",
    )
    assert norway.entry_into_force is not None
    assert norway.entry_into_force.value == date(2010, 8, 1)
    assert norway.entry_into_force.source.startswith("Art. 17(1)")


def test_every_fact_carries_a_source(data: TreatyData) -> None:
    unsourced = [
        (state.iso3, field.name)
        for state in data.states
        for field in fields(state)
        if isinstance(fact := getattr(state, field.name), Sourced) and not fact.source
    ]
    assert unsourced == []


@pytest.mark.parametrize(
    ("iso3", "fact", "source_starts"),
    [
        ("AFG", "art4_deadline", "art4: https://www.mineactionreview.org/country/afghanistan"),
        ("AFG", "entry_into_force", "http://treaties.un.org/"),  # not the art4 part
        ("BGR", "art3_deadline", "eif+art3: "),
        ("BGR", "entry_into_force", "eif+art3: "),
        ("IRQ", "region", "region: CMC places Iraq"),
        ("LTU", "status", "withdrawal: "),
        ("LTU", "instrument_deposited", "deposit+eif: "),
        ("PER", "region", "region: UN M49"),
    ],
)
def test_a_fact_cites_the_source_parts_labelled_for_it(
    by_iso3: dict[str, StateFacts], iso3: str, fact: str, source_starts: str
) -> None:
    sourced = getattr(by_iso3[iso3], fact)
    assert sourced.basis == "sourced"
    assert sourced.source.startswith(source_starts)
    assert " | " not in sourced.source or fact == "entry_into_force"


@pytest.mark.parametrize(
    ("iso3", "name_fr", "name_es"),
    [
        ("TCD", "Tchad", "Chad"),
        ("GBR", "Royaume-Uni", "Reino Unido"),
        ("CIV", "C\u00f4te d\u2019Ivoire", "C\u00f4te d\u2019Ivoire"),
        ("VAT", "Saint-Siège", "Santa Sede"),  # CLDR would say Vatican City
        ("PSE", "État de Palestine", "Estado de Palestina"),  # CLDR: Palestinian Territories
        ("COD", "République démocratique du Congo", "República Democrática del Congo"),
    ],
)
def test_french_and_spanish_names(
    by_iso3: dict[str, StateFacts], iso3: str, name_fr: str, name_es: str
) -> None:
    state = by_iso3[iso3]
    assert (state.name("fr"), state.name("es")) == (name_fr, name_es)
    assert state.name_fr.basis == "default"


# --- Defaults from CLDR -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iso3", "language"),
    [
        ("FRA", "fr"),
        ("SEN", "fr"),  # Wolof is more spoken, but only French of our three is official
        ("TCD", "fr"),  # Arabic and French official
        ("BEL", "fr"),  # Dutch is larger, but is not one of our languages
        ("CHE", "fr"),
        ("CMR", "fr"),  # French 68% over English 38%
        ("MUS", "fr"),  # French 73% over English 72%
        ("HTI", "fr"),  # a signatory
        ("CHL", "es"),
        ("ESP", "es"),
        ("MEX", "es"),  # de facto official
        ("PRY", "es"),
        ("CAN", "en"),  # English 87% over French 29%
        ("VUT", "en"),  # English 83% over French 31%
        ("RWA", "en"),
        ("LBN", "en"),  # CLDR lists only Arabic as official; the ISU may set French
        ("VAT", "en"),  # Italian only
        ("AUS", "en"),
    ],
)
def test_default_language(by_iso3: dict[str, StateFacts], iso3: str, language: str) -> None:
    state = by_iso3[iso3]
    assert state.language.value == language
    assert state.language.basis == "default"
    assert state.language.source.startswith("CLDR territory data via Babel")


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (5, 6, {5, 6}),
        (4, 5, {4, 5}),
        (3, 4, {3, 4}),
        (6, 6, {6}),
        (6, 0, {6, 0}),
        (5, 0, {5, 6, 0}),
    ],
)
def test_weekend_days_wrap_past_sunday(start: int, end: int, days: set[int]) -> None:
    assert weekend_days(start, end) == days


@pytest.mark.parametrize(
    ("iso3", "weekend"),
    [
        ("AFG", {3, 4}),  # Thursday-Friday
        ("IRQ", {4, 5}),  # Friday-Saturday
        ("LBN", {5, 6}),
        ("UGA", {6}),  # Sunday only
        ("FRA", {5, 6}),
    ],
)
def test_default_weekend(by_iso3: dict[str, StateFacts], iso3: str, weekend: set[int]) -> None:
    assert by_iso3[iso3].weekend.value == weekend
    assert by_iso3[iso3].weekend.basis == "default"


@pytest.mark.parametrize(
    ("iso3", "zone"),
    [
        ("AUS", "Australia/Sydney"),
        ("CAN", "America/Toronto"),
        ("CHL", "America/Santiago"),
        ("ECU", "America/Guayaquil"),
        ("MEX", "America/Mexico_City"),
        ("NZL", "Pacific/Auckland"),
        ("PRT", "Europe/Lisbon"),
        ("ESP", "Europe/Madrid"),
        ("PSE", "Asia/Hebron"),
        ("COD", "Africa/Kinshasa"),
        ("IDN", "Asia/Jakarta"),
        ("FRA", "Europe/Paris"),  # CLDR gives metropolitan France a single zone
        ("AFG", "Asia/Kabul"),
        ("CHE", "Europe/Zurich"),
    ],
)
def test_default_timezone(by_iso3: dict[str, StateFacts], iso3: str, zone: str) -> None:
    assert by_iso3[iso3].timezone.value == zone


def test_capital_zones_cover_exactly_our_multi_zone_states(data: TreatyData) -> None:
    zones = get_global("territory_zones")
    multi_zone = {s.iso3 for s in data.states if len(zones.get(s.iso2, ())) > 1}
    assert multi_zone == set(CAPITAL_ZONES)


@pytest.mark.parametrize("iso3", sorted(CAPITAL_ZONES))
def test_capital_zone_is_one_of_the_states_cldr_zones(
    by_iso3: dict[str, StateFacts], iso3: str
) -> None:
    zone, _capital = CAPITAL_ZONES[iso3]
    assert zone in get_global("territory_zones")[by_iso3[iso3].iso2]
    ZoneInfo(zone)


def test_every_state_has_a_loadable_zone_without_fallback(data: TreatyData) -> None:
    for state in data.states:
        ZoneInfo(state.timezone.value)
    assert [s.iso3 for s in data.states if "please confirm" in s.timezone.source] == []


# --- Deadline history ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "on", "kind"),
    [
        ("original deadline", date(2020, 8, 1), "deadline"),
        ("extended deadline (18 months, 2RC)", date(2022, 9, 1), "deadline"),
        ("interim extended deadline (second, requested for 2RC)", date(2023, 6, 1), "deadline"),
        ("final deadline", date(2023, 12, 31), "deadline"),
        ("original deadline", None, "note"),  # no exact date: kept as a note
        ("deadline then in force; further extension requested", None, "note"),
        ("further 5-year interim extension requested", date(2030, 8, 1), "note"),  # a request
        ("extension request listed for 13MSP (deadlines in 2026)", None, "note"),
        ("completed", None, "completion"),
        ("completion declared (11MSP); 9th SP to complete clearance", None, "completion"),
        ("fulfilled (last SP to complete stockpile destruction)", None, "completion"),
        ("fulfilment declared", None, "completion"),
        ("clearance completed", None, "completion"),
        ("stockpile destruction completed", date(2015, 11, 25), "completion"),
    ],
)
def test_history_event_kind(event: str, on: date | None, kind: str) -> None:
    assert DeadlineEvent(2, "XXX", 4, event, on, "", "src").kind == kind


def test_bosnia_article4_history(data: TreatyData) -> None:
    history = obligation_history("BIH", 4, data.history)
    assert history.original is not None
    assert history.original.due == date(2021, 3, 1)
    assert [d.due for d in history.extensions] == [date(2022, 9, 1), date(2023, 9, 1)]
    assert history.completion is not None
    assert history.completion.value.on is None
    assert history.completion.value.as_stated == "August 2023"
    assert history.notes == ()


def test_germany_requested_extension_is_a_note_not_a_deadline(data: TreatyData) -> None:
    history = obligation_history("DEU", 4, data.history)
    assert history.latest is not None
    assert history.latest.due == date(2020, 8, 1)
    assert history.extensions == ()
    assert [note.on for note in history.notes] == [None, date(2030, 8, 1)]


def test_bulgaria_undated_deadlines_are_notes(data: TreatyData) -> None:
    history = obligation_history("BGR", 3, data.history)
    assert history.original is None
    assert [d.due for d in history.extensions] == [date(2023, 12, 31)]
    assert [note.as_stated for note in history.notes] == [
        "October 2019",
        "October 2019 -> April 2021",
        "October 2022",
    ]


@pytest.mark.parametrize(
    ("iso3", "article", "on", "as_stated"),
    [
        ("DEU", 3, date(2015, 11, 25), "25 November 2015"),
        ("BGR", 3, None, "June 2023"),
        ("PER", 3, None, "2023"),
        ("SVK", 3, None, "2023"),
        ("BIH", 4, None, "August 2023"),
        ("ALB", 4, None, "before Aug 2019"),
        ("NOR", 4, None, "before Aug 2019"),
    ],
)
def test_completion_from_history(
    by_iso3: dict[str, StateFacts], iso3: str, article: int, on: date | None, as_stated: str
) -> None:
    completed = getattr(by_iso3[iso3], f"art{article}_completed")
    assert completed is not None
    assert (completed.value.on, completed.value.as_stated) == (on, as_stated)
    assert completed.source.startswith("http")


def test_open_obligations_have_no_completion(by_iso3: dict[str, StateFacts]) -> None:
    for iso3 in ("AFG", "CHL", "LAO", "LBN", "IRQ"):
        assert by_iso3[iso3].art4_completed is None


def test_csv_deadlines_match_the_latest_in_the_history(data: TreatyData) -> None:
    checked = []
    for state in data.states:
        for article in (3, 4):
            deadline = getattr(state, f"art{article}_deadline")
            latest = obligation_history(state.iso3, article, data.history).latest
            if deadline is not None and latest is not None:
                checked.append((state.iso3, article, deadline.value, latest.due))
    assert [c for c in checked if c[2] != c[3]] == []
    assert len(checked) == 8  # AFG BIH CHL IRQ LAO LBN (art 4), BGR PER (art 3)


# --- Bad files ----------------------------------------------------------------------------------


def test_bad_states_file_lists_every_problem_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "states.csv",
        "\ufeff"  # Excel's BOM is harmless
        f"{HEADER}\n"
        f"AFG,Afghanistan,Asia,2011-09-08,2012-03-01,party,,,2026-03-01,{UN}\n"
        f"af,Albania,Europe,2009-06-16,2010-08-01,party,,,,{UN}\n"
        f"AFG,Afghanistan again,Asia,2011-09-08,,party,,,,{UN}\n"
        "\n"
        f"AUT,Austria,Europe,16/02/2010,,party,,,,{UN}\n"
        f"BEL,Belgium,Europe,2009-12-22,,member,,,,{UN}\n"
        f"LTU,Lithuania,Europe,2011-03-24,2011-09-01,withdrawn,,,,{UN}\n"
        f"BLZ,Belize,Americas,2014-09-02,,party,,,\n"
        f"BEN,Benin,Afrika,2017-07-10,,party,,,,\n"
        f"XYZ,Nowhere,Europe,2017-07-10,,party,,,,{UN}\n"
        f"BOL,Bolivia,Americas,2013-04-30,2013-02-30,party,,,,{UN}\n"
        f"BWA,Botswana,Africa,2011-06-27,2011-01-01,party,,,,{UN}\n",
    )
    with pytest.raises(TreatyDataError) as caught:
        read_states(path)
    problems = [(p.line, p.reason) for p in caught.value.problems]
    expected = [
        (3, "iso3 'af' must be three capital letters"),
        (4, "AFG already appears on line 2"),
        (6, "instrument_deposited '16/02/2010' is not a date; write it as YYYY-MM-DD"),
        (7, "status 'member' must be 'party' or 'withdrawn'"),
        (8, "status_date is empty"),
        (9, "has 9 fields where the header has 10"),
        (10, "source is empty"),
        (10, "region 'Afrika' must be one of"),
        (11, "iso3 XYZ is not an ISO 3166-1 alpha-3 code"),
        (12, "entry_into_force '2013-02-30' is not a date"),
        (13, "entry_into_force 2011-01-01 precedes instrument_deposited 2011-06-27"),
    ]
    assert len(problems) == len(expected)
    for (line, reason), (want_line, want_reason) in zip(problems, expected, strict=True):
        assert line == want_line
        assert want_reason in reason
    message = str(caught.value)
    assert message.startswith(f"{path}: 11 problem(s)")
    assert "line 13:" in message


def test_states_file_without_required_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "states.csv", "iso3,name,status\nAFG,Afghanistan,party\n")
    with pytest.raises(TreatyDataError, match=r"line 1: the header lacks column\(s\) region, "):
        read_states(path)


def test_quoted_multiline_value_keeps_later_line_numbers_right(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "states.csv",
        f'{HEADER}\nAFG,Afghanistan,Asia,2011-09-08,,party,,,,"{UN}\nsecond line"\n'
        f"ALB,Albania,Europe,2009-06-16,,party,,,,{UN}\n"
        f"AND,Andorra,Europe,2013-04-09,,parti,,,,{UN}\n",
    )
    with pytest.raises(TreatyDataError) as caught:
        read_states(path)
    assert [p.line for p in caught.value.problems] == [5]


def test_bad_history_file_lists_every_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "history.csv",
        "iso3,article,event,date,as_stated,source\n"
        "AFG,4,original deadline,2022-03-01,1 March 2022,https://example.org/a\n"
        "AFG,5,original deadline,2022-03-01,1 March 2022,https://example.org/a\n"
        "AFG,4,extended deadline,1 March 2026,,https://example.org/a\n"
        "AFG,4,,2026-03-01,,\n",
    )
    with pytest.raises(TreatyDataError) as caught:
        read_deadline_history(path)
    assert [(p.line, p.reason.split(" ")[0]) for p in caught.value.problems] == [
        (3, "article"),
        (4, "date"),
        (5, "event"),
        (5, "source"),
    ]


def test_history_naming_an_unknown_state_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "history.csv",
        "iso3,article,event,date,as_stated,source\n"
        "USA,4,original deadline,2022-03-01,1 March 2022,https://example.org/a\n",
    )
    with pytest.raises(TreatyDataError, match=r"line 2: USA is in neither"):
        load_treaty_data(history_path=path)


def test_signatory_that_is_also_a_party_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "signatories.csv",
        f"iso3,name,signature_date,source\nAGO,Angola,2008-12-03,{UN}\nFRA,France,2008-12-03,{UN}\n",
    )
    with pytest.raises(TreatyDataError, match=r"line 3: FRA is also in the States Parties file"):
        load_treaty_data(signatories_path=path)


def _value(fact: Sourced[date] | None) -> date:
    assert fact is not None
    return fact.value


def _basis(fact: Sourced[date] | None) -> str:
    assert fact is not None
    return fact.basis
