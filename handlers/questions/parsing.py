"""Reading a question: words in English, French or Spanish into a `Question`.

A question ("article 4 africa open", « besoins article 5 afrique ouverts », "¿quién puede ayudar
con capacitación?") is read word by word into a `Question`: a topic and the `Filters` of a
listing. Words are recognised in this order, longest phrase first: an article ("article 4",
"art. 5"), a date after "since/depuis/desde", a year, a number of months, a region, a status, a
topic word ("needs", "offres", "plazos"), a category ("training", "déminage", "rehabilitación"),
then a State (any run of remaining words the caller's resolver knows: "Lao PDR", "Côte d'Ivoire",
an ISO3 code in capitals). What is left, except small words ("the", "les", "para"), becomes
free-text terms that the description must contain. So "training spanish" is training offers or
needs whose description says "spanish": a language is not a filter, and the reply says how it
read the question so the person can rephrase.

The reading also keeps how the text was put (``Question.asked``: it opens with a question word
or ends with "?"), so the conversation core decides "question or answer?" without reading the
text again (``handlers.questions.routing``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from handlers.questions.words import (
    NAME_JOINERS,
    OWN,
    QUESTION_WORDS,
    REGION_WORDS,
    STATUS_WORDS,
    STOPWORDS,
    TOPIC_WORDS,
    Topic,
)
from handlers.understanding._text import fold, normalise
from handlers.understanding.categories import find_category
from handlers.understanding.dates import MONTHS, find_date
from storage.listings import Filters
from storage.models import Category, EntryStatus

Resolver = Callable[[str], str | None]

__all__ = ["Question", "Resolver", "Topic", "parse_filters", "parse_question"]

MAX_QUESTION = 500  # characters read; a pasted document is not a question
MAX_TERMS = 5


@dataclass(frozen=True)
class Question:
    """What a free question asks: a topic, the filters of a listing, and what was not used.

    ``year`` is the reporting year for OVERDUE and STATS; ``months`` how far ahead for
    DEADLINES. ``own`` is True when the person said "our"/"nos"/"nuestras": their State.
    ``ignored`` lists what was read but could not be used ("article 9", a second State).
    ``said_topic`` is True when a topic word was written ("needs", "en retard"), not implied;
    ``asked`` when the text is put as a question: it opens with a question word (who, quels,
    quién…) or ends with "?".
    """

    topic: Topic
    filters: Filters
    year: int | None = None
    months: int | None = None
    own: bool = False
    ignored: tuple[str, ...] = ()
    said_topic: bool = False
    asked: bool = False
    opens_with_question_word: bool = False

    @property
    def structured(self) -> bool:
        """Whether it asks the records something they hold: a topic word, or a filter other
        than free words ("who can I write to?" names nothing the records know)."""
        return self.said_topic or replace(self.filters, text=()) != Filters()


# --- reading words -------------------------------------------------------------------------

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
_LETTERS = re.compile(r"[a-z]+")


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
            if phrase in REGION_WORDS:
                if reading.region is None:
                    reading.region = REGION_WORDS[phrase]
            elif phrase in STATUS_WORDS:
                if reading.status is None:
                    reading.status = EntryStatus(STATUS_WORDS[phrase])
            elif phrase in TOPIC_WORDS:
                if window[0].start < reading.topic_at:
                    reading.topic = Topic(TOPIC_WORDS[phrase])
                    reading.topic_at = window[0].start
            elif size == 1 and phrase in OWN:
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
            if any(t.folded in STOPWORDS and t.folded not in NAME_JOINERS for t in window):
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


def parse_question(
    text: str, *, resolve_state: Resolver, today: date, topic: Topic | None = None
) -> Question:
    """What a free question asks, and of which listing. Never raises.

    Without a topic word: a question naming only a State is its overview; one with any filter
    is about needs ("who needs what" is the usual question); an empty one gets help.
    ``topic`` is one the asker chose already (``/ccm needs …``): every word then filters, and
    a year stays a filter.
    """
    reading = _reading(text, resolve_state=resolve_state, today=today)
    filters = _filters(reading)
    said = reading.topic
    chosen = topic or said
    if chosen is None:
        if filters.state is not None and replace(filters, state=None).empty and not reading.own:
            chosen = Topic.OVERVIEW
        elif filters.empty and not reading.own:
            chosen = Topic.HELP
        else:
            chosen = Topic.NEEDS
    year = None
    if topic is None and chosen in (Topic.OVERDUE, Topic.STATS):
        year, filters = filters.year, replace(filters, year=None)
    words = _LETTERS.findall(reading.folded)
    opens = bool(words) and words[0] in QUESTION_WORDS
    return Question(
        topic=chosen,
        filters=filters,
        year=year,
        months=reading.months,
        own=reading.own,
        ignored=tuple(reading.ignored),
        said_topic=said is not None,
        asked=opens or reading.original.rstrip().endswith("?"),
        opens_with_question_word=opens,
    )
