"""Imports: every example file goes in, a bad file is refused whole, a second import updates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers.imports import (
    ImportKind,
    ImportRejected,
    ImportResult,
    RowError,
    TableError,
    run_import,
)
from handlers.imports.common import Cells, Context
from handlers.imports.entries import STAGE_BATCH
from handlers.tables import Row, read_table, write_table
from schedules.clock import FixedClock
from storage.audit import Actor
from storage.db import Store
from storage.models import (
    AuditEntry,
    Base,
    Contact,
    Entry,
    EntryKind,
    EntryStatus,
    Report,
    ReportKind,
    State,
    Via,
)
from tests.storage.test_contacts import EXAMPLE_STATES, add_example_states

EXAMPLES = Path(__file__).parents[2] / "examples"
ISU = Actor("isu@ccm-isu.example", Via.IMPORT)
IN_ORDER = [  # needs and capacities name who logged them, so contacts come first
    (ImportKind.CONTACTS, "contacts.csv", 11),
    (ImportKind.REPORTS, "reports.csv", 8),
    (ImportKind.NEEDS, "needs.csv", 6),
    (ImportKind.CAPACITIES, "capacities.csv", 5),
    (ImportKind.ASSISTANCE, "assistance.csv", 8),
]
CONTACT_HEADER = "name,email,slack_user_id,state,organisation,role,language,timezone,channel\n"
NEEDS_HEADER = (
    "reference,state,organisation,article,category,description,amount,currency,"
    "period_start,period_end,focus,status,visibility,logged_by\n"
)


@pytest.fixture
async def states(store: Store) -> Store:
    async with store.transaction() as session:
        await add_example_states(session)
    return store


@pytest.fixture
async def resolve_state(states: Store) -> Callable[[str], str | None]:
    """The lead wires the real resolver (names in three languages); here, ISO3 codes in the DB."""
    async with states.transaction() as session:
        known = set((await session.scalars(select(State.iso3))).all())

    def resolve(text: str) -> str | None:
        code = text.strip().upper()
        return code if code in known else None

    return resolve


@pytest.fixture
def load(
    states: Store, clock: FixedClock, resolve_state: Callable[[str], str | None]
) -> Callable[..., object]:
    async def load(kind: ImportKind, path: Path, **options: object) -> ImportResult:
        async with states.transaction() as session:
            return await run_import(
                session,
                kind,
                path,
                actor=ISU,
                now=clock.now(),
                resolve_state=resolve_state,
                **options,  # type: ignore[arg-type]
            )

    return load


def csv_file(tmp_path: Path, text: str, name: str = "import.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def row_counts(store: Store) -> dict[str, int]:
    async with store.transaction() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


async def import_examples(load: Callable[..., object]) -> list[ImportResult]:
    return [await load(kind, EXAMPLES / name) for kind, name, _ in IN_ORDER]  # type: ignore[misc]


async def test_every_example_file_imports(states: Store, load: Callable[..., object]) -> None:
    results = await import_examples(load)
    assert [(r.created, r.updated, r.unchanged, r.rows) for r in results] == [
        (rows, 0, 0, rows) for _, _, rows in IN_ORDER
    ]
    async with states.transaction() as session:
        contacts = {c.email: c for c in (await session.scalars(select(Contact))).all()}
        claire = contacts["claire.dubois@diplomatie.gouv.fr.example"]
        marc = contacts["marc.lefevre@diplomatie.gouv.fr.example"]
        needs = (await session.scalars(select(Entry).order_by(Entry.id))).all()
        lebanon_initial = await session.scalar(
            select(Report).where(Report.state_iso3 == "LBN", Report.kind == ReportKind.INITIAL)
        )
        france_2025 = await session.scalar(select(Report).where(Report.state_iso3 == "FRA"))
        audit = await session.scalar(select(func.count()).select_from(AuditEntry))
    # Two delegates named as each other's alternate: the link is made once both exist.
    assert (claire.alternate_id, marc.alternate_id) == (marc.id, claire.id)
    assert marc.timezone == "Europe/Zurich"  # written Europe/Geneva
    assert contacts["ingrid.solberg@mfa.no.example"].timezone is None  # the State's zone
    assert contacts["s.martinez@ccm-isu.example"].state_iso3 is None
    assert [n.reference for n in needs[:6]] == [f"N-2027-000{i}" for i in range(1, 7)]
    assert needs[6].reference == "C-2027-0001"
    assert needs[0].amount == Decimal("2500000.00")
    assert needs[0].logged_by_id == contacts["rami.haddad@lmac.gov.lb.example"].id
    assert (needs[2].amount, needs[2].status) == (Decimal("1200000"), EntryStatus.IN_DISCUSSION)
    assert needs[4].period_start == date(2027, 9, 15)  # written 15/09/2027
    assert needs[6].focus == ["Lebanon", "Lao PDR", "Iraq"]
    assert {n.via for n in needs} == {Via.IMPORT}
    assert lebanon_initial is not None
    assert lebanon_initial.due == date(2011, 10, 28)
    assert france_2025 is not None
    assert (france_2025.due, france_2025.learned_via) == (date(2026, 4, 30), Via.IMPORT)
    assert audit == sum(rows for _, _, rows in IN_ORDER) + 1  # + the second alternate link


async def test_importing_the_same_files_again_changes_nothing(
    states: Store, load: Callable[..., object]
) -> None:
    await import_examples(load)
    before = await row_counts(states)
    again = await import_examples(load)
    assert [(r.created, r.updated, r.unchanged) for r in again] == [
        (0, 0, rows) for _, _, rows in IN_ORDER
    ]
    assert await row_counts(states) == before


async def test_reimporting_a_contact_updates_them(
    states: Store, load: Callable[..., object], tmp_path: Path
) -> None:
    await load(ImportKind.CONTACTS, EXAMPLES / "contacts.csv")
    changed = csv_file(
        tmp_path,
        CONTACT_HEADER + "Ana Pérez Soto,ANA.PEREZ@minrel.gob.cl.example,U05CLPER02,CHL,"
        "Misión Permanente de Chile en Ginebra,delegate,es,Europe/Geneva,both\n",
    )
    result = await load(ImportKind.CONTACTS, changed)
    async with states.transaction() as session:
        ana = await session.scalar(
            select(Contact).where(Contact.email == "ana.perez@minrel.gob.cl.example")
        )
        last = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
        count = await session.scalar(select(func.count()).select_from(Contact))
    assert result == ImportResult(created=0, updated=1, rows=1, unchanged=0)
    assert count == 11
    assert ana is not None
    assert (ana.organisation, ana.channel, ana.timezone) == (
        "Misión Permanente de Chile en Ginebra",
        "both",
        "Europe/Zurich",
    )
    assert last is not None
    assert (last.action, last.before and last.before["channel"], last.actor) == (
        "update",
        "slack",
        ISU.label,
    )


async def test_a_file_with_bad_rows_is_refused_whole_with_every_error(
    states: Store, load: Callable[..., object], tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        CONTACT_HEADER
        + "Claire Dubois,claire.dubois@diplomatie.gouv.fr.example,,FRA,,deleggate,fr,,email\n"
        + "Marc Lefèvre,marc.lefevre@diplomatie,,FRA,,delegate,fr,,email\n"
        + "Ana Pérez,ana@cl.example,,XYZ,,delegate,de,Mars/Olympus,email\n"
        + "Awa Diop,awa@sn.example,,SEN,,delegate,fr,,slack\n"
        + "Claire Again,CLAIRE.DUBOIS@diplomatie.gouv.fr.example,,FRA,,delegate,,,email\n"
        + "Kari Nordmann,kari@npaid.example,bob,,,partner,en,,pigeon\n"
        + "Rami Haddad,rami@lb.example,,,,delegate,en,,email\n"
        + "Nadia Karimi,n.karimi@af.example,,AFG,,delegate,en,Asia/Kabul,email\n",
    )
    before = await row_counts(states)
    with pytest.raises(ImportRejected) as refused:
        await load(ImportKind.CONTACTS, path)
    assert await row_counts(states) == before
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (2, "role"),
        (3, "email"),
        (4, "state"),
        (4, "language"),
        (4, "timezone"),
        (5, "slack_user_id"),
        (6, "email"),
        (7, "slack_user_id"),
        (7, "channel"),
        (8, "state"),
    ]
    messages = [e.message for e in refused.value.errors]
    assert messages[0] == "role 'deleggate' is not one of delegate, coordinator, isu, partner"
    assert "also on line 2" in messages[6]
    assert "channel slack needs the person's Slack member ID" in messages[5]
    assert str(refused.value) == "10 problem(s) on 7 line(s); nothing was imported"


async def test_bad_needs_list_every_problem(
    states: Store, load: Callable[..., object], tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        NEEDS_HEADER
        + ',LBN,,7,clearance,Survey,"250.000,00",EURO,2027-13-01,2026-01-01,,opened,secret,'
        + "nobody@lb.example\n"
        + "N-2027-0999,LBN,,4,survey_clearance,Survey,250000,,,,,,,\n"
        + "C-2027-0001,LBN,,4,survey_clearance,Survey,,USD,,,,,,\n"
        + ",,Some NGO,4,survey_clearance,Survey,0,USD,01/02/2027,31/01/2027,,,,\n",
    )
    before = await row_counts(states)
    with pytest.raises(ImportRejected) as refused:
        await load(ImportKind.NEEDS, path)
    assert await row_counts(states) == before
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (2, "category"),
        (2, "article"),
        (2, "amount"),
        (2, "currency"),
        (2, "period_start"),
        (2, "status"),
        (2, "visibility"),
        (2, "logged_by"),
        (3, "currency"),
        (3, "reference"),
        (4, "reference"),
        (4, "amount"),
        (5, "amount"),
        (5, "period_end"),
    ]


async def test_dry_run_counts_and_writes_nothing(
    states: Store, load: Callable[..., object]
) -> None:
    await load(ImportKind.CONTACTS, EXAMPLES / "contacts.csv")
    before = await row_counts(states)
    result = await load(ImportKind.NEEDS, EXAMPLES / "needs.csv", dry_run=True)
    assert result == ImportResult(created=6, updated=0, rows=6, unchanged=0)
    assert await row_counts(states) == before


async def test_progress_is_reported_per_row(load: Callable[..., object]) -> None:
    seen: list[int] = []
    await load(ImportKind.CONTACTS, EXAMPLES / "contacts.csv", progress=seen.append)
    assert seen == list(range(1, 12))


async def test_needs_with_a_reference_update_that_need(
    states: Store, load: Callable[..., object], tmp_path: Path
) -> None:
    await load(ImportKind.CONTACTS, EXAMPLES / "contacts.csv")
    await load(ImportKind.NEEDS, EXAMPLES / "needs.csv")
    update = csv_file(
        tmp_path,
        "Reference,Category,Description,Status\n"
        "n-2027-0003,survey_clearance,Despeje en Pampa Chaca (financiado),met\n",
    )
    result = await load(ImportKind.NEEDS, update)
    async with states.transaction() as session:
        need = await session.scalar(select(Entry).where(Entry.reference == "N-2027-0003"))
        count = await session.scalar(select(func.count()).select_from(Entry))
    assert result == ImportResult(created=0, updated=1, rows=1, unchanged=0)
    assert count == 6
    assert need is not None
    # Columns left out of the file keep their stored values.
    assert (need.status, need.amount, need.state_iso3) == (EntryStatus.MET, Decimal(1200000), "CHL")
    assert need.kind is EntryKind.NEED


async def test_report_due_dates_and_submission_days_are_checked(
    states: Store, load: Callable[..., object], tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        "state,kind,year,due,submitted_on\n"
        "SEN,initial,2012,,2012-07-30\n"
        "SEN,annual,2026,,2027-04-01\n"
        "DEU,annual,2026,,31/04/2027\n"
        "NOR,annual,2026,,2027-03-30\n"
        "NOR,annual,2026,,2027-03-31\n",
    )
    with pytest.raises(ImportRejected) as refused:
        await load(ImportKind.REPORTS, path)
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (2, "due"),
        (3, "submitted_on"),
        (4, "submitted_on"),
        (6, "year"),
    ]


async def test_assistance_direction_must_match_the_reporting_state(
    load: Callable[..., object], tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        "state,direction,provider,recipient,year\n"
        "NOR,provided,FRA,NOR,2025\n"
        "NOR,provided,Norwegian People's Aid,LBN,2025\n"
        "LBN,received,Norway,LBN,2025\n"
        "LBN,received,Norway,LBN,2025\n",
    )
    with pytest.raises(ImportRejected) as refused:
        await load(ImportKind.ASSISTANCE, path)
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (2, "direction"),
        (5, "provider"),
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "name,emial,role\n",
            [(1, "email", "needs a column 'email'"), (1, "emial", "did you mean 'email'?")],
        ),
        ("FRA,claire@x.example,delegate\n", [(1, "name", "needs a column 'name'")]),
    ],
)
async def test_header_problems_are_reported_on_the_header_line(
    load: Callable[..., object], tmp_path: Path, header: str, expected: list[tuple[int, str, str]]
) -> None:
    with pytest.raises(ImportRejected) as refused:
        await load(ImportKind.CONTACTS, csv_file(tmp_path, header + "A,a@x.example,isu\n"))
    errors = refused.value.errors
    for line, column, fragment in expected:
        assert any(e.line == line and e.column == column and fragment in e.message for e in errors)


async def test_xlsx_imports_like_the_csv(states: Store, load: Callable[..., object]) -> None:
    from_xlsx = await load(ImportKind.CONTACTS, EXAMPLES / "contacts.xlsx")
    from_csv = await load(ImportKind.CONTACTS, EXAMPLES / "contacts.csv")
    assert (from_xlsx.created, from_csv.unchanged) == (11, 11)


async def test_semicolon_windows_1252_csv_from_french_excel(
    states: Store, load: Callable[..., object], tmp_path: Path
) -> None:
    path = tmp_path / "contacts-fr.csv"
    path.write_bytes(
        (
            "Name;Email;State;Role;Language;Channel\r\n"
            "Marc Lefèvre;marc.lefevre@diplomatie.gouv.fr.example;FRA;delegate;fr;email\r\n"
            "Awa Diop;awa.diop@diplomatie.gouv.sn.example;SEN;delegate;fr;email\r\n"
        ).encode("windows-1252")
    )
    result = await load(ImportKind.CONTACTS, path)
    async with states.transaction() as session:
        names = set((await session.scalars(select(Contact.name))).all())
    assert (result.created, names) == (2, {"Marc Lefèvre", "Awa Diop"})
    assert "Windows-1252" in result.notes[0]


async def test_formula_looking_cells_are_stored_as_plain_text(
    states: Store, load: Callable[..., object], tmp_path: Path
) -> None:
    hostile = '=HYPERLINK("http://evil.example","Ministry")'
    path = csv_file(
        tmp_path,
        'name,email,role,organisation\n"=1+1",a@x.example,isu,"'
        + hostile.replace('"', '""')
        + '"\n',
    )
    await load(ImportKind.CONTACTS, path)
    async with states.transaction() as session:
        contact = await session.scalar(select(Contact))
    assert contact is not None
    assert (contact.name, contact.organisation) == ("=1+1", hostile)
    # ... and an export of it re-imports to the same text, harmless in a spreadsheet.
    exported = tmp_path / "export.csv"
    write_table(exported, ["name", "organisation"], [{"name": "=1+1", "organisation": hostile}])
    assert read_table(exported).rows[0].values == {"name": "=1+1", "organisation": hostile}


async def test_binary_garbage_is_a_table_error_and_writes_nothing(
    states: Store, load: Callable[..., object], tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(bytes(range(256)) * 8)
    before = await row_counts(states)
    with pytest.raises(TableError):
        await load(ImportKind.CONTACTS, path)
    assert await row_counts(states) == before


async def test_ten_thousand_rows_validate(
    states: Store, load: Callable[..., object], tmp_path: Path
) -> None:
    states_cycle = list(EXAMPLE_STATES)
    rows = [
        {
            "name": f"Delegate {i}",
            "email": f"delegate.{i}@mfa.example",
            "role": "delegate",
            "state": states_cycle[i % len(states_cycle)],
            "language": "fr",
            "timezone": "Europe/Paris",
            "channel": "email",
        }
        for i in range(10_000)
    ]
    path = tmp_path / "many.csv"
    write_table(path, list(rows[0]), rows)
    result = await load(ImportKind.CONTACTS, path, dry_run=True)
    assert (result.created, result.rows) == (10_000, 10_000)


# --- cells, without a store -------------------------------------------------------------------


def cells(**values: str) -> tuple[Cells, list[RowError]]:
    context = Context(
        reads=None,  # type: ignore[arg-type]  # the cell parsers never read the store
        actor=ISU,
        now=datetime(2027, 3, 31, tzinfo=UTC),
        resolve_state=lambda text: text.upper() if text.upper() in EXAMPLE_STATES else None,
        known_states=frozenset(EXAMPLE_STATES),
        columns=frozenset(values),
    )
    return context.cells(Row(7, values)), context.errors


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("250000", Decimal(250000)),
        ("250,000.00", Decimal(250000)),
        ("250 000", Decimal(250000)),
        ("250\u202f000", Decimal(250000)),  # French Excel's narrow no-break space
        ("1,250,000.5", Decimal("1250000.5")),
        ("0.01", Decimal("0.01")),
        ("250.000,00", None),
        ("1,5", None),
        ("25,00,000", None),
        ("12.345", None),
        ("0", None),
        ("-5", None),
        ("€250,000", None),
        ("1e5", None),
        ("100000000000000", None),
    ],
)
def test_amounts(amount: str, expected: Decimal | None) -> None:
    row, errors = cells(amount=amount, currency="eur")
    assert row.money() == (expected, "EUR")
    assert bool(errors) is (expected is None)


@pytest.mark.parametrize(
    ("amount", "currency", "problem"),
    [
        ("250000", "", ("currency", "needs its currency")),
        ("", "USD", ("amount", "without an amount")),
        ("250000", "EURO", ("currency", "not an ISO 4217 code")),
    ],
)
def test_amount_and_currency_go_together(
    amount: str, currency: str, problem: tuple[str, str]
) -> None:
    row, errors = cells(amount=amount, currency=currency)
    row.money()
    assert [(e.line, e.column) for e in errors] == [(7, problem[0])]
    assert problem[1] in errors[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-04-30", date(2027, 4, 30)),
        ("30/04/2027", date(2027, 4, 30)),
        ("2027-4-3", date(2027, 4, 3)),
        ("3/4/2027", date(2027, 4, 3)),
        ("04/30/2027", None),  # month first, as US Excel writes
        ("2027-02-29", None),
        ("2007-12-31", None),
        ("2101-01-01", None),
        ("30.04.2027", None),
        ("30 April 2027", None),
    ],
)
def test_dates(text: str, expected: date | None) -> None:
    row, errors = cells(due=text)
    assert row.day("due") == expected
    assert bool(errors) is (expected is None)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("email", "Claire.Dubois@Diplomatie.example", "claire.dubois@diplomatie.example"),
        ("email", "claire.dubois@", None),
        ("email", "two@at@signs.example", None),
        ("timezone", "Europe/Geneva", "Europe/Zurich"),
        ("timezone", "Asia/Beirut", "Asia/Beirut"),
        ("timezone", "CET+1", None),
        ("language", "FR", "fr"),
        ("language", "de", None),
        ("state", "fra", "FRA"),
        ("state", "France", None),
        ("year", "2008", 2008),
        ("year", "2007", None),
        ("year", "\uff12\uff10\uff12\uff17", None),  # full-width digits
        ("article", "4", 4),
        ("article", "Art. 5", 5),
        ("article", "7", None),
        ("slack_user_id", "u04frdub01", "U04FRDUB01"),
        ("slack_user_id", "@claire", None),
    ],
)
def test_cells(column: str, value: str, expected: object) -> None:
    row, errors = cells(**{column: value})
    parse = {
        "email": row.email,
        "timezone": row.zone,
        "language": row.language,
        "state": row.state,
        "year": row.year,
        "article": row.article,
        "slack_user_id": row.slack_id,
    }[column]
    assert parse(column) == expected
    assert bool(errors) is (expected is None)
    if errors:
        assert errors[0].column == column
        assert repr(value) in errors[0].message or column in errors[0].message


async def test_a_stored_need_imported_again_with_changes_asks_for_its_reference(
    states: Store, load: Callable[..., object], tmp_path: Path
) -> None:
    await load(ImportKind.CONTACTS, EXAMPLES / "contacts.csv")
    await load(ImportKind.NEEDS, EXAMPLES / "needs.csv")
    edited = read_table(EXAMPLES / "needs.csv").rows[1].values | {"amount": "400000"}
    path = tmp_path / "needs.csv"
    write_table(path, list(edited), [edited, edited | {"amount": "", "currency": ""}])
    with pytest.raises(ImportRejected) as refused:
        await load(ImportKind.NEEDS, path)
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (2, "reference"),
        (3, "description"),
    ]
    assert "stored as N-2027-0002; put N-2027-0002 in the reference" in str(refused.value.errors[0])


async def test_a_write_failing_halfway_leaves_nothing_even_if_the_caller_commits(
    states: Store, clock: FixedClock, resolve_state: Callable[[str], str | None]
) -> None:
    def fail_on_third(done: int) -> None:
        if done == 3:
            raise RuntimeError("the disk is full")

    before = await row_counts(states)
    async with states.transaction() as session:
        with pytest.raises(RuntimeError):
            await run_import(
                session,
                ImportKind.CONTACTS,
                EXAMPLES / "contacts.csv",
                actor=ISU,
                now=clock.now(),
                resolve_state=resolve_state,
                progress=fail_on_third,
            )
    assert await row_counts(states) == before


@pytest.mark.parametrize("stop", [RuntimeError("the disk is full"), KeyboardInterrupt()])
async def test_an_import_stopped_after_staging_deletes_what_it_staged(
    states: Store,
    clock: FixedClock,
    resolve_state: Callable[[str], str | None],
    tmp_path: Path,
    stop: BaseException,
) -> None:
    """Given the store's transactions, as the CLI runs it: two batches are committed when the
    third fails, and the import removes them before the error goes on (Ctrl-C too)."""
    lines = "".join(f"LBN,funding,Clearance of area {n}\n" for n in range(2 * STAGE_BATCH + 1))
    path = csv_file(tmp_path, "state,category,description\n" + lines)
    staged: list[int] = []

    def stop_after_two_batches(done: int) -> None:
        staged.append(done)
        if done == 2 * STAGE_BATCH:
            raise stop

    before = await row_counts(states)
    with pytest.raises(type(stop)):
        await run_import(
            states.transaction,
            ImportKind.NEEDS,
            path,
            actor=ISU,
            now=clock.now(),
            resolve_state=resolve_state,
            progress=stop_after_two_batches,
        )
    assert staged == [STAGE_BATCH, 2 * STAGE_BATCH]
    assert await row_counts(states) == before
