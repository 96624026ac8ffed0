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

from bot.cli.base import (
    DAY,
    Env,
    Failure,
    echo_json,
    echo_table,
    json_option,
    unknown_contact,
    with_store,
)
from bot.cli.reminders import deadlines
from bot.cli.states import find_state
from handlers.i18n import Translator, _, translator
from handlers.questions import (
    ExportKind,
    Filters,
    deadline_lines,
    describe,
    export_table,
    last_due_year,
    overdue_reports,
    parse_filters,
    upcoming_deadlines,
)
from handlers.stats import (
    ARTICLE_GROUP_LABELS,
    ARTICLE_GROUPS,
    GROUPS,
    STAT_LABELS,
    yearly_analysis,
)
from storage.contacts import contact_by_email
from storage.models import Category, Entry, EntryKind, EntryStatus, ReportKind
from storage.queries import MAX_PAGE, REGIONS, entries, state_names, state_overview
from storage.state_names import resolve_state_code
from storage.states import latest_deadline
from storage.visibility import ISU, Viewer

F = TypeVar("F", bound=Callable[..., Any])
# --json is read by programs: it says the same whatever CCM_ISU_LANGUAGE is.
ENGLISH = translator("en")

as_option = click.option(
    "--as",
    "as_email",
    metavar="EMAIL",
    help="See what this contact may see (their role and State); default: the ISU, everything.",
)


async def viewer_for(env: Env, session: AsyncSession, email: str | None) -> Viewer:
    if email is None:
        return ISU
    contact = await contact_by_email(session, email)
    if contact is None:
        raise unknown_contact(env.t, email)
    return Viewer.of(contact)


async def names_of_states(env: Env, session: AsyncSession) -> Callable[[str], str]:
    """Each State's name in the ISU's language (its code if the store does not know it)."""
    names = await state_names(session)
    return lambda iso3: names[iso3].name(env.t.language) if iso3 in names else iso3


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
            click.option("--since", type=DAY, help="Recorded on or after this day (YYYY-MM-DD)."),
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
        changes["state"] = (await find_state(env, state)).iso3
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
        viewer = await viewer_for(env, session, as_email)
        page = await entries(
            session, kind, viewer, filters, limit=limit, offset=offset, exact_total=True
        )
    if as_json:
        echo_json(
            {
                "understood": describe(filters, ENGLISH, kind),
                "filters": filters_record(filters),
                "total": page.total,
                "limit": page.limit,
                "offset": page.offset,
                "items": [entry_record(e) for e in page.items],
            }
        )
        return
    t = env.t
    found = t.ngettext("{count} found.", "{count} found.", page.total)
    click.echo(t.gettext("{label}: {value}", label=describe(filters, t, kind), value=found))
    if not page.items:
        return
    echo_table(
        t,
        [_("Reference"), _("State"), _("Organisation"), _("Art."), _("Category"), _("Status"),
         _("Seen by"), _("Amount"), _("Description")],
        [
            (
                e.reference,
                e.state_iso3,
                _short(e.organisation or "", 30),
                e.article,
                e.category,
                e.status,
                e.visibility,
                f"{t.number(e.amount)} {e.currency}" if e.amount is not None else "",
                _short(e.description),
            )
            for e in page.items
        ],
    )  # fmt: skip
    if page.more:
        after = page.offset + len(page.items)
        click.echo(
            t.gettext(
                "Rows {first} to {last} of {total}, newest first; "
                "--offset {offset} for the next page.",
                first=t.number(page.offset + 1),
                last=t.number(after),
                total=t.number(page.total),
                offset=after,
            )
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
    found = await find_state(env, state)
    async with env.store.transaction() as session:
        viewer = await viewer_for(env, session, as_email)
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
    t = env.t

    def labelled(label: str, value: str) -> str:
        return t.gettext(
            "{label}: {value}", label=t.gettext(label), value=value or t.gettext("none")
        )

    def when(moment: datetime | None) -> str:
        return t.time(moment, env.settings.zone) if moment else t.gettext("never")

    received = [
        t.gettext("{year} on {date}", year=r.year, date=t.date(r.submitted_on))
        for r in seen.reports
        if r.kind is ReportKind.ANNUAL and r.submitted_on is not None
    ]
    lines = list(deadline_lines(seen, t, today_of(env)))
    lines.append(labelled(_("Article 7 reports received"), ", ".join(received[-5:])))
    for label, listed, total in (
        (_("Open needs"), seen.needs, seen.needs_total),
        (_("Offers"), seen.offers, seen.offers_total),
    ):
        lines.append(labelled(label, t.number(total)))
        lines += [f"  {e.reference}  {e.status}  {_short(e.description)}" for e in listed[:10]]
    lines += [
        labelled(_("Contacts"), ", ".join(c.name for c in seen.contacts)),
        t.gettext("Last reminder sent: {when}", when=when(seen.last_reminder_at)),
        t.gettext("Last answer: {when}", when=when(seen.last_answer_at)),
    ]
    click.echo(f"{seen.state.name(t.language)} ({seen.state.iso3})")
    for line in lines:
        click.echo(f"  {line}")


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
            raise click.UsageError(
                env.t.gettext(
                    "--format {format} does not match the file name {name}",
                    format=fmt,
                    name=output.name,
                )
            )
        fmt = suffix
    fmt = fmt or "csv"
    if output is None:
        output = Path(f"{kind}-{today_of(env).isoformat()}.{fmt}")
    elif output.suffix.lower() != f".{fmt}":
        output = output.with_name(f"{output.name}.{fmt}")
    async with env.store.transaction() as session:
        viewer = await viewer_for(env, session, as_email)
        try:
            count = await export_table(session, ExportKind(kind), viewer, output)
        except OSError as exc:
            raise Failure(
                env.t.gettext("cannot write {path}: {error}", path=output, error=exc.strerror)
            ) from None
    click.echo(_written(env.t, ExportKind(kind), count, output))
    if not viewer.sees_everything and kind in ("needs", "offers"):
        click.echo(env.t.gettext("Records for the Coordinators only are not included."), err=True)


def _written(t: Translator, kind: ExportKind, count: int, path: Path) -> str:
    match kind:
        case ExportKind.NEEDS:
            return t.ngettext(
                "{count} need written to {path}.",
                "{count} needs written to {path}.",
                count,
                path=path,
            )
        case ExportKind.OFFERS:
            return t.ngettext(
                "{count} offer written to {path}.",
                "{count} offers written to {path}.",
                count,
                path=path,
            )
        case ExportKind.REPORTS:
            return t.ngettext(
                "{count} report written to {path}.",
                "{count} reports written to {path}.",
                count,
                path=path,
            )
        case ExportKind.CONTACTS:
            return t.ngettext(
                "{count} contact written to {path}.",
                "{count} contacts written to {path}.",
                count,
                path=path,
            )


# --- the yearly figures --------------------------------------------------------------------


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
