"""``ccm-bot states``: the treaty's facts about each State, loaded from the shipped data."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from bot.cli.base import Env, Failure, echo_json, echo_table, json_option, with_store
from handlers.i18n import _
from schedules.zones import UnknownZone, resolve_zone
from storage.audit import Actor
from storage.models import Obligation, State, Via
from storage.state_names import resolve_state_code, shipped_state_index
from storage.states import all_states, latest_deadline, load_states, override_state, state_by_code
from storage.treaty_data import TreatyData, TreatyDataError, load_treaty_data

CLI_ACTOR = Actor("command line", Via.CLI)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def find_state(env: Env, query: str) -> State:
    """The State a person named, or a Failure that suggests what they may have meant."""
    code = resolve_state_code(query) or query.strip().upper()
    async with env.store.transaction() as session:
        state = await state_by_code(session, code)
    if state is None:
        t = env.t
        suggestions = shipped_state_index().suggest(query)
        sentences = [
            t.gettext("no State matches {query}.", query=repr(query)),
            t.gettext("Did you mean: {names}?", names=", ".join(suggestions))
            if suggestions
            else "",
            t.gettext(
                "Use an ISO3 code (e.g. LAO) or a name in English, French or Spanish; "
                "run `ccm-bot states load` if the list is empty."
            ),
        ]
        raise Failure(" ".join(s for s in sentences if s))
    return state


def state_record(state: State) -> dict[str, Any]:
    return {
        "iso3": state.iso3,
        "name": {"en": state.name_en, "fr": state.name_fr, "es": state.name_es},
        "region": state.region,
        "status": state.status,
        "status_date": state.status_date,
        "instrument_deposited": state.instrument_deposited,
        "entry_into_force": state.entry_into_force,
        "entry_into_force_basis": state.entry_into_force_basis,
        "language": state.language,
        "timezone": state.timezone,
        "weekend": [DAY_NAMES[d] for d in state.weekend],
        "overridden": state.overridden,
        "source": state.source,
    }


def obligation_record(obligation: Obligation) -> dict[str, Any]:
    return {
        "article": obligation.article,
        "original_deadline": obligation.original_deadline,
        "original_basis": obligation.original_basis,
        "original_source": obligation.original_source,
        "extensions": [
            {"deadline": e.deadline, "basis": e.basis, "source": e.source, "note": e.note}
            for e in obligation.extensions
        ],
        "deadline_in_force": latest_deadline(obligation),
        "completed": obligation.is_completed,
        "completed_on": obligation.completed_on,
        "completed_note": obligation.completed_note,
        "completed_source": obligation.completed_source,
        "notes": obligation.notes,
    }


@click.group()
def states() -> None:
    """The States Parties (and signatories): load, list, show, correct."""


@states.command("load")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@with_store
async def load(env: Env, file: Path | None) -> None:
    """Load the shipped treaty data, or a corrected States file (safe to repeat)."""
    try:
        data: TreatyData = load_treaty_data(states_path=file)
    except TreatyDataError as exc:
        raise Failure(str(exc)) from None
    t = env.t
    with click.progressbar(length=len(data.states), label=t.gettext("Loading States")) as bar:
        async with env.store.transaction() as session:
            result = await load_states(session, data, CLI_ACTOR, env.now(), progress=bar.update)
    click.echo(
        t.ngettext(
            "{count} State read: {added} added, {updated} updated, {unchanged} unchanged.",
            "{count} States read: {added} added, {updated} updated, {unchanged} unchanged.",
            len(data.states),
            added=t.number(result.created),
            updated=t.number(result.updated),
            unchanged=t.number(result.unchanged),
        )
    )


@states.command("list")
@json_option
@with_store
async def list_(env: Env, as_json: bool) -> None:
    """List every State with its entry into force and status."""
    async with env.store.transaction() as session:
        rows = await all_states(session)
    if as_json:
        echo_json([state_record(s) for s in rows])
        return
    echo_table(
        env.t,
        ["ISO3", _("Name"), _("Status"), _("Entry into force"), "", _("Language"), _("Time zone")],
        [
            (
                s.iso3,
                s.name(env.t.language),
                s.status,
                s.entry_into_force,
                s.entry_into_force_basis,
                s.language,
                s.timezone,
            )
            for s in rows
        ],
    )


@states.command("show")
@click.argument("name")
@json_option
@with_store
async def show(env: Env, name: str, as_json: bool) -> None:
    """One State's facts and obligations. NAME: ISO3 code or a name in en/fr/es."""
    state = await find_state(env, name)
    record = state_record(state) | {
        "obligations": [obligation_record(o) for o in state.obligations]
    }
    if as_json:
        echo_json(record)
        return
    t = env.t

    def day(value: date | None) -> str:
        return t.date(value) if value is not None else "—"

    status = state.status.value
    if state.status_date:
        status += " " + t.gettext("since {date}", date=day(state.status_date))
    set_here = ", ".join(state.overridden)
    facts = [
        t.gettext("status: {status}", status=status),
        t.gettext("region: {region}", region=state.region),
    ]
    if state.entry_into_force:  # a signatory has none
        facts.append(
            t.gettext(
                "entry into force: {date} ({basis}); instrument deposited {deposited}",
                date=day(state.entry_into_force),
                basis=state.entry_into_force_basis,
                deposited=day(state.instrument_deposited),
            )
        )
    facts.append(
        t.gettext(
            "language {language}, time zone {zone}, weekend {weekend}",
            language=state.language,
            zone=state.timezone,
            weekend=", ".join(record["weekend"]),
        )
        + (" " + t.gettext("(set by the ISU: {fields})", fields=set_here) if set_here else "")
    )
    for obligation in state.obligations:
        article = obligation.article
        facts.append(
            t.gettext("Article {article}: completed", article=article)
            if obligation.is_completed
            else t.gettext(
                "Article {article}: due {date}",
                article=article,
                date=day(latest_deadline(obligation)),
            )
        )
        if obligation.original_deadline:
            original = t.gettext(
                "original {date} ({basis})",
                date=day(obligation.original_deadline),
                basis=obligation.original_basis,
            )
            facts.append(f"  {original}")
        facts += [
            "  " + t.gettext("extended to {date} ({note})", date=day(e.deadline), note=e.note)
            for e in obligation.extensions
        ]
    facts.append(t.gettext("source: {source}", source=state.source))
    click.echo(f"{state.name_en} ({state.iso3}) — {state.name_fr} / {state.name_es}")
    for fact in facts:
        click.echo(f"  {fact}")


def _parse_weekend(env: Env, text: str) -> list[int]:
    days = [d.strip().lower()[:3] for d in text.split(",") if d.strip()]
    unknown = [d for d in days if d not in DAY_NAMES]
    if unknown or not days:
        raise click.BadParameter(env.t.gettext("give day names separated by commas, e.g. fri,sat"))
    return sorted({DAY_NAMES.index(d) for d in days})


@states.command("set")
@click.argument("name")
@click.option("--language", type=click.Choice(["en", "fr", "es"]), help="Language of reminders.")
@click.option("--timezone", help="IANA time zone, e.g. Asia/Beirut.")
@click.option("--weekend", help="Rest days, e.g. fri,sat.")
@click.option("--region", help="Region (Africa, Americas, Asia, Europe, Middle East, Pacific).")
@with_store
async def set_(
    env: Env,
    name: str,
    language: str | None,
    timezone: str | None,
    weekend: str | None,
    region: str | None,
) -> None:
    """Correct a State's defaults; later loads keep what is set here."""
    changes: dict[str, Any] = {}
    if language:
        changes["language"] = language
    if timezone:
        try:
            changes["timezone"] = resolve_zone(timezone).key
        except UnknownZone as exc:
            raise click.BadParameter(str(exc), param_hint="--timezone") from None
    if weekend:
        changes["weekend"] = _parse_weekend(env, weekend)
    if region:
        changes["region"] = region
    if not changes:
        raise click.UsageError(
            env.t.gettext("say what to change: --language, --timezone, --weekend or --region")
        )
    state = await find_state(env, name)
    async with env.store.transaction() as session:
        fresh = await state_by_code(session, state.iso3)
        assert fresh is not None
        await override_state(session, CLI_ACTOR, env.now(), fresh, **changes)
    shown = changes | (
        {"weekend": ",".join(DAY_NAMES[d] for d in changes["weekend"])} if weekend else {}
    )
    said = ", ".join(
        env.t.gettext("{setting} set to {value}", setting=k, value=v) for k, v in shown.items()
    )
    click.echo(env.t.gettext("{label}: {value}", label=state.name(env.t.language), value=said))
