"""Questions people ask the bot: who needs what, who can help, who is late, what falls due.

A question in English, French or Spanish ("article 4 africa open", « besoins article 5 afrique
ouverts », "¿quién puede ayudar con capacitación?") is read word by word into a `Question`: a
topic and the `Filters` of a listing. Words are recognised in this order, longest phrase first:
an article ("article 4", "art. 5"), a date after "since/depuis/desde", a year, a number of months,
a region, a status, a topic word ("needs", "offres", "plazos"), a category ("training",
"déminage", "rehabilitación"), then a State (any run of remaining words the caller's resolver
knows: "Lao PDR", "Côte d'Ivoire", an ISO3 code in capitals). What is left, except small words
("the", "les", "para"), becomes free-text terms that the description must contain. So "training
spanish" is training offers or needs whose description says "spanish": a language is not a
filter, and the reply says how it read the question so the person can rephrase.

What a person may see is decided in the query (`storage.queries.visible_to`), never here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.entry_form import CATEGORY_LABELS, STATUS_LABELS
from handlers.i18n import Translator, _
from handlers.imports import ImportKind, columns_of
from handlers.replies import Reply, Section
from handlers.stats import STAT_LABELS, yearly_analysis
from handlers.tables import write_table
from handlers.turns import Speaker
from handlers.understanding._text import fold, normalise
from handlers.understanding.categories import find_category
from handlers.understanding.dates import MONTHS, find_date
from schedules.calendar import add_months, annual_report_due
from storage.models import Category, Entry, EntryKind, EntryStatus, ReportKind, State
from storage.queries import (
    REGIONS,
    Deadline,
    Filters,
    Overdue,
    Page,
    StateOverview,
    deadlines,
    entries,
    export_contacts,
    export_entries,
    export_reports,
    overdue,
    state_names,
    state_overview,
)
from storage.visibility import STRANGER, Viewer

__all__ = [
    "ExportKind",
    "Filters",
    "Question",
    "Topic",
    "Viewer",
    "answer",
    "describe",
    "describe_question",
    "export_rows",
    "export_table",
    "last_due_year",
    "overdue_reports",
    "parse_filters",
    "parse_question",
    "upcoming_deadlines",
    "viewer_of",
]

Resolver = Callable[[str], str | None]

MAX_QUESTION = 500  # characters read; a pasted document is not a question
MAX_TERMS = 5
ANSWER_PAGE = 10
DEFAULT_MONTHS = 12


class Topic(StrEnum):
    NEEDS = "needs"
    OFFERS = "offers"
    OVERVIEW = "overview"
    OVERDUE = "overdue"
    DEADLINES = "deadlines"
    STATS = "stats"
    HELP = "help"


@dataclass(frozen=True)
class Question:
    """What a free question asks: a topic, the filters of a listing, and what was not used.

    ``year`` is the reporting year for OVERDUE and STATS; ``months`` how far ahead for
    DEADLINES. ``own`` is True when the person said "our"/"nos"/"nuestras": their State.
    ``ignored`` lists what was read but could not be used ("article 9", a second State).
    """

    topic: Topic
    filters: Filters
    year: int | None = None
    months: int | None = None
    own: bool = False
    ignored: tuple[str, ...] = ()


def viewer_of(speaker: Speaker | None) -> Viewer:
    """Who is asking, for the visibility rules; None is someone the bot does not know."""
    return STRANGER if speaker is None else speaker.viewer


# --- reading words -------------------------------------------------------------------------


def _phrases(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Folded phrase → value, from value → phrases."""
    return {
        " ".join(fold(normalise(p)).replace("-", " ").split()): v
        for v, ps in table.items()
        for p in ps
    }


_REGION_WORDS = _phrases(
    {
        **{region: names for region, names in REGIONS.items()},
        "Americas": (
            *REGIONS["Americas"],
            "Latin America",
            "Amérique latine",
            "América Latina",
            "Latinoamérica",
            "South America",
            "Amérique du Sud",
            "Sudamérica",
            "Caribbean",
            "Caraïbes",
            "Caribe",
        ),
        "Middle East": (*REGIONS["Middle East"], "Proche-Orient", "Oriente Próximo", "Mideast"),
    }
)
_STATUS_WORDS = _phrases(
    {
        EntryStatus.OPEN: (
            "open", "opened", "ouvert", "ouverts", "ouverte", "ouvertes",
            "abierto", "abiertos", "abierta", "abiertas",
        ),
        EntryStatus.IN_DISCUSSION: (
            "in discussion", "under discussion", "discussed", "en discussion",
            "en cours de discussion", "en discusión", "discussion", "discusión",
        ),
        EntryStatus.MET: (
            "met", "fulfilled", "satisfied", "satisfait", "satisfaits", "satisfaite",
            "satisfaites", "atendido", "atendidos", "atendida", "atendidas", "satisfecho",
            "satisfechos", "cubierto", "cubiertos",
        ),
        EntryStatus.WITHDRAWN: (
            "withdrawn", "retiré", "retirés", "retirée", "retirées", "retirado", "retirados",
            "retirada", "retiradas",
        ),
    }
)  # fmt: skip
_TOPIC_WORDS = _phrases(
    {
        Topic.NEEDS: (
            "need", "needs", "needed", "request", "requests", "requested", "who needs",
            "besoin", "besoins", "demande", "demandes", "necesidad", "necesidades", "necesita",
            "necesitan", "solicitud", "solicitudes",
        ),
        Topic.OFFERS: (
            "offer", "offers", "offered", "capacity", "capacities", "who can help", "can help",
            "help", "donor", "donors", "offre", "offres", "capacité", "capacités", "peut aider",
            "peuvent aider", "aider", "donateur", "donateurs", "oferta", "ofertas", "capacidad",
            "capacidades", "puede ayudar", "pueden ayudar", "ayudar", "donante", "donantes",
            "offers to", "offrent", "propose", "proposent", "ofrece", "ofrecen",
        ),
        Topic.OVERDUE: (
            "late", "overdue", "missing", "not reported", "who is late", "en retard", "retard",
            "retards", "retardataires", "manquants", "atrasado", "atrasados", "retrasado",
            "retrasados", "con retraso", "pendientes", "not submitted", "have not submitted",
            "pas soumis", "pas encore soumis", "pas remis", "no han presentado", "no presentaron",
            "no ha presentado", "sin presentar",
        ),
        Topic.DEADLINES: (
            "deadline", "deadlines", "due", "échéance", "échéances", "délai", "délais",
            "date limite", "dates limites", "plazo", "plazos", "vencimiento", "vencimientos",
            "fecha límite", "fechas límite",
        ),
        Topic.STATS: (
            "stats", "statistics", "figures", "analysis", "statistiques", "chiffres", "analyse",
            "estadísticas", "cifras", "análisis",
        ),
        Topic.OVERVIEW: (
            "overview", "profile", "summary", "situation", "état", "fiche", "aperçu", "estado",
            "resumen", "perfil", "situación",
        ),
    }
)  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_OWN = _words("my our mine ours mon ma mes notre nos mi mis nuestro nuestra nuestros nuestras")
# Small words of the three languages that carry nothing for a query.
STOPWORDS = _words(
    """
    a an the of for in on at to with and or by from about is are was there which what who whom
    show list give find me us all any please some that this those these can could do does i we
    you it its has have having our my with without where when how many much assistance
    le la les l un une des du de d au aux et ou en dans pour par sur avec qui que quoi quel quels
    quelle quelles montre montrez liste donne donnez moi tous toutes tout est sont il y a ont
    aide ayant
    el los las lo un una unos unas del al y o en para por con sobre que quien quienes cual cuales
    muestra muestrame lista dame todos todas es son hay tiene tienen ayuda asistencia se
    """
)
# Words that may sit inside a State's name ("Bosnia and Herzegovina", "Trinidad y Tobago").
_NAME_JOINERS = _words("and of the et de du des d la y del")

_ARTICLE = re.compile(r"\bart(?:icles?|iculos?|s?\.)?\s*(?P<number>\d{1,3})\b(?![.,]\d)")
_SINCE = re.compile(
    r"\b(?:since|from|after|depuis|apres|a partir d[eu']?|des|desde)\s+"
    r"(?:the\s+|le\s+|el\s+|l'\s*)?"
)
_MONTHS_AHEAD = re.compile(r"\b(?P<n>\d{1,3})\s*(?:months?|mois|mes(?:es)?)\b")
_YEAR = re.compile(r"(?<![\w.,/-])(?P<year>20\d{2})(?![\w/-]|[.,]\d)")
_MONTH_YEAR = re.compile(r"(?P<month>[a-z]+)\.?\s+(?:de\s+)?(?P<year>20\d{2})\b")
_QUOTED = re.compile(r"[\"“”«»„](?P<phrase>[^\"“”«»„]{1,100})[\"“”«»„]")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class _Token:
    folded: str
    start: int
    end: int
    used: bool = False


@dataclass
class _Reading:
    """The state of one pass over a question: what was found, what is left."""

    original: str
    folded: str
    tokens: list[_Token]
    article: int | None = None
    category: Category | None = None
    state: str | None = None
    region: str | None = None
    status: EntryStatus | None = None
    since: date | None = None
    year: int | None = None
    months: int | None = None
    topic: Topic | None = None
    topic_at: int = 1 << 30
    own: bool = False

    def __post_init__(self) -> None:
        self.ignored: list[str] = []
        self.terms: list[str] = []


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _read_spans(reading: _Reading, today: date) -> str:
    """Quoted phrases, articles, dates, months and years: read and blanked out of the text."""
    folded = reading.folded
    for found in _QUOTED.finditer(folded):
        phrase = reading.original[found.start("phrase") : found.end("phrase")].strip()
        if phrase:
            reading.terms.append(phrase)
        folded = _blank(folded, found.start(), found.end())
    for found in _ARTICLE.finditer(folded):
        number = int(found["number"])
        if 3 <= number <= 6 and reading.article is None:
            reading.article = number
        elif number != 7:  # "article 7 late": the reports, which the topic already says
            reading.ignored.append(reading.original[found.start() : found.end()])
        folded = _blank(folded, found.start(), found.end())
    for found in _SINCE.finditer(folded):
        rest = folded[found.end() : found.end() + 40]
        since, length = _since(rest, today)
        if since is not None and reading.since is None:
            reading.since = since
            folded = _blank(folded, found.start(), found.end() + length)
    for found in _MONTHS_AHEAD.finditer(folded):
        reading.months = int(found["n"])
        folded = _blank(folded, found.start(), found.end())
    for found in _YEAR.finditer(folded):
        if reading.year is None:
            reading.year = int(found["year"])
        else:
            reading.ignored.append(found["year"])
        folded = _blank(folded, found.start(), found.end())
    return folded


def _since(rest: str, today: date) -> tuple[date | None, int]:
    """A date at the very start of ``rest``: a full date, a month and year, or a year."""
    found = find_date(rest, today=today)
    if found is not None and not rest[: found.start].strip():
        return found.on, found.end
    month_year = _MONTH_YEAR.match(rest.lstrip())
    offset = len(rest) - len(rest.lstrip())
    if month_year and month_year["month"] in MONTHS:
        return date(int(month_year["year"]), MONTHS[month_year["month"]], 1), (
            offset + month_year.end()
        )
    year = _YEAR.match(rest.lstrip())
    if year:
        return date(int(year["year"]), 1, 1), offset + year.end()
    return None, 0


def _runs(tokens: list[_Token], size: int) -> Iterable[list[_Token]]:
    """Every sequence of ``size`` unused tokens that are next to each other."""
    for index in range(len(tokens) - size + 1):
        window = tokens[index : index + size]
        if not any(token.used for token in window):
            yield window


def _phrase(window: Sequence[_Token]) -> str:
    return " ".join(token.folded for token in window)


def _needed(window: Sequence[_Token]) -> bool:
    """A phrase is a category only if every word of it is needed ("risk education", not
    "survey lebanon": "survey" alone says it)."""
    if find_category(_phrase(window)) is None:
        return False
    if len(window) == 1:
        return True
    return (
        find_category(_phrase(window[1:])) is None and find_category(_phrase(window[:-1])) is None
    )


def _read_words(reading: _Reading, resolve_state: Resolver) -> None:
    tokens = reading.tokens
    for size in (3, 2, 1):
        for window in _runs(tokens, size):
            phrase = _phrase(window)
            if phrase in _REGION_WORDS:
                if reading.region is None:
                    reading.region = _REGION_WORDS[phrase]
            elif phrase in _STATUS_WORDS:
                if reading.status is None:
                    reading.status = EntryStatus(_STATUS_WORDS[phrase])
            elif phrase in _TOPIC_WORDS:
                if window[0].start < reading.topic_at:
                    reading.topic = Topic(_TOPIC_WORDS[phrase])
                    reading.topic_at = window[0].start
            elif size == 1 and phrase in _OWN:
                reading.own = True
            elif (size > 1 or phrase not in STOPWORDS) and _needed(window):
                if reading.category is None:
                    reading.category = find_category(phrase)
            else:
                continue
            for token in window:
                token.used = True
    _read_states(reading, resolve_state)
    for token in tokens:
        if token.used or token.folded in STOPWORDS or len(token.folded) < 2:
            continue
        reading.terms.append(reading.original[token.start : token.end].casefold())


def _read_states(reading: _Reading, resolve_state: Resolver) -> None:
    tokens = reading.tokens
    for size in (5, 4, 3, 2, 1):
        for window in _runs(tokens, size):
            if any(token.used for token in window):
                continue  # taken by a longer name found earlier in this pass
            first, last = window[0].folded, window[-1].folded
            if first in STOPWORDS or last in STOPWORDS or first.isdigit():
                continue
            if any(t.folded in STOPWORDS and t.folded not in _NAME_JOINERS for t in window):
                continue
            written = reading.original[window[0].start : window[-1].end]
            if size == 1 and len(written) <= 3 and not (len(written) == 3 and written.isupper()):
                continue  # "and", "can", "per" are ISO3 codes too: only capitals say so
            iso3 = resolve_state(written)
            if iso3 is None:
                continue
            if reading.state is None:
                reading.state = iso3
            elif reading.state != iso3:
                reading.ignored.append(written)
            for token in window:
                token.used = True


def _reading(text: str, *, resolve_state: Resolver, today: date) -> _Reading:
    if len(text) > MAX_QUESTION:
        text = text[: MAX_QUESTION + 1].rsplit(None, 1)[0]  # whole words only
    original = normalise(text)
    folded = fold(original)
    reading = _Reading(original, folded, [])
    blanked = _read_spans(reading, today)
    reading.tokens = [_Token(m.group(), m.start(), m.end()) for m in _WORD.finditer(blanked)]
    _read_words(reading, resolve_state)
    return reading


def _filters(reading: _Reading) -> Filters:
    terms = list(dict.fromkeys(reading.terms))
    if len(terms) > MAX_TERMS:
        reading.ignored.extend(terms[MAX_TERMS:])
        terms = terms[:MAX_TERMS]
    return Filters(
        article=reading.article,
        category=reading.category,
        state=reading.state,
        region=reading.region,
        status=reading.status,
        since=reading.since,
        year=reading.year,
        text=tuple(terms),
    )


def parse_filters(text: str, *, resolve_state: Resolver, today: date) -> Filters:
    """The filters of a listing, read from words in English, French or Spanish.

    Topic words ("needs", "offres") are read and dropped; use `parse_question` to keep them.
    Never raises: what is not understood becomes free-text terms.
    """
    return _filters(_reading(text, resolve_state=resolve_state, today=today))


def parse_question(text: str, *, resolve_state: Resolver, today: date) -> Question:
    """What a free question asks, and of which listing. Never raises.

    Without a topic word: a question naming only a State is its overview; one with any filter
    is about needs ("who needs what" is the usual question); an empty one gets help.
    """
    reading = _reading(text, resolve_state=resolve_state, today=today)
    filters = _filters(reading)
    topic = reading.topic
    if topic is None:
        if filters.state is not None and replace(filters, state=None).empty and not reading.own:
            topic = Topic.OVERVIEW
        elif filters.empty and not reading.own:
            topic = Topic.HELP
        else:
            topic = Topic.NEEDS
    year = None
    if topic in (Topic.OVERDUE, Topic.STATS):
        year, filters = filters.year, replace(filters, year=None)
    return Question(
        topic=topic,
        filters=filters,
        year=year,
        months=reading.months,
        own=reading.own,
        ignored=tuple(reading.ignored),
    )


# --- saying how a question was understood --------------------------------------------------

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


# --- the calendar's answers ----------------------------------------------------------------


def last_due_year(today: date) -> int:
    """The latest reporting year whose annual report was due before today."""
    year = today.year - 1
    while annual_report_due(year) >= today:
        year -= 1
    return year


async def overdue_reports(session: AsyncSession, year: int, today: date) -> list[Overdue]:
    """States without their annual report covering ``year`` after its due date (30 April)."""
    return await overdue(session, year, due=annual_report_due(year), today=today)


async def upcoming_deadlines(session: AsyncSession, today: date, months: int) -> list[Deadline]:
    """Article 3 and 4 deadlines in force, and dates the ISU added, in the next ``months``."""
    if months < 0:
        raise ValueError("months must not be negative")
    return await deadlines(session, start=today, end=add_months(today, months))


# --- exports -------------------------------------------------------------------------------


class ExportKind(StrEnum):
    NEEDS = "needs"
    OFFERS = "offers"
    REPORTS = "reports"
    CONTACTS = "contacts"

    @property
    def import_kind(self) -> ImportKind:
        return {
            ExportKind.NEEDS: ImportKind.NEEDS,
            ExportKind.OFFERS: ImportKind.CAPACITIES,
            ExportKind.REPORTS: ImportKind.REPORTS,
            ExportKind.CONTACTS: ImportKind.CONTACTS,
        }[self]


async def export_rows(
    session: AsyncSession,
    kind: ExportKind,
    viewer: Viewer,
    filters: Filters = Filters(),  # noqa: B008 - frozen
    *,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """The header and rows of an export, in the columns its import reads, so it re-imports.

    Only what ``viewer`` may see: a record for the Coordinators leaves the store only in a
    Coordinator's or the ISU's export. ``filters``, ``limit`` and ``offset`` apply to needs
    and offers.
    """
    headers = columns_of(kind.import_kind)
    if kind in (ExportKind.NEEDS, ExportKind.OFFERS):
        entry_kind = EntryKind.NEED if kind is ExportKind.NEEDS else EntryKind.OFFER
        found = await export_entries(
            session, entry_kind, viewer, filters, limit=limit, offset=offset
        )
        return headers, [dict(row) for row in found]
    if kind is ExportKind.REPORTS:
        reports = await export_reports(session, viewer)
        return headers, [
            {
                "state": report.state_iso3,
                "kind": report.kind,
                "year": report.year,
                "submitted_on": report.submitted_on,
                "due": report.due,
                "note": report.learned_note,
            }
            for report in reports
        ]
    people = await export_contacts(session, viewer)
    return headers, [
        {
            "name": contact.name,
            "email": contact.email,
            "role": contact.role,
            "slack_user_id": contact.slack_user_id,
            "state": contact.state_iso3,
            "organisation": contact.organisation,
            "language": contact.language,
            "timezone": contact.timezone,
            "channel": contact.channel,
            "alternate_email": alternate,
        }
        for contact, alternate in people
    ]


async def export_table(
    session: AsyncSession,
    kind: ExportKind,
    viewer: Viewer,
    path: Path,
    filters: Filters = Filters(),  # noqa: B008 - frozen
    *,
    limit: int | None = None,
    offset: int = 0,
) -> int:
    """Write an export to a .csv or .xlsx file; returns the number of rows written."""
    headers, rows = await export_rows(session, kind, viewer, filters, limit=limit, offset=offset)
    return write_table(path, headers, rows)


# --- answering a free question -------------------------------------------------------------


def found_text(t: Translator, page: Page[Entry]) -> str:
    """How many a listing found; "more than 1,000" once counting stopped at its cap."""
    if not page.exact:
        return t.gettext("More than {count} found.", count=t.number(page.total))
    return t.ngettext("{count} found.", "{count} found.", page.total)


def _entry_section(entry: Entry, t: Translator, names: Mapping[str, State]) -> Section:
    state = names.get(entry.state_iso3 or "")
    who = state.name(t.language) if state else None
    owner = " · ".join(part for part in (who, entry.organisation) if part)
    title = " · ".join(
        part
        for part in (entry.reference, owner, t.gettext(CATEGORY_LABELS[entry.category]))
        if part
    )
    description = " ".join(entry.description.split())
    if len(description) > 300:
        description = description[:299] + "…"
    lines = [description]
    details = [t.gettext(STATUS_LABELS[entry.status])]
    if entry.article is not None:
        details.append(t.gettext("Article {article}", article=entry.article))
    if entry.amount is not None and entry.currency:
        details.append(t.money(entry.amount, entry.currency))
    lines.append(" · ".join(details))
    return Section(title, tuple(lines))


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


def _overview_sections(overview: StateOverview, t: Translator, today: date) -> list[Section]:
    sections = []
    duties = deadline_lines(overview, t, today)
    if duties:
        sections.append(Section(t.gettext("Deadlines"), duties))
    reports = report_lines(overview, t)
    if reports:
        sections.append(Section(t.gettext("Article 7 reports"), reports))
    for title, listed in ((_("Open needs"), overview.needs), (_("Offers"), overview.offers)):
        if listed:
            lines = [f"{e.reference}: {' '.join(e.description.split())[:120]}" for e in listed]
            sections.append(Section(t.gettext(title), tuple(lines[:ANSWER_PAGE])))
    if overview.contacts:
        sections.append(
            Section(
                t.gettext("Contacts"),
                tuple(f"{c.name} ({c.role.value})" for c in overview.contacts),
            )
        )
    return sections


async def answer(
    session: AsyncSession,
    speaker: Speaker | None,
    text: str,
    *,
    today: date,
    resolve_state: Resolver,
    t: Translator,
) -> Reply:
    """Answer a question asked in words, saying first how it was understood."""
    viewer = viewer_of(speaker)
    question = parse_question(text, resolve_state=resolve_state, today=today)
    if question.own and speaker is not None and speaker.state:
        question = replace(question, filters=replace(question.filters, state=speaker.state))
    names = await state_names(session)

    def name_of(iso3: str) -> str:
        return names[iso3].name(t.language) if iso3 in names else iso3

    understood = describe_question(question, t, today=today, state_name=name_of)
    subject = t.gettext("Your question")
    if viewer.role is None:
        return Reply(
            t.language,
            subject,
            t.gettext("I can only answer people the ISU has registered. Ask the ISU."),
        )
    if question.topic is Topic.HELP:
        return Reply(
            t.language,
            subject,
            t.gettext(
                "Ask me, for example: “needs article 4 africa open”, “who can help with "
                "training”, “who is late”, “deadlines 6 months”, or the name of a State."
            ),
        )
    if question.topic in (Topic.NEEDS, Topic.OFFERS):
        kind = EntryKind.NEED if question.topic is Topic.NEEDS else EntryKind.OFFER
        page = await entries(session, kind, viewer, question.filters, limit=ANSWER_PAGE)
        count = found_text(t, page)
        footer = ""
        if page.more:
            footer = t.gettext(
                "Showing the {shown} newest; add words to narrow the question.",
                shown=len(page.items),
            )
        return Reply(
            t.language,
            subject,
            f"{understood} {count}",
            sections=tuple(_entry_section(e, t, names) for e in page.items),
            footer=footer,
        )
    if question.topic is Topic.OVERVIEW and question.filters.state:
        overview = await state_overview(session, question.filters.state, viewer)
        if overview is None:
            return Reply(t.language, subject, understood)
        return Reply(
            t.language,
            subject,
            understood,
            sections=tuple(_overview_sections(overview, t, today)),
        )
    if question.topic is Topic.DEADLINES:
        found = await upcoming_deadlines(session, today, question.months or DEFAULT_MONTHS)
        lines = tuple(f"{t.date(d.due)}: {name_of(d.iso3)} — {d.title}" for d in found)
        return Reply(
            t.language,
            subject,
            understood,
            sections=(Section(t.gettext("Deadlines"), lines),) if lines else (),
        )
    # Who is late and the yearly figures are public treaty facts; how often a State was
    # reminded is for the Coordinators, the ISU and that State's own delegates (as in Slack).
    if question.topic is Topic.OVERDUE:
        year = question.year or last_due_year(today)
        late = await overdue_reports(session, year, today)
        lines = tuple(
            t.ngettext(
                "{state}: {count} reminder sent",
                "{state}: {count} reminders sent",
                row.reminders,
                state=name_of(row.iso3),
            )
            if viewer.sees_everything or row.iso3 == viewer.state
            else name_of(row.iso3)
            for row in sorted(late, key=lambda row: fold(name_of(row.iso3)))
        )
        count = t.ngettext("{count} found.", "{count} found.", len(late))
        return Reply(
            t.language,
            subject,
            f"{understood} {count}",
            sections=(Section(t.gettext("Late"), lines),) if lines else (),
        )
    year = question.year or last_due_year(today)
    analysis = await yearly_analysis(session, year, today)
    figures = analysis.figures()
    return Reply(
        t.language,
        subject,
        understood,
        fields=tuple(
            (t.gettext(label), t.number(figures[key])) for key, label in STAT_LABELS.items()
        ),
    )
