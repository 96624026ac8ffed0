"""States and their obligations in the store: loading the treaty data, reading, overriding.

Loading is an idempotent upsert: an ISU can load a corrected file at any time. Fields the ISU
has overridden by hand (``ccm-bot states set``) are left as the ISU set them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.audit import Actor, record_change, snapshot
from storage.models import Basis, CustomDeadline, Extension, Obligation, State, StateStatus
from storage.treaty_data import (
    INITIAL_REPORT_DAYS,
    ObligationHistory,
    StateFacts,
    TreatyData,
    obligation_history,
)

OVERRIDABLE = ("language", "timezone", "weekend", "region", "name_en", "name_fr", "name_es")


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def _state_fields(facts: StateFacts) -> dict[str, Any]:
    eif = facts.entry_into_force
    return {
        "iso2": facts.iso2,
        "name_en": facts.name_en.value,
        "name_fr": facts.name_fr.value,
        "name_es": facts.name_es.value,
        "region": facts.region.value if facts.region else "",
        "language": facts.language.value,
        "timezone": facts.timezone.value,
        "weekend": sorted(facts.weekend.value),
        "status": StateStatus(facts.status.value),
        "status_date": facts.status_date.value if facts.status_date else None,
        "instrument_deposited": (
            facts.instrument_deposited.value if facts.instrument_deposited else None
        ),
        "entry_into_force": eif.value if eif else None,
        "entry_into_force_basis": Basis(eif.basis) if eif else None,
        "source": facts.source,
    }


async def load_states(
    session: AsyncSession,
    data: TreatyData,
    actor: Actor,
    now: datetime,
    *,
    progress: Any = None,
) -> LoadResult:
    """Upsert every State and its Article 3, 4 and 7 obligations from the treaty data."""
    existing = {
        s.iso3: s
        for s in await session.scalars(
            select(State).options(
                selectinload(State.obligations).selectinload(Obligation.extensions)
            )
        )
    }
    created = updated = 0
    for facts in data.states:
        state = existing.get(facts.iso3)
        fields = _state_fields(facts)
        if state is None:
            state = State(iso3=facts.iso3, overridden=[], obligations=[], **fields)
            session.add(state)
            await session.flush()
            record_change(session, actor, now, state, "create", None)
            created += 1
        else:
            before = snapshot(state)
            for name, value in fields.items():
                if name not in state.overridden:
                    setattr(state, name, value)
            await session.flush()
            if snapshot(state) != before:
                record_change(session, actor, now, state, "update", before)
                updated += 1
        if facts.status.value != "signatory" and state.entry_into_force is not None:
            changed = _sync_obligations(state, facts, data)
            if changed:
                await session.flush()
                for obligation in changed:
                    record_change(session, actor, now, obligation, "update", None)
        if progress is not None:
            progress(1)
    return LoadResult(created, updated, len(data.states) - created - updated)


def _sync_obligations(state: State, facts: StateFacts, data: TreatyData) -> list[Obligation]:
    """Bring the State's obligations in line with the data; return the ones that changed."""
    assert state.entry_into_force is not None
    by_article = {o.article: o for o in state.obligations}
    changed: list[Obligation] = []

    initial = by_article.get(7) or _new_obligation(state, 7)
    initial_due = state.entry_into_force + timedelta(days=INITIAL_REPORT_DAYS)
    if initial.original_deadline != initial_due:
        initial.original_deadline = initial_due
        initial.original_basis = Basis.COMPUTED
        initial.original_source = "Art. 7(1): initial report within 180 days of entry into force"
        changed.append(initial)

    for article, csv_deadline, completed in (
        (3, facts.art3_deadline, facts.art3_completed),
        (4, facts.art4_deadline, facts.art4_completed),
    ):
        history = obligation_history(facts.iso3, article, data.history)  # type: ignore[arg-type]
        nothing_known = csv_deadline is None and completed is None
        if nothing_known and history.original is None and not history.extensions:
            continue
        obligation = by_article.get(article) or _new_obligation(state, article)
        if _apply_history(obligation, history, csv_deadline, completed):
            changed.append(obligation)
    return changed


def _new_obligation(state: State, article: int) -> Obligation:
    obligation = Obligation(article=article, extensions=[])
    state.obligations.append(obligation)
    return obligation


def _apply_history(
    obligation: Obligation,
    history: ObligationHistory,
    csv_deadline: Any,
    completed: Any,
) -> bool:
    before = (
        obligation.original_deadline,
        obligation.completed_on,
        obligation.completed_note,
        {(e.deadline, e.source) for e in obligation.extensions},
    )
    if history.original is not None:
        obligation.original_deadline = history.original.due
        obligation.original_basis = Basis.SOURCED
        obligation.original_source = history.original.source
    known = {e.deadline: e for e in obligation.extensions}
    wanted = [(d.due, d.source, d.label) for d in history.extensions]
    listed = {obligation.original_deadline, *(due for due, _, _ in wanted)}
    if csv_deadline is not None and csv_deadline.value not in listed:
        if obligation.original_deadline is None and not wanted:
            obligation.original_deadline = csv_deadline.value
            obligation.original_basis = Basis.SOURCED
            obligation.original_source = csv_deadline.source
        else:
            wanted.append((csv_deadline.value, csv_deadline.source, "latest deadline stated"))
    for due, source, label in wanted:
        extension = known.get(due)
        if extension is None:
            obligation.extensions.append(
                Extension(deadline=due, basis=Basis.SOURCED, source=source, note=label)
            )
        elif extension.basis != Basis.ISU:
            extension.source = source
            extension.note = label
    if completed is not None:
        obligation.completed_on = completed.value.on
        obligation.completed_note = completed.value.as_stated
        obligation.completed_source = completed.source
    obligation.notes = "\n".join(f"{n.event}: {n.as_stated}".strip(": ") for n in history.notes)
    after = (
        obligation.original_deadline,
        obligation.completed_on,
        obligation.completed_note,
        {(e.deadline, e.source) for e in obligation.extensions},
    )
    return before != after


def latest_deadline(obligation: Obligation) -> date | None:
    """The deadline in force: the latest extension, else the original."""
    dates = [e.deadline for e in obligation.extensions]
    if obligation.original_deadline is not None:
        dates.append(obligation.original_deadline)
    return max(dates, default=None)


async def all_states(session: AsyncSession, *, with_obligations: bool = False) -> Sequence[State]:
    query = select(State).order_by(State.name_en)
    if with_obligations:
        query = query.options(selectinload(State.obligations).selectinload(Obligation.extensions))
    return (await session.scalars(query)).all()


async def state_by_code(session: AsyncSession, iso3: str) -> State | None:
    return await session.scalar(
        select(State)
        .where(State.iso3 == iso3.upper())
        .options(selectinload(State.obligations).selectinload(Obligation.extensions))
    )


async def add_custom_deadline(
    session: AsyncSession, actor: Actor, now: datetime, state: str, title: str, due: date
) -> CustomDeadline:
    """A date the ISU adds by hand for one State; reminded of like a treaty deadline."""
    custom = CustomDeadline(state_iso3=state, title=title, due=due, created_at=now)
    session.add(custom)
    await session.flush()
    record_change(session, actor, now, custom, "create", None)
    return custom


async def override_state(
    session: AsyncSession, actor: Actor, now: datetime, state: State, **changes: Any
) -> State:
    """Set fields by hand; later loads of the treaty data leave them as set here."""
    unknown = set(changes) - set(OVERRIDABLE)
    if unknown:
        raise ValueError(f"cannot override {', '.join(sorted(unknown))}")
    before = snapshot(state)
    for name, value in changes.items():
        setattr(state, name, value)
    state.overridden = sorted(set(state.overridden) | set(changes))
    await session.flush()
    record_change(session, actor, now, state, "override", before)
    return state
