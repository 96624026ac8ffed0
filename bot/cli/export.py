"""``ccm-bot export``: needs, offers, reports or contacts written to CSV or XLSX in the columns
their import reads, so an edited export imports back; ``--as EMAIL`` leaves out what that person
may not see."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.base import Env, Failure, with_store
from bot.cli.viewing import as_option, today_of, viewer_for
from handlers.i18n import Translator
from handlers.questions import ExportKind, export_table


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
