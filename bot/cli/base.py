"""What every command shares: settings, the store, JSON output, one-line errors, exit codes.

Exit codes: 0 ok, 1 failure (a clear one-line message), 2 usage error (click's own).

What a person reads is in the ISU's language (``CCM_ISU_LANGUAGE``), through ``Env.t``; what
programs read (``--json``, exported files), ``--help`` and command and option names stay English.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.settings import Settings, SettingsError, load_settings
from handlers.i18n import Translator, _, translator
from schedules.clock import Clock, SystemClock
from storage.db import Store, open_store
from storage.models import MessageStatus

T = TypeVar("T")


class Failure(click.ClickException):
    """A problem the user can fix; shown as one line, exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"ccm-bot: {self.format_message()}", err=True)


def unknown_contact(t: Translator, email: str) -> Failure:
    return Failure(
        t.gettext(
            "no contact has the address {email}; see `ccm-bot contacts list`", email=repr(email)
        )
    )


@dataclass
class Context:
    """What the group hands every command: settings (read on first use) and the clock."""

    debug: bool = False
    clock: Clock = field(default_factory=SystemClock)
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except SettingsError as exc:
                # In English: the settings that would name the ISU's language are what is wrong.
                raise Failure(f"configuration: {exc}") from None
        return self._settings

    @property
    def t(self) -> Translator:
        """The ISU's language: whoever types a command is the ISU."""
        return translator(self.settings.isu_language)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks for unexpected errors.")
@click.version_option(package_name="ccm-bot")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """ccm-bot: reminders, records and queries for cooperation under the CCM."""
    ctx.obj = Context(debug=debug)


@dataclass(frozen=True)
class Env:
    """A running command's surroundings."""

    settings: Settings
    store: Store
    clock: Clock
    t: Translator

    def now(self) -> datetime:
        return self.clock.now()


def with_store(
    function: Callable[..., Awaitable[T]],
) -> Callable[..., T]:
    """Run an async command body with the migrated store, turning known errors into one line."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        context = click.get_current_context().find_object(Context)
        assert context is not None
        settings, t = context.settings, context.t

        async def body() -> T:
            store = await _open(settings, t)
            try:
                return await function(Env(settings, store, context.clock, t), *args, **kwargs)
            finally:
                await store.close()

        return run_async(body(), context)

    return wrapper


async def _open(settings: Settings, t: Translator) -> Store:
    try:
        return await open_store(settings.database_url)
    except (OperationalError, OSError) as exc:
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        raise Failure(
            t.gettext(
                "cannot open the database {database}: {error}. "
                "Check CCM_DATABASE_URL and that the server is running.",
                database=repr(shown),
                error=_first_line(exc),
            )
        ) from None


def run_async(coroutine: Awaitable[T], context: Context) -> T:
    try:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    except click.ClickException:
        raise
    except KeyboardInterrupt:
        raise click.Abort() from None
    except BrokenPipeError:
        # The reader went away (`ccm-bot states list | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None
    except Exception as exc:
        if context.debug:
            raise
        error = f"{type(exc).__name__}: {_first_line(exc)}"
        raise Failure(
            context.t.gettext(
                "unexpected error: {error} (run with --debug for details)", error=error
            )
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def echo_json(data: Any) -> None:
    json.dump(data, sys.stdout, default=json_default, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def echo_table(t: Translator, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned table for people; ``--json`` is the form for programs.

    ``headers`` are catalog messages (marked with ``_()``), translated here; "" is no heading.
    """
    headers = [t.gettext(h) if h else "" for h in headers]
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


STATUS_WORDS: dict[str, str] = {
    MessageStatus.PENDING: _("pending"),
    MessageStatus.CLAIMED: _("claimed"),
    MessageStatus.SENT: _("sent"),
    MessageStatus.FAILED: _("failed"),
    MessageStatus.CANCELLED: _("cancelled"),
}


def status_counts(t: Translator, counts: dict[str, int]) -> str:
    """How many messages are in each state, "" for none: "1 failed, 3 sent"."""
    return ", ".join(
        t.gettext("{count} {status}", count=t.number(n), status=t.gettext(STATUS_WORDS[s]))
        for s, n in sorted(counts.items())
    )


class Day(click.DateTime):
    """A day written YYYY-MM-DD; a mistyped one is a usage error in the ISU's language."""

    def __init__(self) -> None:
        super().__init__(["%Y-%m-%d"])

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            context = ctx.find_object(Context) if ctx is not None else None
            t = context.t if context is not None else translator(None)
            self.fail(
                t.gettext(
                    "{value} is not a date; write it as YYYY-MM-DD, e.g. 2027-03-31.",
                    value=repr(value),
                ),
                param,
                ctx,
            )


DAY = Day()
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
