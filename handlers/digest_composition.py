"""How the weekly digest reads: one reader's facts composed into titled sections, in their
language, ready for any channel (``Digest``), and the week's short summary for the digest channel.

Sections (each left out when empty): new and updated needs, new and updated offers, treaty
deadlines in the next 90 days, Article 7 reports received, reports still missing for the
current reporting year, the reporting rate against the same date a year earlier, reminders
without an answer, and States escalated to the Coordinators. Suggested matches between needs
and offers come with the matching feature; until then there is no such section at all.
A week with nothing new is said in two lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import dates as babel_dates

from handlers.digest import DigestFacts, ReportingRate
from handlers.entry_form import CATEGORY_LABELS, STATUS_LABELS, VISIBILITY_LABELS
from handlers.i18n import Translator, _, translator
from handlers.reminders import item_title
from handlers.replies import Reply, Section
from handlers.understanding._text import fold
from schedules.delivery import ReminderItem
from schedules.periods import Period
from storage.items import report_item_id
from storage.models import Entry, Report, State, Visibility

__all__ = ["Digest", "DigestSection", "RateBar", "compose_digest", "compose_summary"]

MAX_NAMES = 40
DESCRIPTION_CHARS = 160


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
    return report_item_id(report.kind, report.year)


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
