"""Saying how a question was understood, and how much of the answer is shown.

Every answer opens with the question as the bot read it ("I understood your question as: needs
for Article 4 in Africa, open."), so a person can check it and rephrase.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from handlers.entry_form import CATEGORY_LABELS, STATUS_LABELS
from handlers.i18n import Translator, _
from handlers.questions.parsing import Question, Topic
from schedules.calendar import annual_report_due
from storage.listings import Filters, Page
from storage.models import Entry, EntryKind

DEFAULT_MONTHS = 12

REGION_PHRASES: Mapping[str, str] = {
    "Africa": _("in Africa"),
    "Americas": _("in the Americas"),
    "Asia": _("in Asia"),
    "Europe": _("in Europe"),
    "Middle East": _("in the Middle East"),
    "Pacific": _("in the Pacific"),
}


def describe(
    filters: Filters,
    t: Translator,
    kind: EntryKind = EntryKind.NEED,
    *,
    state_name: Callable[[str], str] | None = None,
) -> str:
    """A listing in words: "needs for Article 4 in Africa, open"."""
    noun = t.gettext("needs") if kind is EntryKind.NEED else t.gettext("offers")
    where: list[str] = []
    if filters.article is not None:
        where.append(t.gettext("for Article {article}", article=filters.article))
    if filters.state is not None:
        name = state_name(filters.state) if state_name else filters.state
        where.append(t.gettext("of {state}", state=name))
    if filters.region is not None:
        where.append(t.gettext(REGION_PHRASES[filters.region]))
    which: list[str] = []
    if filters.category is not None:
        which.append(t.gettext(CATEGORY_LABELS[filters.category]).lower())
    if filters.status is not None:
        which.append(t.gettext(STATUS_LABELS[filters.status]).lower())
    if filters.since is not None:
        which.append(t.gettext("since {date}", date=t.date(filters.since)))
    if filters.year is not None:
        which.append(t.gettext("recorded in {year}", year=filters.year))
    if filters.text:
        terms = " + ".join(f"“{term}”" for term in filters.text)
        which.append(t.gettext("mentioning {terms}", terms=terms))
    head = " ".join([noun, *where])
    return ", ".join([head, *which])


def describe_question(
    question: Question,
    t: Translator,
    *,
    today: date,
    state_name: Callable[[str], str] | None = None,
) -> str:
    """How the bot understood a question, in one sentence the person can check."""
    if question.topic in (Topic.NEEDS, Topic.OFFERS):
        kind = EntryKind.NEED if question.topic is Topic.NEEDS else EntryKind.OFFER
        what = describe(question.filters, t, kind, state_name=state_name)
    elif question.topic is Topic.OVERVIEW and question.filters.state:
        name = state_name(question.filters.state) if state_name else question.filters.state
        what = t.gettext("the overview of {state}", state=name)
    elif question.topic is Topic.OVERDUE:
        year = question.year or last_due_year(today)
        what = t.gettext("Article 7 reports covering {year} not received on time", year=year)
    elif question.topic is Topic.DEADLINES:
        months = question.months or DEFAULT_MONTHS
        what = t.ngettext(
            "deadlines in the next {count} month", "deadlines in the next {count} months", months
        )
    elif question.topic is Topic.STATS:
        year = question.year or last_due_year(today)
        what = t.gettext("the yearly figures for {year}", year=year)
    else:
        what = t.gettext("a request for help")
    sentence = t.gettext("I understood your question as: {what}.", what=what)
    if question.ignored:
        left = ", ".join(f"“{word}”" for word in question.ignored)
        sentence += " " + t.gettext("I left out {words}.", words=left)
    return sentence


def last_due_year(today: date) -> int:
    """The latest reporting year whose annual report was due before today."""
    year = today.year - 1
    while annual_report_due(year) >= today:
        year -= 1
    return year


def found_text(t: Translator, page: Page[Entry]) -> str:
    """How many a listing found; "more than 1,000" once counting stopped at its cap."""
    if not page.exact:
        return t.gettext("More than {count} found.", count=t.number(page.total))
    return t.ngettext("{count} found.", "{count} found.", page.total)


def showing(
    t: Translator, offset: int, shown: int, total: int, *, exact: bool = True, pages: bool = True
) -> str:
    """Which part of a long answer this is ("" when it is all of it).

    ``pages`` is False where the reader has no *More* button (email, the terminal): the answer
    then says how to narrow the question instead.
    """
    if total <= shown and offset == 0:
        return ""
    if not exact:
        text = t.gettext(
            "Showing {first} to {last} of more than {total}.",
            first=offset + 1,
            last=offset + shown,
            total=t.number(total),
        )
    else:
        text = t.gettext(
            "Showing {first} to {last} of {total}.",
            first=offset + 1,
            last=offset + shown,
            total=total,
        )
    if pages or offset + shown >= total:
        return text
    return (
        text
        + " "
        + t.gettext(
            "To see others, ask again with more words: a region, a category, a State, a status or "
            "a year (“needs article 4 Africa open 2026”)."
        )
    )


def subject(t: Translator) -> str:
    return t.gettext("Your question")
