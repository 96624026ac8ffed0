"""Importing contacts, reports, needs, capacities and assistance from CSV or XLSX, all or nothing.

Every row is checked, against the file and against the store, before anything is written: a
file with one bad row is refused with every problem listed (line, column, how to fix it) and the
store is left as it was. ``dry_run`` checks and counts without writing.

Files are CSV (UTF-8, or Windows-1252 as Excel on Windows saves it; ``,`` or ``;``) or XLSX (first
sheet). The first row names the columns, in any order and case (``Submitted On`` is
``submitted_on``). **Bold** columns are required; a column left out of the file leaves the stored
value alone when a row updates, and takes the default when it creates. Dates are ``YYYY-MM-DD``
or ``DD/MM/YYYY``; years and dates lie in 2008 to 2100. Amounts are more than 0, with at most two
decimals, written ``250000``, ``250,000.00`` or ``250 000`` (a point for decimals), and always
with an ISO 4217 currency (``EUR``, ``USD``, ``CHF``…). Values of fixed lists ignore case.

### contacts — matched on email: importing the same address again updates that person

| column | meaning |
|---|---|
| **name** | Full name, as the bot addresses the person. |
| **email** | Email address, stored lowercased; one row per address. |
| **role** | `delegate`, `coordinator`, `isu` or `partner`. |
| slack_user_id | Slack member ID (`U024BE7LH`); needed for channel `slack` or `both`. |
| state | ISO3 code of the person's State (`FRA`); a delegate needs one. |
| organisation | Ministry, mission or organisation; a partner needs a state or an organisation. |
| language | `en`, `fr` or `es`; empty: the State's language. |
| timezone | IANA time zone (`Europe/Paris`; `Europe/Geneva` is accepted); empty: the State's. |
| channel | `email` (default), `slack` or `both`. |
| alternate_email | Email of who to reach when this person is away; in the file or known. |

### reports — Article 7 reports received, matched on state, kind and year

| column | meaning |
|---|---|
| **state** | ISO3 code of the reporting State. |
| **kind** | `initial` or `annual`. |
| **year** | Year an annual report covers; for the initial report, the year of entry into force. |
| **submitted_on** | The day the report was received; not after today. |
| due | Empty: 30 April after `year` for an annual report; an initial report needs it. |
| note | Free text kept with the submission (how the ISU learned of it). |

### needs and capacities — matched on reference when one is given

| column | meaning |
|---|---|
| **category** | One of the categories listed below the table. |
| **description** | What is needed or offered, in any language. |
| reference | `N-2027-0042` (need) or `C-2027-0042` (capacity) to update; empty: a new entry. |
| state | ISO3 code; a need needs one, a capacity a state or an organisation. |
| organisation | Organisation that needs or offers (NGO, agency, operator). |
| article | Treaty article concerned: `3`, `4`, `5`, `6` or empty. |
| amount, currency | Amount and its ISO 4217 currency: both or neither. |
| period_start, period_end | Dates the need or offer covers; the end not before the start. |
| focus | Capacities: countries or regions served, `;`-separated (`Lebanon; Middle East`). |
| status | `open` (default), `in_discussion`, `met` or `withdrawn`; empty keeps the stored status. |
| visibility | `states_parties` (default), `public` or `coordinators`; empty keeps the stored one. |
| logged_by | Email of the contact who logged it; must be a known contact. |

Categories: `stockpile_destruction`, `survey_clearance`, `risk_education`, `victim_assistance`,
`socio_economic`, `national_planning`, `equipment`, `training_expertise`, `funding`, `other`.

### assistance — assistance reported provided or received; a row already stored is skipped

| column | meaning |
|---|---|
| **state** | ISO3 code of the reporting State. |
| **direction** | `provided` (the State is the provider) or `received` (it is the recipient). |
| **provider** | Who provided it: a State, an organisation, a fund. |
| **recipient** | Who received it. |
| **year** | Calendar year of the assistance. |
| article | `3`, `4`, `5`, `6` or empty. |
| amount, currency | Amount and its ISO 4217 currency: both or neither. |
| source | Where the figure comes from (report, page). |
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.imports import assistance, contacts, entries, reports
from handlers.imports.common import Context, Importer, Outcome, Plan, RowError, Sessions, Staging
from handlers.tables import TableError, read_table
from storage.audit import Actor
from storage.models import State
from storage.records import ChangedMeanwhile

log = logging.getLogger(__name__)

# A pause after each staged batch. A writer kept waiting on SQLite retries every 100 ms at most
# (its busy handler's longest sleep): batches back to back would let it in only by chance, and
# the bot's writers waited seconds in all. This lets each one in; 500 rows cost 0.1 s more.
STAGE_PAUSE = 0.1

__all__ = [
    "ChangedMeanwhile",
    "ImportKind",
    "ImportRejected",
    "ImportResult",
    "RowError",
    "TableError",
    "run_import",
]


class ImportKind(StrEnum):
    CONTACTS = "contacts"
    REPORTS = "reports"
    NEEDS = "needs"
    CAPACITIES = "capacities"
    ASSISTANCE = "assistance"


IMPORTERS: dict[ImportKind, Importer] = {
    ImportKind.CONTACTS: contacts.IMPORTER,
    ImportKind.REPORTS: reports.IMPORTER,
    ImportKind.NEEDS: entries.NEEDS,
    ImportKind.CAPACITIES: entries.CAPACITIES,
    ImportKind.ASSISTANCE: assistance.IMPORTER,
}


class ImportRejected(Exception):
    """The file has problems; nothing was written. ``errors`` lists each, by line."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors, key=lambda error: error.line)
        lines = len({error.line for error in self.errors})
        super().__init__(f"{len(self.errors)} problem(s) on {lines} line(s); nothing was imported")


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, on a dry run, would do), in rows of the file."""

    created: int
    updated: int
    rows: int
    unchanged: int = 0
    notes: tuple[str, ...] = ()


def columns_of(kind: ImportKind) -> tuple[str, ...]:
    """The columns of a kind, required first: the header an export writes."""
    return IMPORTERS[kind].columns


async def run_import(
    sessions: Sessions | AsyncSession,
    kind: ImportKind,
    path: Path,
    *,
    actor: Actor,
    now: datetime,
    resolve_state: Callable[[str], str | None],
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check every row of ``path``, then write them all, or raise and write nothing.

    Given ``Store.transaction``, the file is read and checked in short read transactions; new
    needs and capacities are then staged, hidden, in batches of short transactions; and one
    final transaction of a few statements publishes them and writes the rest. The running
    bot's writers wait for one batch or that publish, never for the whole file (on SQLite every
    transaction holds the database lock). Given a session, everything runs in the caller's
    transaction, the writes in a savepoint, so even a caller that catches an unexpected database
    error is left with none of them.

    Raises :class:`TableError` when the file cannot be read as a table, :class:`ImportRejected`
    when any row is wrong, and :class:`ChangedMeanwhile` when an entry the file updates changed
    while the file was checked. ``progress`` is called after each row is handled with the number
    of rows done so far.
    """
    if now.tzinfo is None:
        raise ValueError("run_import needs an aware time")
    importer = IMPORTERS[ImportKind(kind)]
    reads = _in(sessions) if isinstance(sessions, AsyncSession) else sessions

    def check_header(headers: tuple[str, ...], line: int) -> None:
        errors = _check_header(kind, importer, headers, line)
        if errors:
            raise ImportRejected(errors)

    table = read_table(path, check_header=check_header)
    context = Context(reads, actor, now, resolve_state, frozenset(), frozenset(table.headers))
    context.known_states = frozenset(await context.scalars(select(State.iso3)))
    plan = await importer.plan(context, table.rows)
    if context.errors:
        raise ImportRejected(context.errors)
    counts = {outcome: 0 for outcome in Outcome}
    for step in plan.steps:
        counts[step.outcome] += 1
    if not dry_run:
        await _write(sessions, plan, progress or (lambda done: None))
    return ImportResult(
        created=counts[Outcome.CREATED],
        updated=counts[Outcome.UPDATED],
        rows=len(table.rows),
        unchanged=counts[Outcome.UNCHANGED],
        notes=tuple(table.notes),
    )


def _in(session: AsyncSession) -> Sessions:
    """The caller's session, standing in for a transaction of its own."""

    @asynccontextmanager
    async def within() -> AsyncIterator[AsyncSession]:
        yield session

    return within


async def _write(
    sessions: Sessions | AsyncSession, plan: Plan, progress: Callable[[int], None]
) -> None:
    """Stage, then publish; an import stopped before it publishes (an error, Ctrl-C) deletes
    what it staged, and housekeeping deletes what a killed one left."""
    if isinstance(sessions, AsyncSession):
        async with sessions.begin_nested():
            await _stage_and_publish(_in(sessions), plan, progress)
        return
    try:
        await _stage_and_publish(sessions, plan, progress)
    except BaseException:
        if plan.staging is not None:
            await _discard(sessions, plan.staging)
        raise


async def _stage_and_publish(
    transactions: Sessions, plan: Plan, progress: Callable[[int], None]
) -> None:
    done = 0
    for batch in plan.staging.batches if plan.staging else ():
        async with transactions() as session:
            done += await batch(session)
        progress(done)
        await asyncio.sleep(STAGE_PAUSE)
    async with transactions() as session:
        # Only the rows written here report progress inside the transaction.
        for index, step in enumerate(plan.steps, start=1):
            if step.write is not None:
                await step.write(session)
                done = index
                progress(done)
        if plan.finish is not None:
            await plan.finish(session)
    if done < len(plan.steps):
        progress(len(plan.steps))


async def _discard(transactions: Sessions, staging: Staging) -> None:
    try:
        while True:
            async with transactions() as session:
                if not await staging.discard(session):
                    return
    except Exception:
        log.exception("could not delete the rows of a failed import; housekeeping will")


def _check_header(
    kind: ImportKind, importer: Importer, headers: tuple[str, ...], line: int
) -> list[RowError]:
    known = importer.columns
    errors = [
        RowError(line, column, f"the {kind.value} file needs a column {column!r}")
        for column in importer.required
        if column not in headers
    ]
    for column in headers:
        if column not in known:
            close = difflib.get_close_matches(column, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the columns are {', '.join(known)}"
            errors.append(RowError(line, column, f"unknown column {column!r}; {hint}"))
    for first, second in importer.pairs:
        if (first in headers) != (second in headers):
            missing = second if first in headers else first
            errors.append(
                RowError(line, missing, f"columns {first} and {second} go together; add {missing}")
            )
    return errors
