"""The records commands (``/ccm needs|offers|state|overdue|deadlines|stats``) and questions in a DM.

What a person asked travels with the answer's buttons (*More*, *Show the names*, *Share in
channel*) as an ``Ask``, so a click asks the store again: nothing is kept between clicks, and
every click sees what its clicker may see at that moment. The queries are the ones the command
line runs (``handlers.queries``, ``handlers.stats``, ``storage.queries``); this module only lays
their results out as channel-neutral replies.

Who sees what (also in the /ccm help): any contact may list needs and offers (filtered by
``storage.queries.visible_to``), look at a State, at overdue reports, deadlines and the yearly
figures — public treaty facts. Reminder counts are shown to the Coordinators, the ISU and the
State's own delegates; the States behind the figures and contact exports to the Coordinators
and the ISU only. A shared answer is for everyone in the channel, so it shows what any delegate
may see (``channel_audience``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.slack import ids
from handlers.entry_form import CATEGORY_LABELS, STATUS_LABELS, VISIBILITY_LABELS
from handlers.i18n import Translator, _
from handlers.queries import (
    DEFAULT_MONTHS,
    Question,
    Topic,
    deadline_lines,
    describe_question,
    found_text,
    last_due_year,
    overdue_reports,
    parse_filters,
    parse_question,
    report_lines,
    upcoming_deadlines,
)
from handlers.replies import Reply, Section
from handlers.stats import (
    ARTICLE_GROUP_LABELS,
    ARTICLE_GROUPS,
    GROUPS,
    STAT_LABELS,
    yearly_analysis,
)
from handlers.understanding import Intent, understand
from schedules.calendar import annual_report_due
from storage.models import Entry, EntryKind, Role, State, Visibility
from storage.queries import Filters, entries, state_names, state_overview
from storage.state_names import resolve_state_code
from storage.visibility import Viewer, reminders_visible_to

Resolver = Callable[[str], str | None]

TOPICS = ("needs", "offers", "state", "overdue", "deadlines", "stats")
ENTRIES_PER_ANSWER = 10  # one section each: with the header and buttons, far under 50 blocks
LINES_PER_ANSWER = 25  # States or deadlines, one line each, in one section (3000 characters)
OVERVIEW_LINES = 10
DESCRIPTION_PREVIEW = 300
# parse_question reads at most 500 characters; more would only weigh on the button values.
MAX_WORDS = 500
MAX_MONTHS = 240

ROLE_LABELS: Mapping[Role, str] = {
    Role.DELEGATE: _("delegate"),
    Role.COORDINATOR: _("coordinator"),
    Role.ISU: _("ISU"),
    Role.PARTNER: _("partner"),
}


def sees_everything(role: Role | None) -> bool:
    return role in (Role.COORDINATOR, Role.ISU)


def channel_audience(viewer: Viewer) -> Viewer:
    """Whom a shared answer is for: whoever is in the channel. It shows what any delegate may
    see (a partner's share only what is public): nothing for the Coordinators only, no
    contacts, no reminders and no names behind the figures, whoever pressed *Share*."""
    return Viewer(Role.PARTNER if viewer.role is Role.PARTNER else Role.DELEGATE)


# --- what was asked ------------------------------------------------------------------------


def clip_words(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_WORDS:
        return text
    return text[: MAX_WORDS + 1].rsplit(" ", 1)[0]


@dataclass(frozen=True)
class Ask:
    """One records question: the subcommand, the words after it, which page, and whether the
    names behind the figures are wanted. Carried in button values as compact JSON."""

    topic: str
    words: str = ""
    offset: int = 0
    names: bool = False

    def to_value(self) -> str:
        data: dict[str, object] = {"t": self.topic, "w": self.words}
        if self.offset:
            data["o"] = self.offset
        if self.names:
            data["n"] = 1
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(value) > ids.MAX_BUTTON_VALUE:
            # clip_words keeps the words far under the limit: a longer value is a bug.
            raise ValueError(f"button value over {ids.MAX_BUTTON_VALUE} characters: {value!r}")
        return value

    @classmethod
    def from_value(cls, value: str) -> Ask | None:
        """The question a button carries; None for anything else."""
        try:
            data = json.loads(value)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("t") not in TOPICS:
            return None
        words, offset = data.get("w", ""), data.get("o", 0)
        if not isinstance(words, str) or type(offset) is not int or offset < 0:
            return None
        return cls(data["t"], clip_words(words), offset, data.get("n") == 1)


@dataclass(frozen=True)
class Answered:
    """An answer, and what its buttons would ask next (None: no such button)."""

    reply: Reply
    more: Ask | None = None
    names: Ask | None = None


@dataclass(frozen=True)
class Asker:
    """Who is asking, as the answers need it: what they may see, their language, day and zone."""

    viewer: Viewer
    t: Translator
    today: date
    zone: ZoneInfo


async def answer_ask(
    session: AsyncSession, ask: Ask, asker: Asker, *, resolve_state: Resolver
) -> Answered:
    names = await state_names(session)
    t = asker.t

    def name_of(iso3: str) -> str:
        return names[iso3].name(t.language) if iso3 in names else iso3

    if ask.topic in ("needs", "offers"):
        return await _listing(session, ask, asker, name_of, names, resolve_state)
    if ask.topic == "state":
        return await _state(session, ask, asker, name_of, resolve_state)
    if ask.topic == "overdue":
        return await _overdue(session, ask, asker, name_of)
    if ask.topic == "deadlines":
        return await _deadlines(session, ask, asker, name_of)
    return await _stats(session, ask, asker, name_of)


def _subject(t: Translator) -> str:
    return t.gettext("Your question")


def _understood(question: Question, asker: Asker, name_of: Callable[[str], str]) -> str:
    return describe_question(question, asker.t, today=asker.today, state_name=name_of)


def _page(ask: Ask, lines: Sequence[str], per_page: int) -> tuple[tuple[str, ...], Ask | None]:
    """The lines of the asked page, and the question for the next page (None: the last)."""
    shown = tuple(lines[ask.offset : ask.offset + per_page])
    end = ask.offset + len(shown)
    return shown, replace(ask, offset=end) if end < len(lines) else None


def _showing(t: Translator, offset: int, shown: int, total: int, *, exact: bool = True) -> str:
    if total <= shown and offset == 0:
        return ""
    if not exact:
        return t.gettext(
            "Showing {first} to {last} of more than {total}.",
            first=offset + 1,
            last=offset + shown,
            total=t.number(total),
        )
    return t.gettext(
        "Showing {first} to {last} of {total}.", first=offset + 1, last=offset + shown, total=total
    )


def _usage(t: Translator, text: str) -> Answered:
    return Answered(Reply(t.language, _subject(t), text))


# --- needs and offers ----------------------------------------------------------------------


async def _listing(
    session: AsyncSession,
    ask: Ask,
    asker: Asker,
    name_of: Callable[[str], str],
    states: Mapping[str, State],
    resolve_state: Resolver,
) -> Answered:
    t = asker.t
    kind = EntryKind.NEED if ask.topic == "needs" else EntryKind.OFFER
    # The subcommand says what is listed: every other word filters (a year stays a filter).
    filters = parse_filters(ask.words, resolve_state=resolve_state, today=asker.today)
    read = parse_question(ask.words, resolve_state=resolve_state, today=asker.today)
    if read.own and asker.viewer.state:
        filters = replace(filters, state=asker.viewer.state)
    topic = Topic.NEEDS if kind is EntryKind.NEED else Topic.OFFERS
    question = Question(topic, filters, own=read.own, ignored=read.ignored)
    page = await entries(
        session, kind, asker.viewer, filters, limit=ENTRIES_PER_ANSWER, offset=ask.offset
    )
    found = found_text(t, page)
    more = replace(ask, offset=ask.offset + len(page.items)) if page.more else None
    return Answered(
        Reply(
            t.language,
            _subject(t),
            f"{_understood(question, asker, name_of)} {found}",
            sections=tuple(_entry_section(entry, t, name_of) for entry in page.items),
            footer=_showing(t, ask.offset, len(page.items), page.total, exact=page.exact),
        ),
        more=more,
    )


def _entry_section(entry: Entry, t: Translator, name_of: Callable[[str], str]) -> Section:
    who = name_of(entry.state_iso3) if entry.state_iso3 else None
    title = " · ".join(
        part
        for part in (
            entry.reference,
            who,
            entry.organisation,
            t.gettext(CATEGORY_LABELS[entry.category]),
        )
        if part
    )
    description = " ".join(entry.description.split())
    if len(description) > DESCRIPTION_PREVIEW:
        description = description[: DESCRIPTION_PREVIEW - 1] + "…"
    details = [t.gettext(STATUS_LABELS[entry.status])]
    if entry.article is not None:
        details.append(t.gettext("Article {article}", article=entry.article))
    if entry.amount is not None and entry.currency:
        details.append(t.money(entry.amount, entry.currency))
    if entry.visibility is Visibility.COORDINATORS:
        # Said on every such record, so nobody repeats it to the wrong audience.
        details.append(t.gettext(VISIBILITY_LABELS[Visibility.COORDINATORS]))
    return Section(title, (description, " · ".join(details)))


# --- one State -----------------------------------------------------------------------------


async def _state(
    session: AsyncSession,
    ask: Ask,
    asker: Asker,
    name_of: Callable[[str], str],
    resolve_state: Resolver,
) -> Answered:
    t = asker.t
    if ask.words:
        written = ask.words.strip()
        iso3 = resolve_state(written) or (written.upper() if len(written) == 3 else None)
    else:
        iso3 = asker.viewer.state
    if iso3 is None and not ask.words:
        return _usage(
            t, t.gettext("Name a State, for example: {example}", example="/ccm state Lao PDR")
        )
    overview = await state_overview(session, iso3, asker.viewer) if iso3 else None
    if overview is None:
        return _usage(
            t, t.gettext("I found no State called “{name}”.", name=ask.words or iso3 or "")
        )
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
        reminded = _day(t, overview.last_reminder_at, asker.zone)
        answered = _day(t, overview.last_answer_at, asker.zone)
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
            _understood(question, asker, name_of),
            sections=tuple(sections),
        )
    )


def _day(t: Translator, moment: datetime | None, zone: ZoneInfo) -> str:
    """The reader's day of a moment, "" for none."""
    return t.date(moment.astimezone(zone).date()) if moment is not None else ""


# --- who is late, what falls due -----------------------------------------------------------


def _year(words: str) -> int | str | None:
    """The year a command names: None when it names none, "bad" when it is not a year."""
    words = words.strip()
    if not words:
        return None
    if re.fullmatch(r"20\d\d", words):
        return int(words)
    return "bad"


def _write_year(t: Translator, example: str) -> str:
    return t.gettext("Write the year with four digits, for example: {example}", example=example)


async def _overdue(
    session: AsyncSession, ask: Ask, asker: Asker, name_of: Callable[[str], str]
) -> Answered:
    t = asker.t
    year = _year(ask.words)
    if year == "bad":
        return _usage(t, _write_year(t, "/ccm overdue 2025"))
    year = year if isinstance(year, int) else last_due_year(asker.today)
    question = Question(Topic.OVERDUE, Filters(), year=year)
    understood = _understood(question, asker, name_of)
    due = annual_report_due(year)
    if asker.today <= due:
        text = t.gettext(
            "Reports covering {year} are due on {date}; none is late yet.",
            year=year,
            date=t.date(due),
        )
        return _usage(t, f"{understood} {text}")
    late = sorted(
        await overdue_reports(session, year, asker.today),
        key=lambda row: _folded(name_of(row.iso3)),
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
            last = _day(t, row.last_reminder_at, asker.zone)
            line += ", " + t.gettext("the last on {date}", date=last)
        if row.escalated:
            line += " · " + t.gettext("escalated to the Coordinators")
        lines.append(line)
    return _paged_lines(ask, t, understood, t.gettext("Late"), lines)


async def _deadlines(
    session: AsyncSession, ask: Ask, asker: Asker, name_of: Callable[[str], str]
) -> Answered:
    t = asker.t
    words = ask.words.strip()
    if words and not (words.isdigit() and int(words) <= MAX_MONTHS):
        text = t.gettext(
            "Write how many months ahead, for example: {example}", example="/ccm deadlines 6"
        )
        return _usage(t, text)
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
    understood = _understood(question, asker, name_of)
    return _paged_lines(ask, t, understood, t.gettext("Deadlines"), lines)


def _paged_lines(
    ask: Ask, t: Translator, understood: str, title: str, lines: list[str]
) -> Answered:
    """One page of a list answer, saying how the question was understood and how many."""
    shown, more = _page(ask, lines, LINES_PER_ANSWER)
    count = t.ngettext("{count} found.", "{count} found.", len(lines))
    return Answered(
        Reply(
            t.language,
            _subject(t),
            f"{understood} {count}",
            sections=(Section(title, shown),) if shown else (),
            footer=_showing(t, ask.offset, len(shown), len(lines)),
        ),
        more=more,
    )


# --- the yearly figures --------------------------------------------------------------------


async def _stats(
    session: AsyncSession, ask: Ask, asker: Asker, name_of: Callable[[str], str]
) -> Answered:
    t = asker.t
    year = _year(ask.words)
    if year == "bad":
        return _usage(t, _write_year(t, "/ccm stats 2025"))
    year = year if isinstance(year, int) else last_due_year(asker.today)
    analysis = await yearly_analysis(session, year, asker.today)
    figures = analysis.figures()
    question = Question(Topic.STATS, Filters(), year=year)
    intro = (
        _understood(question, asker, name_of)
        + " "
        + t.gettext(
            "Counted on {today}; the reports were due on {due}.",
            today=t.date(asker.today),
            due=t.date(analysis.due),
        )
    )
    fields = [(t.gettext(STAT_LABELS[group]), t.number(figures[group])) for group in GROUPS]
    for article, counts in figures["by_article"].items():
        for group in ARTICLE_GROUPS:
            label = t.gettext("Article {article}", article=article)
            fields.append(
                (f"{label} — {t.gettext(ARTICLE_GROUP_LABELS[group])}", t.number(counts[group]))
            )
    may_name = asker.viewer.sees_everything
    sections: list[Section] = []
    if ask.names and may_name:
        for group in GROUPS:
            sections.append(_names(t, STAT_LABELS[group], analysis.group(group), name_of))
        for article, by in analysis.by_article.items():
            for group in ARTICLE_GROUPS:
                label = f"{t.gettext('Article {article}', article=article)} — "
                codes: tuple[str, ...] = getattr(by, group)
                sections.append(_names(t, ARTICLE_GROUP_LABELS[group], codes, name_of, label))
        fields = []  # the numbers are in the section titles
    footer = ""
    if not may_name:
        footer = t.gettext("The States behind the figures are for the Coordinators and the ISU.")
    return Answered(
        Reply(
            t.language,
            t.gettext("Reporting year {year}", year=year),
            intro,
            sections=tuple(sections),
            fields=tuple(fields),
            footer=footer,
        ),
        names=replace(ask, names=True) if may_name and not ask.names else None,
    )


def _names(
    t: Translator,
    label: str,
    codes: Sequence[str],
    name_of: Callable[[str], str],
    prefix: str = "",
) -> Section:
    title = f"{prefix}{t.gettext(label)}: {t.number(len(codes))}"
    listed = sorted((name_of(code) for code in codes), key=_folded)
    return Section(title, (", ".join(listed) or "—",))


# --- a question written in a DM ------------------------------------------------------------

# The words that open a question in English, French and Spanish, accents folded.
QUESTION_WORDS = frozenset(
    (
        "who", "whom", "whose", "which", "what", "where",
        "qui", "quel", "quels", "quelle", "quelles", "lequel", "lesquels", "laquelle",
        "lesquelles", "ou", "combien",
        "quien", "quienes", "que", "cual", "cuales", "donde", "cuanto", "cuantos", "cuanta",
        "cuantas",
    )
)  # fmt: skip
_LETTERS = re.compile(r"[a-z]+")


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def asks_the_records(
    text: str, role: Role, *, today: date, resolve_state: Resolver = resolve_state_code
) -> bool:
    """Whether a DM asks the records (handlers.queries.answer) rather than talks to the
    reminders' conversation (a report sent, a need, an offer, "later").

    - A reply keyword ("LATER", "SOUMIS 2026"), a plea for help ("what should I do?") or
      nothing the records know of: the conversation, which explains itself.
    - A sentence opening with a question word (who, which, qui, quels, quién, qué…): the
      records, from anyone.
    - From a Coordinator or the ISU, also filters the records know ("article 4 africa open",
      "stats 2025", "Liban") that end with "?", that the conversation reads as nothing it
      records, or that name a status or region, which a request never does.
    """
    understood = understand(text, today=today)
    question = parse_question(text, resolve_state=resolve_state, today=today)
    if understood.keyword or understood.intent is Intent.HELP or question.topic is Topic.HELP:
        return False
    words = _LETTERS.findall(_folded(text))
    if words and words[0] in QUESTION_WORDS:
        return True
    if not sees_everything(role):
        return False
    filters = question.filters
    structured = question.topic is not Topic.NEEDS or replace(filters, text=()) != Filters()
    listing_words = filters.status is not None or filters.region is not None
    return structured and (
        text.rstrip().endswith("?") or understood.intent is Intent.UNKNOWN or listing_words
    )
