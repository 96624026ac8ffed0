"""The yearly figures of a reporting year, and for the Coordinators and the ISU the States
behind them (the *Show the names* choice)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import Translator
from handlers.questions.ask import Answered, Ask, Asker
from handlers.questions.overdue import folded, reporting_year
from handlers.questions.parsing import Question, Topic
from handlers.questions.wording import describe_question
from handlers.replies import Reply, Section
from handlers.stats import (
    ARTICLE_GROUP_LABELS,
    ARTICLE_GROUPS,
    GROUPS,
    STAT_LABELS,
    yearly_analysis,
)
from storage.listings import Filters


async def stats_answer(
    session: AsyncSession, ask: Ask, asker: Asker, name_of: Callable[[str], str]
) -> Answered:
    t = asker.t
    year = reporting_year(ask, asker, "/ccm stats 2025")
    if not isinstance(year, int):
        return year
    analysis = await yearly_analysis(session, year, asker.today)
    figures = analysis.figures()
    question = Question(Topic.STATS, Filters(), year=year)
    intro = (
        describe_question(question, t, today=asker.today, state_name=name_of)
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
    listed = sorted((name_of(code) for code in codes), key=folded)
    return Section(title, (", ".join(listed) or "—",))
