"""The weekly digest's calendar and facts: when a digest is due, which window it covers, what
happened in it for one reader, and switching the digest on or off. How it reads is in
``handlers.digest_composition``.

A digest covers one ISO week in the secretariat's zone (``schedules.periods``) and is composed
per reader, in their language and with what they may see: coordinators-only needs reach only
the Coordinators and the ISU, because the entries are read through ``visible_to`` in SQL.
The window of "new and changed" starts where the reader's previous digest ended, so a week
the bot was down is folded into the next digest rather than lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.replies import Reply
from handlers.turns import Speaker
from schedules.calendar import annual_report_due
from schedules.periods import Period, local_instant, previous_week, week_containing
from storage.audit import Actor
from storage.deadlines import Deadline, deadlines
from storage.digest import last_sent_end, set_digest
from storage.digest_activity import (
    ChangedEntries,
    Escalated,
    Unanswered,
    annual_reports_received,
    changed_entries,
    escalations,
    reports_received,
    unanswered_reminders,
)
from storage.listings import state_names
from storage.models import Contact, EntryKind, Report, State, Via
from storage.visibility import Viewer
from storage.yearly_figures import owes_annual_report, party_on

__all__ = [
    "WEEKDAYS",
    "DigestFacts",
    "DigestSchedule",
    "ReportingRate",
    "SharedFacts",
    "digest_switch",
    "due_period",
    "latest_completed_week",
    "load_digest_facts",
    "load_shared_facts",
    "window_start",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEADLINE_HORIZON_DAYS = 90
# A reader whose last digest ended longer ago than this gets this week only: no ancient news.
CATCH_UP = timedelta(weeks=4)


# --- when -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestSchedule:
    """When the digest goes out, in the secretariat's zone (TOML ``[digest]``: weekday, hour).

    Whatever the day, a digest covers the last complete ISO week, Monday to Sunday.
    """

    weekday: str = "mon"
    hour: int = 8

    def __post_init__(self) -> None:
        if self.weekday not in WEEKDAYS:
            raise ValueError(f"digest weekday must be one of {', '.join(WEEKDAYS)}")
        if not 0 <= self.hour <= 23:
            raise ValueError("digest hour must be 0 to 23")

    def send_time(self, week: Period, zone: ZoneInfo) -> datetime:
        """When the digest goes out in ``week`` (for the week before it)."""
        monday = week.start.astimezone(zone).date()
        day = monday + timedelta(days=WEEKDAYS.index(self.weekday))
        return local_instant(day, time(self.hour), zone)


def latest_completed_week(now: datetime, zone: ZoneInfo) -> Period:
    """The last ISO week that has ended at ``now``, in ``zone``."""
    return previous_week(week_containing(now, zone), zone)


def due_period(now: datetime, zone: ZoneInfo, schedule: DigestSchedule) -> Period:
    """The week whose digest is due at ``now``: only the latest, never an older missed one."""
    this_week = week_containing(now, zone)
    last_week = previous_week(this_week, zone)
    if now >= schedule.send_time(this_week, zone):
        return last_week
    return previous_week(last_week, zone)


async def window_start(session: AsyncSession, contact_id: int | None, period: Period) -> datetime:
    """Where "new and changed" begins: the end of the reader's last digest, if recent."""
    if contact_id is None:
        return period.start
    last = await last_sent_end(session, contact_id, period.start)
    if last is not None and period.start - CATCH_UP <= last < period.start:
        return last
    return period.start


# --- what -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportingRate:
    """Annual reports covering ``year`` received by ``as_of``, of the parties that owe one."""

    year: int
    as_of: date
    reported: int
    owing: int

    @property
    def rate(self) -> float:
        return self.reported / self.owing if self.owing else 0.0


@dataclass(frozen=True)
class SharedFacts:
    """What every reader's digest of one week shares (read once per run)."""

    period: Period
    zone: ZoneInfo
    today: date  # the digest's day: the first day after the week
    as_of: date  # the week's last day
    states: dict[str, State]
    deadlines: list[Deadline]
    year: int  # the current reporting year: annual reports covering it are due this 30 April
    due: date
    missing: list[str]  # ISO3
    rate: ReportingRate
    rate_last_year: ReportingRate


@dataclass(frozen=True)
class DigestFacts:
    """One reader's view of one week."""

    shared: SharedFacts
    since: datetime
    needs: ChangedEntries
    offers: ChangedEntries
    received: list[Report]
    unanswered: list[Unanswered]
    escalated: list[Escalated]

    @property
    def quiet(self) -> bool:
        return not (
            self.needs.new
            or self.needs.updated
            or self.offers.new
            or self.offers.updated
            or self.received
            or self.unanswered
            or self.escalated
            or self.shared.deadlines
        )


def _reporting(
    states: dict[str, State], received: set[str], year: int, as_of: date
) -> tuple[list[str], ReportingRate]:
    """Parties owing the report covering ``year`` that lacked it on ``as_of``, and the rate."""
    due = annual_report_due(year)
    owing = [s for s in states.values() if party_on(s, as_of) and owes_annual_report(s, year, due)]
    missing = sorted((s for s in owing if s.iso3 not in received), key=lambda s: s.name_en)
    rate = ReportingRate(year, as_of, len(owing) - len(missing), len(owing))
    return [s.iso3 for s in missing], rate


async def load_shared_facts(session: AsyncSession, period: Period, zone: ZoneInfo) -> SharedFacts:
    today = period.end.astimezone(zone).date()
    as_of = today - timedelta(days=1)
    states = await state_names(session)
    year = as_of.year - 1
    missing, rate = _reporting(
        states, await annual_reports_received(session, year, as_of), year, as_of
    )
    a_year_before = _same_day_a_year_before(as_of)
    _, rate_last_year = _reporting(
        states,
        await annual_reports_received(session, year - 1, a_year_before),
        year - 1,
        a_year_before,
    )
    ahead = await deadlines(session, start=today, end=today + timedelta(days=DEADLINE_HORIZON_DAYS))
    return SharedFacts(
        period=period,
        zone=zone,
        today=today,
        as_of=as_of,
        states=states,
        deadlines=ahead,
        year=year,
        due=annual_report_due(year),
        missing=missing,
        rate=rate,
        rate_last_year=rate_last_year,
    )


def _same_day_a_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


async def load_digest_facts(
    session: AsyncSession, viewer: Viewer, shared: SharedFacts, since: datetime
) -> DigestFacts:
    """The reader's view of the week, filtered in SQL by what ``viewer`` may see."""
    period = shared.period
    return DigestFacts(
        shared=shared,
        since=since,
        needs=await changed_entries(session, EntryKind.NEED, viewer, since, period.end),
        offers=await changed_entries(session, EntryKind.OFFER, viewer, since, period.end),
        received=await reports_received(
            session,
            since,
            period.end,
            since.astimezone(shared.zone).date(),
            shared.as_of,
        ),
        unanswered=await unanswered_reminders(session, viewer, period.end, shared.today),
        escalated=await escalations(session, viewer, since, period.end),
    )


# --- subscribing ----------------------------------------------------------------------------


async def digest_switch(
    session: AsyncSession, speaker: Speaker, on: bool, *, now: datetime, via: Via
) -> Reply:
    """``/ccm digest on|off`` and a STOP reply to a digest: switch it, and say so."""
    t = speaker.t
    await set_digest(
        session,
        speaker.contact_id,
        on,
        actor=Actor(speaker.name, via, speaker.contact_id),
        now=now,
    )
    if on:
        contact = await session.get(Contact, speaker.contact_id)
        text = t.gettext("You will receive the weekly digest by email.")
        if contact is None or not contact.email:
            text += " " + t.gettext("We have no email address for you yet; ask the ISU to add it.")
    else:
        text = t.gettext(
            "You will no longer receive the weekly digest. To receive it again, type "
            "/ccm digest on in Slack or write to the ISU."
        )
    return Reply(t.language, t.gettext("Weekly digest"), text, stored=True)
