"""``ccm-bot overdue`` and ``ccm-bot deadlines list``: who is late with an annual report (and the
reminders each was sent), and what falls due in the coming months."""

from __future__ import annotations

from typing import Any

import click

from bot.cli.base import Env, echo_json, echo_table, json_option, with_store
from bot.cli.reminders import deadlines
from bot.cli.viewing import names_of_states, today_of
from handlers.i18n import _
from handlers.questions import last_due_year, overdue_reports, upcoming_deadlines


@click.command("overdue")
@click.argument("year", type=click.IntRange(2010, 2100), required=False)
@json_option
@with_store
async def overdue_command(env: Env, year: int | None, as_json: bool) -> None:
    """States whose annual report covering YEAR is missing after 30 April of the next year,
    with the reminders each was sent. YEAR: the last one already due, if left out."""
    today = today_of(env)
    year = year or last_due_year(today)
    async with env.store.transaction() as session:
        late = await overdue_reports(session, year, today)
        name_of = await names_of_states(env, session)
    records: list[dict[str, Any]] = [
        {
            "iso3": row.iso3,
            "name": row.name,
            "due": row.due,
            "reminders": row.reminders,
            "last_reminder_at": row.last_reminder_at,
            "reminded_at": list(row.reminded_at),
            "escalated": row.escalated,
        }
        for row in late
    ]
    if as_json:
        echo_json({"year": year, "as_of": today, "count": len(records), "states": records})
        return
    t = env.t
    if not records:
        click.echo(
            t.gettext(
                "No annual report covering {year} is overdue on {date}.",
                year=year,
                date=t.date(today),
            )
        )
        return
    click.echo(
        t.ngettext(
            "{count} State has not sent its report covering {year} (due {date}):",
            "{count} States have not sent their report covering {year} (due {date}):",
            len(records),
            year=year,
            date=t.date(records[0]["due"]),
        )
    )
    echo_table(
        t,
        ["ISO3", _("State"), _("Reminders"), _("Last reminder (UTC)"), _("Escalated")],
        [
            (
                r["iso3"],
                name_of(r["iso3"]),
                t.number(r["reminders"]),
                r["last_reminder_at"].strftime("%Y-%m-%d %H:%M") if r["last_reminder_at"] else "",
                t.gettext("yes") if r["escalated"] else "",
            )
            for r in records
        ],
    )


@deadlines.command("list")
@click.argument("months", type=click.IntRange(0, 240), required=False, default=12)
@json_option
@with_store
async def list_deadlines(env: Env, months: int, as_json: bool) -> None:
    """Article 3 and 4 deadlines in force and added dates in the next MONTHS (12), soonest first."""
    today = today_of(env)
    async with env.store.transaction() as session:
        found = await upcoming_deadlines(session, today, months)
        name_of = await names_of_states(env, session)
    records = [
        {
            "iso3": d.iso3,
            "name": d.name,
            "due": d.due,
            "article": d.article,
            "title": d.title,
            "extended": d.extended,
            "source": d.source,
        }
        for d in found
    ]
    if as_json:
        echo_json({"from": today, "months": months, "deadlines": records})
        return
    t = env.t
    if not records:
        click.echo(
            t.ngettext(
                "No deadline in the next {count} month.",
                "No deadline in the next {count} months.",
                months,
            )
        )
        return
    echo_table(
        t,
        [_("Due"), "ISO3", _("State"), _("What"), _("Extended")],
        [
            (
                d.due,
                d.iso3,
                name_of(d.iso3),
                t.gettext("Article {article}", article=d.article) if d.article else d.title,
                t.gettext("yes") if d.extended else "",
            )
            for d in found
        ],
    )
