"""One State: its deadlines, its Article 7 reports, its open needs and offers, its contacts and,
for those who may see them, its reminders.

Who sees what: the records the asker may see (``storage.overview.state_overview``), and the
reminders only for the Coordinators, the ISU and the State's own delegates
(``storage.visibility.reminders_visible_to``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import Translator, _
from handlers.questions.ask import Answered, Asker
from handlers.questions.parsing import Question, Resolver, Topic
from handlers.questions.wording import describe_question, subject
from handlers.replies import Reply, Section
from storage.listings import Filters
from storage.models import ReportKind, Role
from storage.overview import StateOverview, state_overview
from storage.visibility import reminders_visible_to

OVERVIEW_LINES = 10

ROLE_LABELS: Mapping[Role, str] = {
    Role.DELEGATE: _("delegate"),
    Role.COORDINATOR: _("coordinator"),
    Role.ISU: _("ISU"),
    Role.PARTNER: _("partner"),
}


def usage(t: Translator, text: str) -> Answered:
    return Answered(Reply(t.language, subject(t), text))


def day_of(t: Translator, moment: datetime | None, zone: ZoneInfo) -> str:
    """The reader's day of a moment, "" for none."""
    return t.date(moment.astimezone(zone).date()) if moment is not None else ""


def deadline_lines(overview: StateOverview, t: Translator, today: date) -> tuple[str, ...]:
    """A State's Article 3 and 4 deadlines in force (or completed) and its dates still ahead."""
    lines = []
    for obligation in overview.obligations:
        if obligation.article not in (3, 4):
            continue  # Article 7 is the initial report, listed with the reports
        due = overview.deadline_in_force(obligation)
        if obligation.is_completed:
            lines.append(t.gettext("Article {article}: completed", article=obligation.article))
        elif due is not None:
            lines.append(
                t.gettext(
                    "Article {article}: deadline {date}",
                    article=obligation.article,
                    date=t.date(due),
                )
            )
    lines += [f"{c.title}: {t.date(c.due)}" for c in overview.custom_deadlines if c.due >= today]
    return tuple(lines)


def report_lines(overview: StateOverview, t: Translator) -> tuple[str, ...]:
    """The initial report and the last five annual reports received."""
    initial = [
        t.gettext("Initial report: received {date}", date=t.date(r.submitted_on))
        for r in overview.reports
        if r.kind is ReportKind.INITIAL and r.submitted_on is not None
    ]
    received = [
        t.gettext("{year}: received {date}", year=r.year, date=t.date(r.submitted_on))
        for r in overview.reports
        if r.kind is ReportKind.ANNUAL and r.submitted_on is not None
    ]
    return tuple(initial + received[-5:])


async def state_answer(
    session: AsyncSession,
    words: str,
    asker: Asker,
    name_of: Callable[[str], str],
    resolve_state: Resolver,
) -> Answered:
    """The overview of the State ``words`` name (an ISO3 code or a name), else the asker's."""
    t = asker.t
    if words:
        written = words.strip()
        iso3 = resolve_state(written) or (written.upper() if len(written) == 3 else None)
    else:
        iso3 = asker.viewer.state
    if iso3 is None and not words:
        return usage(
            t, t.gettext("Name a State, for example: {example}", example="/ccm state Lao PDR")
        )
    overview = await state_overview(session, iso3, asker.viewer) if iso3 else None
    if overview is None:
        return usage(t, t.gettext("I found no State called “{name}”.", name=words or iso3 or ""))
    question = Question(Topic.OVERVIEW, Filters(state=overview.state.iso3))
    sections: list[Section] = []
    duties = deadline_lines(overview, t, asker.today)
    if duties:
        sections.append(Section(t.gettext("Deadlines"), duties))
    reports = report_lines(overview, t)
    sections.append(
        Section(
            t.gettext("Article 7 reports"),
            tuple(reports) or (t.gettext("No report recorded yet."),),
        )
    )
    for title, listed, total in (
        (_("Open needs"), overview.needs, overview.needs_total),
        (_("Offers"), overview.offers, overview.offers_total),
    ):
        lines = [
            f"{entry.reference}: {' '.join(entry.description.split())[:120]}"
            for entry in listed[:OVERVIEW_LINES]
        ]
        if total > len(lines):
            lines.append(t.ngettext("…and {count} more", "…and {count} more", total - len(lines)))
        heading = f"{t.gettext(title)} ({t.number(total)})"
        sections.append(Section(heading, tuple(lines)))
    if overview.contacts:
        sections.append(
            Section(
                t.gettext("Contacts"),
                tuple(f"{c.name} ({t.gettext(ROLE_LABELS[c.role])})" for c in overview.contacts),
            )
        )
    if reminders_visible_to(asker.viewer, overview.state.iso3):
        never = t.gettext("never")
        reminded = day_of(t, overview.last_reminder_at, asker.zone)
        answered = day_of(t, overview.last_answer_at, asker.zone)
        sections.append(
            Section(
                t.gettext("Reminders"),
                (
                    t.gettext("Last reminder sent: {when}", when=reminded or never),
                    t.gettext("Last answer: {when}", when=answered or never),
                ),
            )
        )
    return Answered(
        Reply(
            t.language,
            name_of(overview.state.iso3),
            describe_question(question, t, today=asker.today, state_name=name_of),
            sections=tuple(sections),
        )
    )
