"""Planning: turn the treaty calendar and the policy into ledger rows, for whoever is due now.

The store is the schedule: every sweep asks, for each State and each of its contacts, which
stage of which item is due at this moment, and adds it to the ledger if it is not there yet.
A sweep can run at any time, any number of times, in any number of processes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from schedules.calendar import CustomDeadline as CalendarDeadline
from schedules.calendar import DueItem, ItemKind, StateCalendar
from schedules.locale import locale_of, zone_of_state
from schedules.policy import (
    ESCALATE,
    ReminderPolicy,
    Stage,
    current_stage,
    is_working_day,
    open_items,
    send_at,
    stages_on,
)
from storage.ledger import PlannedReminder, cancel_unsent, pending_items, plan
from storage.models import (
    Channel,
    Contact,
    CustomDeadline,
    Report,
    ReportKind,
    Role,
    State,
    StateStatus,
)
from storage.reminder_facts import load_reminder_facts
from storage.states import latest_deadline

# Reminders that would land after this local hour wait for the next working morning.
LATEST_LOCAL_HOUR = 18


@dataclass(frozen=True)
class Recipient:
    contact: Contact
    language: str
    zone: ZoneInfo
    weekend: frozenset[int]
    channels: tuple[Channel, ...]


@dataclass(frozen=True)
class Due:
    """One stage of one item for one recipient on one channel, with when to send it."""

    item: DueItem
    stage: Stage
    recipient: Recipient
    channel: Channel
    local_day: date
    send_at: datetime

    def planned(self, purpose: str = "reminder") -> PlannedReminder:
        return PlannedReminder(
            state=self.item.state,
            item=self.item.item,
            stage=self.stage.name,
            due=self.item.due,
            contact_id=self.recipient.contact.id,
            channel=self.channel,
            local_day=self.local_day,
            send_at=self.send_at,
            language=self.recipient.language,
            zone=self.recipient.zone.key,
            purpose=purpose,
        )


@dataclass
class Snapshot:
    """Everything a sweep reads, loaded in a few queries."""

    states: Sequence[State]
    contacts: dict[str, list[Contact]]
    coordinators: list[Contact]
    reports: dict[str, list[Report]]
    customs: dict[str, list[CustomDeadline]]
    snoozes: dict[tuple[int, str, str], date]
    opt_outs: set[tuple[int, str]]


async def load_snapshot(session: AsyncSession) -> Snapshot:
    facts = await load_reminder_facts(session)
    contacts: dict[str, list[Contact]] = defaultdict(list)
    coordinators: list[Contact] = []
    by_id = {contact.id: contact for contact in facts.contacts}
    for contact in facts.contacts:
        if contact.role is Role.COORDINATOR:
            coordinators.append(contact)
        elif contact.role is Role.DELEGATE and contact.state_iso3:
            contacts[contact.state_iso3].append(contact)
    for iso3, people in contacts.items():
        contacts[iso3] = with_stand_ins(people, by_id)
    reports: dict[str, list[Report]] = defaultdict(list)
    for report in facts.reports:
        reports[report.state_iso3].append(report)
    customs: dict[str, list[CustomDeadline]] = defaultdict(list)
    for custom in facts.customs:
        customs[custom.state_iso3].append(custom)
    return Snapshot(
        facts.states, contacts, coordinators, reports, customs, facts.snoozes, facts.opt_outs
    )


def with_stand_ins(people: list[Contact], by_id: dict[int, Contact]) -> list[Contact]:
    """Add the alternate of anyone whose email bounces, for as long as it bounces.

    The bouncing person keeps their Slack messages (``recipient`` drops only their email).
    """
    result = list(people)
    for person in people:
        alternate = by_id.get(person.alternate_id) if person.alternate_id else None
        if (
            person.email_bouncing
            and alternate is not None
            and not alternate.email_bouncing
            and alternate not in result
        ):
            result.append(alternate)
    return result


def calendar_of(
    state: State, reports: Iterable[Report], customs: Iterable[CustomDeadline]
) -> StateCalendar:
    assert state.entry_into_force is not None
    obligations = {o.article: o for o in state.obligations}
    art3, art4 = obligations.get(3), obligations.get(4)
    return StateCalendar(
        iso3=state.iso3,
        entry_into_force=state.entry_into_force,
        withdrawn_on=state.status_date if state.status is StateStatus.WITHDRAWN else None,
        initial_report_submitted=any(r.kind is ReportKind.INITIAL for r in reports),
        submitted_annual_years=frozenset(r.year for r in reports if r.kind is ReportKind.ANNUAL),
        art3_deadline=latest_deadline(art3) if art3 else None,
        art3_completed=bool(art3 and art3.is_completed),
        art4_deadline=latest_deadline(art4) if art4 else None,
        art4_completed=bool(art4 and art4.is_completed),
        custom_deadlines=tuple(CalendarDeadline(c.id, c.title, c.due) for c in customs),
    )


def recipient(
    contact: Contact, state: State | None, *, slack: bool, fallback_zone: str
) -> Recipient:
    local = locale_of(contact, state, fallback_zone)
    wanted = {
        Channel.SLACK: (Channel.SLACK,),
        Channel.EMAIL: (Channel.EMAIL,),
        Channel.BOTH: (Channel.SLACK, Channel.EMAIL),
    }[contact.channel]
    channels = tuple(
        c
        for c in wanted
        if (c is Channel.SLACK and slack and contact.slack_user_id)
        or (c is Channel.EMAIL and contact.email and not contact.email_bouncing)
    )
    if not channels and contact.email and not contact.email_bouncing:
        channels = (Channel.EMAIL,)  # Slack is off or unknown for them: email still reaches them
    return Recipient(contact, local.language, local.zone, local.weekend, channels)


def delivery_slot(
    stage_day: date, zone: ZoneInfo, weekend: frozenset[int], hour: int, now: datetime
) -> tuple[date, datetime]:
    """When a stage goes out: its morning, or (if that passed unsent) the next decent moment.

    A bot that was down sends a missed reminder at once during the recipient's working hours,
    else on their next working morning, never at 3 a.m.
    """
    planned = send_at(stage_day, zone, hour)
    if planned >= now:
        return stage_day, planned
    local = now.astimezone(zone)
    day = local.date()
    if is_working_day(day, weekend) and hour <= local.hour < LATEST_LOCAL_HOUR:
        return day, now
    if local.hour >= hour or not is_working_day(day, weekend):
        day += timedelta(days=1)
    while not is_working_day(day, weekend):
        day += timedelta(days=1)
    return day, send_at(day, zone, hour)


def _blocked(snapshot: Snapshot, contact: Contact, item: DueItem, today: date) -> bool:
    until = snapshot.snoozes.get((contact.id, item.state, item.item))
    if until is not None and today < until:
        return True
    return (contact.id, str(item.kind)) in snapshot.opt_outs or (
        contact.id,
        "all",
    ) in snapshot.opt_outs


def due_now(
    snapshot: Snapshot,
    policy: ReminderPolicy,
    now: datetime,
    *,
    slack: bool,
    secretariat_zone: str,
) -> tuple[list[Due], list[Due], set[tuple[str, str]]]:
    """What is due at ``now``: reminders, escalations, and every (State, item) still open."""
    reminders: list[Due] = []
    escalations: list[Due] = []
    still_open: set[tuple[str, str]] = set()
    for state in snapshot.states:
        cal = calendar_of(state, snapshot.reports[state.iso3], snapshot.customs[state.iso3])
        state_zone = zone_of_state(state, secretariat_zone)
        items = open_items(cal, now.astimezone(state_zone).date(), policy)
        for item in items:
            still_open.add((item.state, item.item))
            people = snapshot.contacts[state.iso3]
            for contact in people:
                person = recipient(contact, state, slack=slack, fallback_zone=secretariat_zone)
                stage = current_stage(item, policy, person.weekend, person.zone, now)
                if stage is None:
                    continue
                local_today = now.astimezone(person.zone).date()
                if stage.name == ESCALATE or _blocked(snapshot, contact, item, local_today):
                    continue
                for channel in person.channels:
                    day, when = delivery_slot(
                        stage.on, person.zone, person.weekend, policy.send_hour, now
                    )
                    reminders.append(Due(item, stage, person, channel, day, when))
            stage = current_stage(item, policy, frozenset(state.weekend), state_zone, now)
            if stage is not None and stage.name == ESCALATE and item.kind is ItemKind.ART7:
                for coordinator in snapshot.coordinators:
                    person = recipient(
                        coordinator, None, slack=slack, fallback_zone=secretariat_zone
                    )
                    for channel in person.channels:
                        day, when = delivery_slot(
                            stage.on, person.zone, person.weekend, policy.send_hour, now
                        )
                        escalations.append(Due(item, stage, person, channel, day, when))
    return reminders, escalations, still_open


@dataclass(frozen=True)
class SweepPlan:
    planned: int
    cancelled: int


async def plan_due_reminders(
    session: AsyncSession,
    policy: ReminderPolicy,
    now: datetime,
    *,
    slack: bool,
    secretariat_zone: str,
) -> SweepPlan:
    """Add every reminder due now to the ledger; withdraw unsent ones whose item was satisfied."""
    snapshot = await load_snapshot(session)
    reminders, escalations, still_open = due_now(
        snapshot, policy, now, slack=slack, secretariat_zone=secretariat_zone
    )
    planned = 0
    for due in reminders:
        planned += await plan(session, due.planned(), now)
    for due in escalations:
        planned += await plan(session, due.planned("escalation"), now)
    cancelled = 0
    for state, item in sorted(await pending_items(session) - still_open):
        cancelled += await cancel_unsent(session, state, item)
    return SweepPlan(planned, cancelled)


def preview_day(
    snapshot: Snapshot,
    policy: ReminderPolicy,
    day: date,
    *,
    slack: bool,
    secretariat_zone: str,
) -> list[Due]:
    """Exactly what would go out on ``day`` (each recipient's own local day), without sending."""
    result: list[Due] = []
    for state in snapshot.states:
        cal = calendar_of(state, snapshot.reports[state.iso3], snapshot.customs[state.iso3])
        for item in open_items(cal, day, policy):
            for contact in snapshot.contacts[state.iso3]:
                person = recipient(contact, state, slack=slack, fallback_zone=secretariat_zone)
                if _blocked(snapshot, contact, item, day):
                    continue
                for stage in stages_on(item, policy, person.weekend, day):
                    if stage.name == ESCALATE:
                        continue
                    when = send_at(day, person.zone, policy.send_hour)
                    result.extend(Due(item, stage, person, c, day, when) for c in person.channels)
    return result
