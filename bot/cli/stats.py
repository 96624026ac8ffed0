"""``ccm-bot stats``: the ISU's yearly analysis of a reporting year (parties, reports, requests
and assistance, by article), with the States behind each number on request."""

from __future__ import annotations

from datetime import datetime

import click

from bot.cli.base import DAY, Env, echo_json, echo_table, json_option, with_store
from bot.cli.viewing import today_of
from handlers.i18n import _
from handlers.questions import last_due_year
from handlers.stats import (
    ARTICLE_GROUP_LABELS,
    ARTICLE_GROUPS,
    GROUPS,
    STAT_LABELS,
    yearly_analysis,
)


@click.command()
@click.option(
    "--year",
    type=click.IntRange(2010, 2100),
    help="Reporting year (reports due 30 April of the next); default: the last one due.",
)
@click.option(
    "--as-of", "as_of", type=DAY, help="Count as on this day (YYYY-MM-DD); default today."
)
@click.option("--names", "with_names", is_flag=True, help="List the States behind each number.")
@json_option
@with_store
async def stats(
    env: Env, year: int | None, as_of: datetime | None, with_names: bool, as_json: bool
) -> None:
    """The ISU's yearly analysis: parties, reports, requests and assistance, by article."""
    day = as_of.date() if as_of else today_of(env)
    year = year or last_due_year(day)
    async with env.store.transaction() as session:
        analysis = await yearly_analysis(session, year, day)
    figures = analysis.figures()
    names = analysis.names()
    if as_json:
        echo_json({**figures, "names": names} if with_names else figures)
        return

    def listed(people: list[dict[str, str]]) -> str:
        return ", ".join(p["iso3"] for p in people) if with_names else ""

    t = env.t
    click.echo(
        t.gettext(
            "Reporting year {year} (reports due {due}), as of {date}:",
            year=year,
            due=t.date(analysis.due),
            date=t.date(day),
        )
    )
    who = [_("Who")] if with_names else []
    echo_table(
        t,
        ["", _("States"), *who],
        [
            (
                t.gettext(STAT_LABELS[group]),
                t.number(figures[group]),
                *([listed(names[group])] if with_names else []),
            )
            for group in GROUPS
        ],
    )
    click.echo("")
    rows = []
    for article, counts in figures["by_article"].items():
        for group in ARTICLE_GROUPS:
            row = (
                t.gettext("Article {article}", article=article),
                t.gettext(ARTICLE_GROUP_LABELS[group]),
                t.number(counts[group]),
            )
            rows.append((*row, listed(names["by_article"][article][group])) if with_names else row)
    echo_table(t, ["", "", _("States"), *who], rows)
