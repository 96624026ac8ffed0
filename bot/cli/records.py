"""``ccm-bot contacts`` and ``ccm-bot import``: people and existing records from CSV or XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bot.cli.base import (
    Env,
    Failure,
    echo_json,
    echo_table,
    json_option,
    unknown_contact,
    with_store,
)
from bot.cli.states import CLI_ACTOR
from handlers.i18n import Translator, _
from handlers.imports import (
    ChangedMeanwhile,
    ImportKind,
    ImportRejected,
    ImportResult,
    TableError,
    run_import,
)
from storage.contacts import UnknownContact, forget_contact, list_contacts
from storage.models import Contact, Role
from storage.state_names import resolve_state_code

file_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Check every row and report, without writing anything."
)


async def import_file(env: Env, kind: ImportKind, file: Path, dry_run: bool) -> None:
    """Check, then write all rows or none; every bad row is listed with its line."""
    t = env.t
    label = t.gettext("Importing {kind}", kind=kind.value)
    with click.progressbar(length=0, label=label, show_pos=True) as bar:
        done = 0

        def advance(total: int) -> None:
            nonlocal done
            bar.length = max(bar.length or 0, total)
            bar.update(total - done)
            done = total

        try:
            # The store's transactions, not one of ours: the import checks the file in short
            # read transactions, stages its rows in short batches and publishes them in one
            # short write, so the running bot's writers are never kept waiting for long.
            result = await run_import(
                env.store.transaction,
                kind,
                file,
                actor=CLI_ACTOR,
                now=env.now(),
                resolve_state=resolve_state_code,
                dry_run=dry_run,
                progress=advance,
            )
        except ChangedMeanwhile as exc:
            raise Failure(
                t.gettext(
                    "{reference} was changed while {file} was checked; nothing was imported. "
                    "Run the import again.",
                    reference=exc,
                    file=file,
                )
            ) from None
        except TableError as exc:
            raise Failure(f"{file}: {exc}") from None
        except ImportRejected as exc:
            lines = [
                t.gettext(
                    "{file}: refused, nothing was imported. Fix these rows and try again:",
                    file=file,
                )
            ]
            lines += [
                "  "
                + t.gettext(
                    "line {line}, {column}: {problem}",
                    line=e.line,
                    column=e.column,
                    problem=e.message,
                )
                for e in exc.errors
            ]
            raise Failure("\n".join(lines)) from None
    click.echo(_summary(t, result, dry_run))


def _summary(t: Translator, result: ImportResult, dry_run: bool) -> str:
    counts = {
        "added": t.number(result.created),
        "updated": t.number(result.updated),
        "unchanged": t.number(result.unchanged),
    }
    if dry_run:
        summary = t.ngettext(
            "{count} row checked: {added} would be added, {updated} would be updated, "
            "{unchanged} unchanged.",
            "{count} rows checked: {added} would be added, {updated} would be updated, "
            "{unchanged} unchanged.",
            result.rows,
            **counts,
        )
    else:
        summary = t.ngettext(
            "{count} row checked: {added} were added, {updated} were updated, "
            "{unchanged} unchanged.",
            "{count} rows checked: {added} were added, {updated} were updated, "
            "{unchanged} unchanged.",
            result.rows,
            **counts,
        )
    return "".join([summary, *("\n" + t.gettext("note: {note}", note=n) for n in result.notes)])


def contact_record(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "slack_user_id": contact.slack_user_id,
        "state": contact.state_iso3,
        "organisation": contact.organisation,
        "role": contact.role,
        "language": contact.language,
        "timezone": contact.timezone,
        "channel": contact.channel,
        "active": contact.active,
        "email_bouncing": contact.email_bouncing,
        "forgotten": contact.forgotten_at is not None,
    }


@click.group()
def contacts() -> None:
    """Delegates, coordinators, ISU staff and partners."""


@contacts.command("import")
@file_argument
@dry_run_option
@with_store
async def import_contacts(env: Env, file: Path, dry_run: bool) -> None:
    """Add or update contacts from a CSV or XLSX file (matched on email)."""
    await import_file(env, ImportKind.CONTACTS, file, dry_run)


@contacts.command("list")
@click.option("--state", help="Only this State (ISO3 or name).")
@click.option("--role", type=click.Choice([r.value for r in Role]), help="Only this role.")
@json_option
@with_store
async def list_(env: Env, state: str | None, role: str | None, as_json: bool) -> None:
    """List contacts."""
    code = (resolve_state_code(state) or state.upper()) if state else None
    async with env.store.transaction() as session:
        rows = await list_contacts(session, state=code, role=Role(role) if role else None)
    records = [contact_record(c) for c in rows]
    if as_json:
        echo_json(records)
        return
    t = env.t
    echo_table(
        t,
        [_("State"), _("Name"), _("Email"), _("Role"), _("Lang"), _("Channel"), _("Active")],
        [
            (
                r["state"],
                r["name"],
                r["email"],
                r["role"],
                r["language"] or t.gettext("(State's)"),
                r["channel"],
                t.gettext("yes") if r["active"] else t.gettext("no"),
            )
            for r in records
        ],
    )


@contacts.command()
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_store
async def forget(env: Env, email: str, yes: bool) -> None:
    """Erase a person's personal data on request; the records they logged stay, attributed to
    their State and role."""
    t = env.t
    if not yes and not click.confirm(t.gettext("Erase the personal data of {email}?", email=email)):
        raise click.Abort()
    try:
        async with env.store.transaction() as session:
            contact = await forget_contact(session, CLI_ACTOR, env.now(), email)
    except UnknownContact:
        raise unknown_contact(t, email) from None
    click.echo(
        t.gettext(
            "Forgotten: contact #{id} ({who}).",
            id=contact.id,
            who=contact.state_iso3 or contact.role,
        )
    )


def _import_command(kind: ImportKind, summary: str) -> click.Command:
    @with_store
    async def command(env: Env, file: Path, dry_run: bool) -> None:
        await import_file(env, kind, file, dry_run)

    return click.command(kind.value, help=summary)(file_argument(dry_run_option(command)))


@click.group("import")
def imports() -> None:
    """Import existing records (CSV or XLSX): reports, needs, capacities, assistance."""


for _kind, _summary_text in (
    (ImportKind.REPORTS, "Article 7 reports received."),
    (ImportKind.NEEDS, "Needs (requests for assistance)."),
    (ImportKind.CAPACITIES, "Capacities (offers to assist)."),
    (ImportKind.ASSISTANCE, "Assistance reported provided or received."),
):
    imports.add_command(_import_command(_kind, _summary_text))
