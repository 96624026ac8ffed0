"""Who is late with an Article 7 report, and which deadlines fall due.

Who is late is a public treaty fact; how often a State was reminded (and when, and whether it
was escalated) is for the Coordinators, the ISU and that State's own delegates
(``storage.visibility.reminders_visible_to``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.questions.ask import Answered, Ask, Asker
from handlers.questions.parsing import Question, Topic
from handlers.questions.state import day_of, usage
from handlers.questions.wording import (
    DEFAULT_MONTHS,
    describe_question,
    last_due_year,
    showing,
    subject,
)
from handlers.replies import Reply, Section
from schedules.calendar import add_months, annual_report_due
from storage.deadlines import Deadline, Overdue, deadlines, overdue
from storage.listings import Filters
from storage.visibility import reminders_visible_to

LINES_PER_ANSWER = 25  # States or deadlines, one line each, in one section (3000 characters)
MAX_MONTHS = 240


async def overdue_reports(session: AsyncSession, year: int, today: date) -> list[Overdue]:
    """States without their annual report covering ``year`` after its due date (30 April)."""
    return await overdue(session, year, due=annual_report_due(year), today=today)


async def upcoming_deadlines(session: AsyncSession, today: date, months: int) -> list[Deadline]:
    """Article 3 and 4 deadlines in force, and dates the ISU added, in the next ``months``."""
    if months < 0:
        raise ValueError("months must not be negative")
    return await deadlines(session, start=today, end=add_months(today, months))


def folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def reporting_year(ask: Ask, asker: Asker, example: str) -> int | Answered:
    """The reporting year a command names (the last one due when it names none), or the
    answer that says how to write one."""
    words = ask.words.strip()
    if not words:
        return last_due_year(asker.today)
    if re.fullmatch(r"20\d\d", words):
        return int(words)
    t = asker.t
    return usage(
        t, t.gettext("Write the year with four digits, for example: {example}", example=example)
    )


async def overdue_answer(
    session: AsyncSession, ask: Ask, asker: Asker, name_of: Callable[[str], str]
) -> Answered:
    t = asker.t
    year = reporting_year(ask, asker, "/ccm overdue 2025")
    if not isinstance(year, int):
        return year
    question = Question(Topic.OVERDUE, Filters(), year=year)
    understood = describe_question(question, t, today=asker.today, state_name=name_of)
    due = annual_report_due(year)
    if asker.today <= due:
        text = t.gettext(
            "Reports covering {year} are due on {date}; none is late yet.",
            year=year,
            date=t.date(due),
        )
        return usage(t, f"{understood} {text}")
    late = sorted(
        await overdue_reports(session, year, asker.today),
        key=lambda row: folded(name_of(row.iso3)),
    )
    lines = []
    for row in late:
        name = name_of(row.iso3)
        if not reminders_visible_to(asker.viewer, row.iso3):
            lines.append(name)
            continue
        line = t.ngettext(
            "{state}: {count} reminder sent",
            "{state}: {count} reminders sent",
            row.reminders,
            state=name,
        )
        if row.last_reminder_at is not None:
            last = day_of(t, row.last_reminder_at, asker.zone)
            line += ", " + t.gettext("the last on {date}", date=last)
        if row.escalated:
            line += " · " + t.gettext("escalated to the Coordinators")
        lines.append(line)
    return _paged_lines(ask, asker, understood, t.gettext("Late"), lines)


async def deadlines_answer(
    session: AsyncSession, ask: Ask, asker: Asker, name_of: Callable[[str], str]
) -> Answered:
    t = asker.t
    words = ask.words.strip()
    if words and not (words.isdigit() and int(words) <= MAX_MONTHS):
        text = t.gettext(
            "Write how many months ahead, for example: {example}", example="/ccm deadlines 6"
        )
        return usage(t, text)
    months = int(words) if words else DEFAULT_MONTHS
    question = Question(Topic.DEADLINES, Filters(), months=months)
    found = await upcoming_deadlines(session, asker.today, months)
    lines = []
    for deadline in found:
        what = (
            t.gettext("Article {article}", article=deadline.article)
            if deadline.article is not None
            else deadline.title
        )
        line = f"{t.date(deadline.due)}: {name_of(deadline.iso3)} — {what}"
        if deadline.extended:
            line += " (" + t.gettext("extended") + ")"
        lines.append(line)
    understood = describe_question(question, t, today=asker.today, state_name=name_of)
    return _paged_lines(ask, asker, understood, t.gettext("Deadlines"), lines)


def _page(ask: Ask, lines: Sequence[str], per_page: int) -> tuple[tuple[str, ...], Ask | None]:
    """The lines of the asked page, and the question for the next page (None: the last)."""
    shown = tuple(lines[ask.offset : ask.offset + per_page])
    end = ask.offset + len(shown)
    return shown, replace(ask, offset=end) if end < len(lines) else None


def _paged_lines(ask: Ask, asker: Asker, understood: str, title: str, lines: list[str]) -> Answered:
    """One page of a list answer, saying how the question was understood and how many."""
    t = asker.t
    # A Slack section holds 3000 characters, so it pages; an email or the terminal has no such
    # limit, and no More button: there the whole list is shown at once.
    per_page = LINES_PER_ANSWER if asker.pages else max(len(lines), 1)
    shown, more = _page(ask, lines, per_page)
    count = t.ngettext("{count} found.", "{count} found.", len(lines))
    return Answered(
        Reply(
            t.language,
            subject(t),
            f"{understood} {count}",
            sections=(Section(title, shown),) if shown else (),
            footer=showing(t, ask.offset, len(shown), len(lines), pages=asker.pages),
        ),
        more=more,
    )
