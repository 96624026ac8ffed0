"""``ccm-bot run``: the long-running bot."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from bot.app import create_app, describe_startup
from bot.cli.base import Context, run_async
from bot.slack.app import DEFAULT_HOST


@click.command()
@click.option(
    "--http",
    "http_port",
    type=click.IntRange(1, 65535),
    help="Serve Slack's Events API on this port at /slack/events (instead of Socket Mode).",
)
@click.option(
    "--host",
    "http_host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address the --http listener binds: this machine only by default (behind a reverse "
    "proxy); 0.0.0.0 listens on every interface.",
)
@click.pass_obj
def run(context: Context, http_port: int | None, http_host: str) -> None:
    """Run the bot: scheduler, Slack and incoming mail, until stopped (Ctrl-C)."""
    settings = context.settings
    logging.basicConfig(
        level=logging.DEBUG if context.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    async def serve() -> None:
        for line in describe_startup(settings, http_port=http_port, http_host=http_host):
            click.echo(line)
        app = await create_app(settings, http_port=http_port, http_host=http_host)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await app.start()
        click.echo("ccm-bot is running; press Ctrl-C to stop.")
        try:
            await stop.wait()
        finally:
            await app.stop()
            click.echo("ccm-bot stopped.")

    run_async(serve(), context)
