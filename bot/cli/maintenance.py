"""Commands that look after the store itself."""

from __future__ import annotations

import click

from bot.cli.base import Env, with_store
from storage.db import current_revision


@click.group()
def db() -> None:
    """Look after the database (migrations)."""


@db.command()
@with_store
async def upgrade(env: Env) -> None:
    """Migrate the database to the newest schema (the bot also does this on start)."""
    revision = await current_revision(env.store.engine)
    click.echo(
        env.t.gettext(
            "{database}: schema at revision {revision}", database=env.store.url, revision=revision
        )
    )
