"""``ccm-bot needs|offers list``, ``overview``, ``overdue``, ``deadlines list``, ``export``,
``stats``: the questions the Coordinators and the ISU ask.

The command line is the ISU's tool, so it sees everything unless told to look as someone else
(``--as EMAIL``): then it shows exactly what that person would see in Slack or by email.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.base import Env, Failure, echo_json, echo_table, json_option, with_store
from bot.cli.reminders import deadlines
from bot.cli.states import find_state
from handlers.i18n import translator
from handlers.queries import (
    ExportKind,
    Filters,
    describe,
    export_table,
    last_due_year,
    overdue_reports,
    parse_filters,
    upcoming_deadlines,
)
from handlers.stats import ARTICLE_GROUPS, GROUPS, STAT_LABELS, yearly_analysis
from storage.contacts import contact_by_email
from storage.models import Category, Entry, EntryKind, EntryStatus
from storage.queries import ISU, MAX_PAGE, REGIONS, Viewer, entries, state_overview
from storage.state_names import resolve_state_code
from storage.states import latest_deadline

F = TypeVar("F", bound=Callable[..., Any])
EN = translator("en")

as_option = click.option(
    "--as",
    "as_email",
    metavar="EMAIL",
    help="See what this contact may see (their role and State); default: the ISU, everything.",
)


async def viewer_for(session: AsyncSession, email: str | None) -> Viewer:
    if email is None:
        return ISU
    contact = await contact_by_email(session, email)
    if contact is None:
        raise Failure(f"no contact has the address {email!r}; see `ccm-bot contacts list`")
    return Viewer.of(contact)


def today_of(env: Env) -> date:
    """Today at the secretariat, the ISU's day."""
    return env.now().astimezone(env.settings.zone).date()


# --- needs and offers ----------------------------------------------------------------------


def filter_options(function: F) -> F:
    for decorator in reversed(
        (
            click.argument("words", nargs=-1),
            click.option("--state", help="ISO3 code or a name in English, French or Spanish."),
            click.option("--article", type=click.IntRange(3, 6), help="Treaty article, 3 to 6."),
            click.option("--category", type=click.Choice([c.value for c in Category])),
            click.option("--region", type=click.Choice(sorted(REGIONS))),
            click.option("--status", type=click.Choice([s.value for s in EntryStatus])),
            click.option(
                "--since",
                type=click.DateTime(["%Y-%m-%d"]),
                help="Recorded on or after this day (YYYY-MM-DD).",
            ),
            click.option(
                "--limit",
                type=click.IntRange(1, MAX_PAGE),
                default=50,
                show_default=True,
                help="Rows per page.",
            ),
            click.option("--offset", type=click.IntRange(0), default=0, help="Rows to skip."),
            as_option,
            json_option,
        )
    ):
        function = decorator(function)
    return function


async def build_filters(
    env: Env,
    words: tuple[str, ...],
    *,
    state: str | None,
    article: int | None,
    category: str | None,
    region: str | None,
    status: str | None,
    since: datetime | None,
) -> Filters:
    """Filters from the words, each option overriding what the words said."""
    parsed = parse_filters(" ".join(words), resolve_state=resolve_state_code, today=today_of(env))
    changes: dict[str, Any] = {}
    if state:
        changes["state"] = (await find_state(env.store, state)).iso3
    if article is not None:
        changes["article"] = article
    if category:
        changes["category"] = Category(category)
    if region:
        changes["region"] = region
    if status:
        changes["status"] = EntryStatus(status)
    if since is not None:
        changes["since"] = since.date()
    return Filters(**{**parsed.__dict__, **changes})


def entry_record(entry: Entry) -> dict[str, Any]:
    return {
        "reference": entry.reference,
        "kind": entry.kind,
        "state": entry.state_iso3,
        "organisation": entry.organisation,
        "article": entry.article,
        "category": entry.category,
        "description": entry.description,
        "amount": entry.amount,
        "currency": entry.currency,
        "period_start": entry.period_start,
        "period_end": entry.period_end,
        "focus": entry.focus,
        "status": entry.status,
        "visibility": entry.visibility,
        "created_at": entry.created_at,
    }


def filters_record(filters: Filters) -> dict[str, Any]:
    return {**filters.__dict__, "text": list(filters.text)}


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


async def list_entries(
    env: Env,
    kind: EntryKind,
    words: tuple[str, ...],
    options: dict[str, Any],
) -> None:
    as_email, as_json = options.pop("as_email"), options.pop("as_json")
    limit, offset = options.pop("limit"), options.pop("offset")
    filters = await build_filters(env, words, **options)
    async with env.store.transaction() as session:
        viewer = await viewer_for(session, as_email)
        page = await entries(
            session, kind, viewer, filters, limit=limit, offset=offset, exact_total=True
        )
    understood = describe(filters, EN, kind)
    if as_json:
        echo_json(
            {
                "understood": understood,
                "filters": filters_record(filters),
                "total": page.total,
                "limit": page.limit,
                "offset": page.offset,
                "items": [entry_record(e) for e in page.items],
            }
        )
        return
    click.echo(f"{understood}: {page.total} found.")
    if not page.items:
        return
    echo_table(
        ["Reference", "State", "Organisation", "Art.", "Category", "Status", "Seen by", "Amount",
         "Description"],
        [
            (
                e.reference,
                e.state_iso3,
                _short(e.organisation or "", 30),
                e.article,
                e.category,
                e.status,
                e.visibility,
                f"{e.amount} {e.currency}" if e.amount is not None else "",
                _short(e.description),
            )
            for e in page.items
        ],
    )  # fmt: skip
    if page.more:
        shown = f"{page.offset + 1} to {page.offset + len(page.items)}"
        click.echo(
            f"Rows {shown} of {page.total}, newest first; "
            f"--offset {page.offset + len(page.items)} for the next page."
        )


@click.group()
def needs() -> None:
    """Requests for assistance."""


@click.group()
def offers() -> None:
    """Capacities to assist (offers)."""


@needs.command("list")
@filter_options
@with_store
async def list_needs(env: Env, words: tuple[str, ...], **options: Any) -> None:
    """List needs, newest first. WORDS filter in English, French or Spanish, e.g.
    `article 4 africa open` or `besoins article 5 afrique ouverts`."""
    await list_entries(env, EntryKind.NEED, words, options)


@offers.command("list")
@filter_options
@with_store
async def list_offers(env: Env, words: tuple[str, ...], **options: Any) -> None:
    """List offers, newest first. WORDS filter as for `needs list`, e.g. `training asia`."""
    await list_entries(env, EntryKind.OFFER, words, options)


# --- one State -----------------------------------------------------------------------------


@click.command()
@click.argument("state")
@as_option
@json_option
@with_store
async def overview(env: Env, state: str, as_email: str | None, as_json: bool) -> None:
    """One State at a glance: deadlines, reports, open needs and offers, people, reminders."""
    found = await find_state(env.store, state)
    async with env.store.transaction() as session:
        viewer = await viewer_for(session, as_email)
        seen = await state_overview(session, found.iso3, viewer)
    assert seen is not None
    record: dict[str, Any] = {
        "iso3": seen.state.iso3,
        "name": seen.state.name_en,
        "obligations": [
            {
                "article": o.article,
                "deadline_in_force": latest_deadline(o),
                "completed": o.is_completed,
            }
            for o in seen.obligations
        ],
        "custom_deadlines": [{"title": c.title, "due": c.due} for c in seen.custom_deadlines],
        "reports": [
            {"kind": r.kind, "year": r.year, "due": r.due, "submitted_on": r.submitted_on}
            for r in seen.reports
        ],
        "open_needs": [entry_record(e) for e in seen.needs],
        "open_needs_total": seen.needs_total,
        "offers": [entry_record(e) for e in seen.offers],
        "offers_total": seen.offers_total,
        "contacts": [
            {"name": c.name, "email": c.email, "role": c.role, "channel": c.channel}
            for c in seen.contacts
        ],
        "last_reminder_at": seen.last_reminder_at,
        "last_answer_at": seen.last_answer_at,
    }
    if as_json:
        echo_json(record)
        return
    click.echo(f"{record['name']} ({record['iso3']})")
    for o in record["obligations"]:
        if o["article"] not in (3, 4):
            continue  # Article 7 is the initial report, listed with the reports
        what = "completed" if o["completed"] else f"deadline {o['deadline_in_force']}"
        click.echo(f"  Article {o['article']}: {what}")
    for c in record["custom_deadlines"]:
        click.echo(f"  {c['title']}: {c['due']}")
    annual = [r for r in record["reports"] if r["kind"] == "annual"]
    click.echo(
        "  Article 7 reports received: "
        + (", ".join(f"{r['year']} on {r['submitted_on']}" for r in annual[-5:]) or "none")
    )
    for label, listed, total in (
        ("Open needs", record["open_needs"], record["open_needs_total"]),
        ("Offers", record["offers"], record["offers_total"]),
    ):
        click.echo(f"  {label}: {total}")
        for e in listed[:10]:
            click.echo(f"    {e['reference']}  {e['status']}  {_short(e['description'])}")
    click.echo(f"  Contacts: {', '.join(c['name'] for c in record['contacts']) or 'none'}")
    click.echo(f"  Last reminder sent: {record['last_reminder_at'] or 'never'}")
    click.echo(f"  Last answer: {record['last_answer_at'] or 'never'}")


# --- who is late, what falls due -----------------------------------------------------------


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
    if not records:
        click.echo(f"No annual report covering {year} is overdue on {today}.")
        return
    click.echo(f"{len(records)} States have not sent their report covering {year} (due "
               f"{records[0]['due']}):")  # fmt: skip
    echo_table(
        ["ISO3", "State", "Reminders", "Last reminder (UTC)", "Escalated"],
        [
            (
                r["iso3"],
                r["name"],
                r["reminders"],
                r["last_reminder_at"].strftime("%Y-%m-%d %H:%M") if r["last_reminder_at"] else "",
                "yes" if r["escalated"] else "",
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
    if not records:
        click.echo(f"No deadline in the next {months} months.")
        return
    echo_table(
        ["Due", "ISO3", "State", "What", "Extended"],
        [
            (r["due"], r["iso3"], r["name"], r["title"], "yes" if r["extended"] else "")
            for r in records
        ],
    )


# --- exports -------------------------------------------------------------------------------


@click.command("export")
@click.argument("kind", type=click.Choice([k.value for k in ExportKind]))
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), help="Default: csv.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)
@as_option
@with_store
async def export(
    env: Env, kind: str, fmt: str | None, output: Path | None, as_email: str | None
) -> None:
    """Write needs, offers, reports or contacts to CSV or XLSX, in the columns their import
    reads, so an edited export imports back."""
    if output is not None and output.suffix.lower() in (".csv", ".xlsx"):
        suffix = output.suffix.lower().lstrip(".")
        if fmt is not None and fmt != suffix:
            raise click.UsageError(f"--format {fmt} does not match the file name {output.name}")
        fmt = suffix
    fmt = fmt or "csv"
    if output is None:
        output = Path(f"{kind}-{today_of(env).isoformat()}.{fmt}")
    elif output.suffix.lower() != f".{fmt}":
        output = output.with_name(f"{output.name}.{fmt}")
    async with env.store.transaction() as session:
        viewer = await viewer_for(session, as_email)
        try:
            count = await export_table(session, ExportKind(kind), viewer, output)
        except OSError as exc:
            raise Failure(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"{count} {kind} written to {output}.")
    if not viewer.sees_everything and kind in ("needs", "offers"):
        click.echo("Records for the Coordinators only are not included.", err=True)


# --- the yearly figures --------------------------------------------------------------------


@click.command()
@click.option(
    "--year",
    type=click.IntRange(2010, 2100),
    help="Reporting year (reports due 30 April of the next); default: the last one due.",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Count as on this day; default today.",
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

    click.echo(f"Reporting year {year} (reports due {analysis.due}), as of {day}:")
    echo_table(
        ["", "States", *(["Who"] if with_names else [])],
        [
            (STAT_LABELS[group], figures[group], *([listed(names[group])] if with_names else []))
            for group in GROUPS
        ],
    )
    click.echo("")
    rows = []
    for article, counts in figures["by_article"].items():
        for group in ARTICLE_GROUPS:
            people = names["by_article"][article][group]
            row = (f"Article {article}", group.replace("_", " "), counts[group])
            rows.append((*row, listed(people)) if with_names else row)
    echo_table(["", "", "States", *(["Who"] if with_names else [])], rows)
