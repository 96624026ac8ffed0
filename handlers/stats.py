"""The ISU's yearly analysis of a reporting year, every number with the States behind it.

For a reporting year Y (annual Article 7 reports covering Y, due 30 April Y+1) and an as-of day:

- ``states_parties``: States for which the Convention was in force on the as-of day and whose
  withdrawal, if any, had not taken effect by then.
- ``reports_submitted``: those parties whose annual report covering Y was received on or before
  the as-of day; ``reports_on_time``: of those, received on or before the report's due date.
- Of the States that reported:
  - ``requested``: recorded a need in Y (a need whose reference year is Y, created by the as-of
    day; whatever its status or visibility, withdrawn ones included: they were requests).
  - ``provided`` / ``received``: reported assistance provided / received for Y (assistance
    records of year Y, direction provided / received, the State being the reporting State).
  - ``provided_increased`` / ``provided_decreased``: providers in Y whose totals went up / down
    from Y-1. Amounts are summed per currency, never converted; only currencies the State used in
    both years are compared. Increased: no such currency fell and one rose; decreased: none rose
    and one fell. ``provided_not_comparable``: no currency in both years (no amount, or a new
    provider), or one rose while another fell. A provider whose totals are equal is in none.
- ``by_article`` "3", "4", "5":
  - ``with_obligations``: parties with that obligation not completed before 1 January Y (a
    completion recorded without a date counts as earlier). Article 5 obligations are not in the
    treaty data, so for "5" this is also every party that recorded an Article 5 need or reported
    receiving Article 5 assistance in Y or earlier.
  - ``requested`` / ``received`` / ``providers``: of the States that reported, those that recorded
    a need for that article in Y / reported receiving / providing assistance for it in Y.

The analysis is the ISU's: it counts every record, including those marked for the Coordinators
only. Lists of names go to the ISU, not to delegates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import _
from schedules.calendar import annual_report_due
from storage.models import Direction
from storage.yearly_figures import YearFacts, year_facts

ARTICLES = ("3", "4", "5")
GROUPS = (
    "states_parties",
    "reports_submitted",
    "reports_on_time",
    "requested",
    "provided",
    "received",
    "provided_increased",
    "provided_decreased",
    "provided_not_comparable",
)
ARTICLE_GROUPS = ("with_obligations", "requested", "received", "providers")

STAT_LABELS: Mapping[str, str] = {
    "states_parties": _("States Parties"),
    "reports_submitted": _("Reports received"),
    "reports_on_time": _("Reports received on time"),
    "requested": _("Reported States that requested assistance"),
    "provided": _("Reported States that provided assistance"),
    "received": _("Reported States that received assistance"),
    "provided_increased": _("Providers that gave more than the year before"),
    "provided_decreased": _("Providers that gave less than the year before"),
    "provided_not_comparable": _("Providers that cannot be compared with the year before"),
}
ARTICLE_GROUP_LABELS: Mapping[str, str] = {
    "with_obligations": _("States Parties with obligations"),
    "requested": _("Reported States that requested assistance"),
    "received": _("Reported States that received assistance"),
    "providers": _("Reported States that provided assistance"),
}


@dataclass(frozen=True)
class ArticleFigures:
    with_obligations: tuple[str, ...]
    requested: tuple[str, ...]
    received: tuple[str, ...]
    providers: tuple[str, ...]


@dataclass(frozen=True)
class YearlyAnalysis:
    """The figures of a reporting year; each group is the ISO3 codes behind one number."""

    year: int
    as_of: date
    due: date
    states_parties: tuple[str, ...]
    reports_submitted: tuple[str, ...]
    reports_on_time: tuple[str, ...]
    requested: tuple[str, ...]
    provided: tuple[str, ...]
    received: tuple[str, ...]
    provided_increased: tuple[str, ...]
    provided_decreased: tuple[str, ...]
    provided_not_comparable: tuple[str, ...]
    by_article: dict[str, ArticleFigures]
    state_names: dict[str, str]

    def group(self, name: str) -> tuple[str, ...]:
        if name not in GROUPS:
            raise KeyError(name)
        codes: tuple[str, ...] = getattr(self, name)
        return codes

    def figures(self) -> dict[str, Any]:
        """The numbers, as the JSON of ``ccm-bot stats`` gives them."""
        return {
            "year": self.year,
            "as_of": self.as_of,
            "due": self.due,
            **{name: len(self.group(name)) for name in GROUPS},
            "by_article": {
                article: {group: len(getattr(figures, group)) for group in ARTICLE_GROUPS}
                for article, figures in self.by_article.items()
            },
        }

    def names(self) -> dict[str, Any]:
        """The States behind each number: ISO3 and English name, in the figures' shape."""

        def listed(codes: Iterable[str]) -> list[dict[str, str]]:
            return [{"iso3": code, "name": self.state_names.get(code, code)} for code in codes]

        return {
            **{name: listed(self.group(name)) for name in GROUPS},
            "by_article": {
                article: {group: listed(getattr(figures, group)) for group in ARTICLE_GROUPS}
                for article, figures in self.by_article.items()
            },
        }


def compare_totals(
    this_year: Mapping[str, Decimal], last_year: Mapping[str, Decimal]
) -> str | None:
    """ "increased", "decreased", "not_comparable", or None when the totals are equal."""
    shared = sorted(set(this_year) & set(last_year))
    if not shared:
        return "not_comparable"
    deltas = [this_year[currency] - last_year[currency] for currency in shared]
    rose, fell = any(d > 0 for d in deltas), any(d < 0 for d in deltas)
    if rose and fell:
        return "not_comparable"
    if rose:
        return "increased"
    if fell:
        return "decreased"
    return None


def analyse(facts: YearFacts, due: date) -> YearlyAnalysis:
    """Count what ``facts`` holds, by the rules in this module's docstring."""
    year = facts.year
    names = facts.names

    def ordered(codes: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(codes), key=lambda code: (names.get(code, code), code)))

    parties = facts.parties
    reported = {iso3 for iso3 in facts.reports if iso3 in parties}
    on_time = {
        iso3
        for iso3 in reported
        if (submitted := facts.reports[iso3].submitted_on) is not None
        and submitted <= facts.reports[iso3].due
    }
    requested_articles: dict[str, set[int | None]] = defaultdict(set)
    for iso3, article in facts.need_articles:
        if iso3 in reported:
            requested_articles[iso3].add(article)
    given: dict[str, set[int | None]] = defaultdict(set)
    got: dict[str, set[int | None]] = defaultdict(set)
    for iso3, direction, article in facts.assisted:
        if iso3 in reported:
            (given if direction is Direction.PROVIDED else got)[iso3].add(article)
    totals = facts.provided_totals

    compared: dict[str, set[str]] = defaultdict(set)
    for iso3 in given:
        verdict = compare_totals(totals.get((iso3, year), {}), totals.get((iso3, year - 1), {}))
        if verdict is not None:
            compared[verdict].add(iso3)

    start = date(year, 1, 1)
    by_article: dict[str, ArticleFigures] = {}
    for article_text in ARTICLES:
        article = int(article_text)
        bound = {
            line.state
            for line in facts.obligations
            if line.article == article
            and line.state in parties
            and not line.completed_without_date
            and (line.completed_on is None or line.completed_on >= start)
        }
        if article == 5:
            bound |= facts.art5_history & parties
        by_article[article_text] = ArticleFigures(
            with_obligations=ordered(bound),
            requested=ordered(s for s, arts in requested_articles.items() if article in arts),
            received=ordered(s for s, arts in got.items() if article in arts),
            providers=ordered(s for s, arts in given.items() if article in arts),
        )
    return YearlyAnalysis(
        year=year,
        as_of=facts.as_of,
        due=due,
        states_parties=ordered(parties),
        reports_submitted=ordered(reported),
        reports_on_time=ordered(on_time),
        requested=ordered(requested_articles),
        provided=ordered(given),
        received=ordered(got),
        provided_increased=ordered(compared["increased"]),
        provided_decreased=ordered(compared["decreased"]),
        provided_not_comparable=ordered(compared["not_comparable"]),
        by_article=by_article,
        state_names=names,
    )


async def yearly_analysis(session: AsyncSession, year: int, as_of: date) -> YearlyAnalysis:
    """The ISU's figures for reporting year ``year`` as they stood on ``as_of``."""
    return analyse(await year_facts(session, year, as_of), annual_report_due(year))
