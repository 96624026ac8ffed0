"""Assistance a State reported providing or receiving (from its Article 7 reports).

Records have no reference, so a row the store already holds (same State, direction, provider,
recipient, year, article, amount and currency) is left alone: importing a file twice does not
double the totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.imports.common import Cells, Context, Importer, Outcome, Plan, Step, Write
from handlers.tables import Row
from storage.models import AssistanceRecord, Direction
from storage.records import add_assistance

REQUIRED = ("state", "direction", "provider", "recipient", "year")
OPTIONAL = ("article", "amount", "currency", "source")
PAIRS = (("amount", "currency"),)


@dataclass(frozen=True)
class _Record:
    state_iso3: str
    direction: Direction
    provider: str
    recipient: str
    year: int
    article: int | None
    amount: Decimal | None
    currency: str | None
    source: str

    @property
    def key(self) -> tuple[object, ...]:
        # Names compared without case: "Lao PDR" and "LAO PDR" are one recipient.
        return (
            self.state_iso3,
            self.direction,
            self.provider.casefold(),
            self.recipient.casefold(),
            self.year,
            self.article,
            self.amount,
            self.currency,
        )


def _stored(record: AssistanceRecord) -> _Record:
    return _Record(
        record.state_iso3,
        record.direction,
        record.provider,
        record.recipient,
        record.year,
        record.article,
        record.amount,
        record.currency,
        record.source,
    )


def _read(cells: Cells) -> _Record | None:
    state = cells.state("state", required=True)
    direction = cells.choice("direction", Direction, required=True)
    provider = cells.text("provider", required=True)
    recipient = cells.text("recipient", required=True)
    year = cells.year("year", required=True)
    article = cells.article()
    amount, currency = cells.money() if cells.has("amount") else (None, None)
    source = cells.text("source", max_length=2000) or ""
    if state is None or direction is None or provider is None or recipient is None:
        return None
    _check_direction(cells, state, direction, provider, recipient)
    if not cells.ok or year is None:
        return None
    return _Record(state, direction, provider, recipient, year, article, amount, currency, source)


def _check_direction(
    cells: Cells, state: str, direction: Direction, provider: str, recipient: str
) -> None:
    """Catch provider and recipient swapped: the reporting State on the wrong side.

    Both sides must name States for this to speak; names of organisations are not checked.
    """
    ours, theirs = (
        (provider, recipient) if direction is Direction.PROVIDED else (recipient, provider)
    )
    resolve = cells.context.resolve_state
    named_ours, named_theirs = resolve(ours), resolve(theirs)
    if named_theirs == state and named_ours is not None and named_ours != state:
        cells.error(
            "direction",
            f"{state} reports assistance {direction.value}, but {state} is named as the "
            f"{'recipient' if direction is Direction.PROVIDED else 'provider'}; swap provider "
            "and recipient, or change the direction",
        )


async def plan(context: Context, rows: Sequence[Row]) -> Plan:
    read = [(row.line, _read(context.cells(row))) for row in rows]
    years = sorted({record.year for _, record in read if record})
    stored = await context.scalars(select(AssistanceRecord).where(AssistanceRecord.year.in_(years)))
    known = {_stored(record).key for record in stored}
    lines: dict[tuple[object, ...], int] = {}
    steps = []
    for line, record in read:
        if record is None:
            continue
        if record.key in lines:
            context.error(
                line,
                "provider",
                f"the same assistance is on line {lines[record.key]}; keep one row, or add "
                "the amounts up",
            )
            continue
        lines[record.key] = line
        if record.key in known:
            steps.append(Step(line, Outcome.UNCHANGED))
        else:
            steps.append(Step(line, Outcome.CREATED, _writer(context, record)))
    return Plan(steps)


def _writer(context: Context, record: _Record) -> Write:
    async def write(session: AsyncSession) -> None:
        await add_assistance(
            session,
            context.actor,
            context.now,
            state_iso3=record.state_iso3,
            direction=record.direction,
            provider=record.provider,
            recipient=record.recipient,
            year=record.year,
            article=record.article,
            amount=record.amount,
            currency=record.currency,
            source=record.source,
        )

    return write


IMPORTER = Importer(required=REQUIRED, optional=OPTIONAL, plan=plan, pairs=PAIRS)
