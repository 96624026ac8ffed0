"""``ccm-bot needs list`` and ``ccm-bot offers list``: the records, filtered by words in English,
French or Spanish or by options, a page at a time, as the ISU or ``--as EMAIL`` would see them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from bot.cli.base import DAY, Env, echo_json, echo_table, json_option, with_store
from bot.cli.states import find_state
from bot.cli.viewing import as_option, entry_record, short, today_of, viewer_for
from handlers.i18n import _, translator
from handlers.questions import Filters, describe, parse_filters
from storage.listings import MAX_PAGE, REGIONS, entries
from storage.models import Category, EntryKind, EntryStatus
from storage.state_names import resolve_state_code

F = TypeVar("F", bound=Callable[..., Any])
# --json is read by programs: it says the same whatever CCM_ISU_LANGUAGE is.
ENGLISH = translator("en")


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


def filters_record(filters: Filters) -> dict[str, Any]:
    return {**filters.__dict__, "text": list(filters.text)}


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
                short(e.organisation or "", 30),
                e.article,
                e.category,
                e.status,
                e.visibility,
                f"{t.number(e.amount)} {e.currency}" if e.amount is not None else "",
                short(e.description),
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
