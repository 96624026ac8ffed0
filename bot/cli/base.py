"""What every command shares: settings, the store, JSON output, one-line errors, exit codes.

Exit codes: 0 ok, 1 failure (a clear one-line message), 2 usage error (click's own).
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
from schedules.clock import Clock, SystemClock
from storage.db import Store, open_store

T = TypeVar("T")


class Failure(click.ClickException):
    """A problem the user can fix; shown as one line, exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"ccm-bot: {self.format_message()}", err=True)


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
                raise Failure(f"configuration: {exc}") from None
        return self._settings


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
        settings = context.settings

        async def body() -> T:
            store = await _open(settings)
            try:
                return await function(Env(settings, store, context.clock), *args, **kwargs)
            finally:
                await store.close()

        return run_async(body(), debug=context.debug)

    return wrapper


async def _open(settings: Settings) -> Store:
    try:
        return await open_store(settings.database_url)
    except (OperationalError, OSError) as exc:
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        raise Failure(
            f"cannot open the database {shown!r}: {_first_line(exc)}. "
            "Check CCM_DATABASE_URL and that the server is running."
        ) from None


def run_async(coroutine: Awaitable[T], *, debug: bool) -> T:
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
        if debug:
            raise
        raise Failure(
            f"unexpected error: {type(exc).__name__}: {_first_line(exc)} "
            "(run with --debug for details)"
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


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned table for people; ``--json`` is the form for programs."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
