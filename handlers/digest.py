"""The weekly digest: what changed in the CCM community, for one reader, channel-neutral.

A digest covers one ISO week in the secretariat's zone (``schedules.periods``) and is composed
per reader, in their language and with what they may see: coordinators-only needs reach only
the Coordinators and the ISU, because the entries are read through ``visible_to`` in SQL.
The window of "new and changed" starts where the reader's previous digest ended, so a week
the bot was down is folded into the next digest rather than lost.

Sections (each left out when empty): new and updated needs, new and updated offers, treaty
deadlines in the next 90 days, Article 7 reports received, reports still missing for the
current reporting year, the reporting rate against the same date a year earlier, reminders
without an answer, and States escalated to the Coordinators. Suggested matches between needs
and offers come with the matching feature; until then there is no such section at all.
A week with nothing new is said in two lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.entry_form import CATEGORY_LABELS, STATUS_LABELS, VISIBILITY_LABELS
from handlers.i18n import Translator, _, translator
from handlers.reminders import item_title
from handlers.replies import Reply, Section
from handlers.turns import Speaker
from handlers.understanding._text import fold
from schedules.calendar import annual_report_due
from schedules.delivery import ReminderItem
from schedules.periods import Period, local_instant, previous_week, week_containing
from storage.audit import Actor
from storage.digest import (
    ChangedEntries,
    Escalated,
    Unanswered,
    annual_reports_received,
    changed_entries,
    escalations,
    last_sent_end,
    reports_received,
    set_digest,
    unanswered_reminders,
)
from storage.models import Contact, Entry, EntryKind, Report, ReportKind, State, Via, Visibility
from storage.queries import Deadline, deadlines, owes_annual_report, party_on, state_names
from storage.visibility import Viewer

__all__ = [
    "WEEKDAYS",
    "Digest",
    "DigestFacts",
    "DigestSchedule",
    "DigestSection",
    "RateBar",
    "ReportingRate",
    "SharedFacts",
    "compose_digest",
    "compose_summary",
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
MAX_NAMES = 40
DESCRIPTION_CHARS = 160


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


# --- how it reads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestSection:
    """A titled block; ``key`` names it for renderers and tests (``reporting_rate``…)."""

    key: str
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class RateBar:
    """One bar of the reporting-rate chart: this year, or the same date a year earlier."""

    label: str
    caption: str
    rate: float  # 0 to 1
    current: bool


@dataclass(frozen=True)
class Digest:
    """One reader's digest, ready for any channel."""

    language: str
    subject: str
    intro: str
    period: Period
    quiet: bool
    sections: tuple[DigestSection, ...] = ()
    chart: tuple[RateBar, ...] = ()
    footer: str = ""

    def section(self, key: str) -> DigestSection | None:
        return next((s for s in self.sections if s.key == key), None)

    def reply(self) -> Reply:
        """As a plain channel-neutral reply (Slack, the terminal)."""
        return Reply(
            language=self.language,
            subject=self.subject,
            intro=self.intro,
            sections=tuple(Section(s.title, s.lines) for s in self.sections),
            footer=self.footer,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "subject": self.subject,
            "period": {"start": self.period.start, "end": self.period.end},
            "quiet": self.quiet,
            "intro": self.intro,
            "sections": [
                {"key": s.key, "title": s.title, "lines": list(s.lines)} for s in self.sections
            ],
            "chart": [
                {"label": b.label, "caption": b.caption, "rate": b.rate, "current": b.current}
                for b in self.chart
            ],
            "footer": self.footer,
        }


def interval(t: Translator, first: date, last: date) -> str:
    """A week as the reader writes it, e.g. 15-21 March 2027."""
    return babel_dates.format_interval(first, last, "yMMMMd", locale=t.locale)


def _state_name(t: Translator, states: dict[str, State], iso3: str | None) -> str | None:
    if iso3 is None:
        return None
    state = states.get(iso3)
    return state.name(t.language) if state else iso3


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _entry_line(t: Translator, entry: Entry, states: dict[str, State], *, updated: bool) -> str:
    who = " · ".join(
        part for part in (_state_name(t, states, entry.state_iso3), entry.organisation) if part
    )
    parts = [entry.reference, who, t.gettext(CATEGORY_LABELS[entry.category])]
    if entry.amount is not None and entry.currency:
        parts.append(t.money(entry.amount, entry.currency))
    if updated:
        parts.append(t.gettext(STATUS_LABELS[entry.status]))
    if entry.visibility is Visibility.COORDINATORS:
        parts.append(t.gettext(VISIBILITY_LABELS[Visibility.COORDINATORS]))
    head = " · ".join(part for part in parts if part)
    return f"{head} — {_one_line(entry.description, DESCRIPTION_CHARS)}"


def _item_title(t: Translator, state: str, item: str, due: date, title: str | None = None) -> str:
    return item_title(t, ReminderItem(state, state, item, "", due, title))


def _report_item(report: Report) -> str:
    return "art7-initial" if report.kind is ReportKind.INITIAL else f"art7-annual-{report.year}"


def _names(t: Translator, states: dict[str, State], codes: list[str]) -> str:
    names = sorted((_state_name(t, states, code) or code for code in codes), key=fold)
    shown = ", ".join(names[:MAX_NAMES])
    if len(names) > MAX_NAMES:
        more = len(names) - MAX_NAMES
        shown += " " + t.ngettext("…and {count} more", "…and {count} more", more)
    return shown


def _rate_bar(t: Translator, rate: ReportingRate, *, current: bool) -> RateBar:
    return RateBar(
        label=t.gettext(
            "Reports covering {year}, as of {date}", year=rate.year, date=t.date(rate.as_of)
        ),
        caption=t.gettext(
            "{reported} of {total} ({rate})",
            reported=t.number(rate.reported),
            total=t.number(rate.owing),
            rate=t.percent(rate.rate),
        ),
        rate=rate.rate,
        current=current,
    )


def compose_digest(facts: DigestFacts, *, name: str, language: str) -> Digest:
    """The digest one reader gets for one week, in their language."""
    t = translator(language)
    shared = facts.shared
    states = shared.states
    week = interval(t, shared.period.start.astimezone(shared.zone).date(), shared.as_of)
    subject = t.gettext("CCM weekly digest: {period}", period=week)
    if facts.quiet:
        return Digest(
            language=t.language,
            subject=subject,
            intro="\n".join(
                (
                    t.gettext("CCM weekly digest, {period}: nothing new this week.", period=week),
                    t.gettext(
                        "No new or updated needs or offers, no reports received, no unanswered "
                        "reminders or escalations, and no treaty deadline in the next 90 days."
                    ),
                )
            ),
            period=shared.period,
            quiet=True,
        )

    sections: list[DigestSection] = []

    def add(key: str, title: str, lines: list[str]) -> None:
        if lines:
            sections.append(DigestSection(key, title, tuple(lines)))

    for kind, changed, new_title, updated_title in (
        ("needs", facts.needs, _("New needs"), _("Updated needs")),
        ("offers", facts.offers, _("New offers"), _("Updated offers")),
    ):
        add(
            f"{kind}_new",
            t.gettext(new_title),
            [_entry_line(t, e, states, updated=False) for e in changed.new],
        )
        add(
            f"{kind}_updated",
            t.gettext(updated_title),
            [_entry_line(t, e, states, updated=True) for e in changed.updated],
        )
    # Suggested matches between needs and offers belong here once matching exists; a section
    # that is always empty would only teach readers to skip the digest.
    add(
        "deadlines",
        t.gettext("Treaty deadlines in the next 90 days"),
        [
            t.gettext(
                "{date}: {state} — {title}",
                date=t.date(d.due),
                state=_state_name(t, states, d.iso3),
                title=_item_title(t, d.iso3, f"art{d.article}", d.due)
                if d.article is not None
                else d.title,
            )
            for d in shared.deadlines
        ],
    )
    add(
        "reports_received",
        t.gettext("Article 7 reports received"),
        [
            t.gettext(
                "{state}: {title} ({date})",
                state=_state_name(t, states, r.state_iso3),
                title=_item_title(t, r.state_iso3, _report_item(r), r.due),
                date=t.date(r.submitted_on) if r.submitted_on else "",
            )
            for r in facts.received
        ],
    )
    if shared.missing:
        add(
            "reports_missing",
            t.gettext(
                "Article 7 reports still missing for {year} (due {date})",
                year=shared.year,
                date=t.date(shared.due),
            ),
            [_names(t, states, shared.missing)],
        )
    chart: tuple[RateBar, ...] = ()
    if shared.rate.owing:
        chart = (
            _rate_bar(t, shared.rate, current=True),
            _rate_bar(t, shared.rate_last_year, current=False),
        )
        add(
            "reporting_rate",
            t.gettext("Reporting rate"),
            [t.gettext("{label}: {value}", label=bar.label, value=bar.caption) for bar in chart],
        )
    add(
        "unanswered",
        t.gettext("Reminders without an answer"),
        [
            t.ngettext(
                "{state}: {title} (due {date}): {count} reminder, no answer",
                "{state}: {title} (due {date}): {count} reminders, no answer",
                u.reminders,
                state=_state_name(t, states, u.state),
                title=_item_title(t, u.state, u.item, u.due),
                date=t.date(u.due),
            )
            for u in facts.unanswered
        ],
    )
    add(
        "escalations",
        t.gettext("States escalated to the Coordinators"),
        [
            t.gettext(
                "{state}: {title}, escalated on {date}",
                state=_state_name(t, states, e.state),
                title=_item_title(t, e.state, e.item, e.due),
                date=t.date(e.escalated_at.astimezone(shared.zone).date()),
            )
            for e in facts.escalated
        ],
    )
    since = facts.since.astimezone(shared.zone).date()
    return Digest(
        language=t.language,
        subject=subject,
        intro=t.gettext("Dear {name},", name=name)
        + "\n\n"
        + t.gettext(
            "Here is what happened in the CCM community ({period}).",
            period=interval(t, since, shared.as_of),
        ),
        period=shared.period,
        quiet=False,
        sections=tuple(sections),
        chart=chart,
        footer=t.gettext(
            "You receive this digest because you are subscribed to it. Reply STOP to "
            "unsubscribe, or type /ccm digest off in Slack."
        ),
    )


def compose_summary(facts: DigestFacts, language: str = "en") -> str:
    """A few lines for a shared Slack channel: counts only, never a coordinators-only item.

    ``facts`` must be read for a delegate's view (``Viewer(Role.DELEGATE)``).
    """
    t = translator(language)
    shared = facts.shared
    week = interval(t, shared.period.start.astimezone(shared.zone).date(), shared.as_of)
    counts = [
        (_("New needs"), len(facts.needs.new)),
        (_("New offers"), len(facts.offers.new)),
        (_("Article 7 reports received"), len(facts.received)),
        (_("Treaty deadlines in the next 90 days"), len(shared.deadlines)),
    ]
    lines = [t.gettext("CCM weekly digest: {period}", period=week)]
    lines += [
        t.gettext("{label}: {value}", label=t.gettext(label), value=t.number(count))
        for label, count in counts
    ]
    if shared.rate.owing:
        this_year = _rate_bar(t, shared.rate, current=True)
        last_year = _rate_bar(t, shared.rate_last_year, current=False)
        lines += [
            t.gettext("Reporting rate"),
            "  " + t.gettext("{label}: {value}", label=this_year.label, value=this_year.caption),
            "  " + t.gettext("{label}: {value}", label=last_year.label, value=last_year.caption),
        ]
    return "\n".join(lines)


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
