"""The composition root: builds the store, scheduler, Slack and mail from the settings.

Nothing is built at import time, so a test can assemble a whole bot around a fake Slack and a
real local mail server in a few lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import Settings
from schedules.clock import Clock, SystemClock
from storage.db import Store, open_store


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    http_port: int | None = None
    store: Store | None = None

    async def start(self) -> None:
        self.store = await open_store(self.settings.database_url)

    async def stop(self) -> None:
        if self.store is not None:
            await self.store.close()


def create_app(
    settings: Settings, *, clock: Clock | None = None, http_port: int | None = None
) -> App:
    return App(settings=settings, clock=clock or SystemClock(), http_port=http_port)


def describe_startup(settings: Settings, *, http_port: int | None = None) -> list[str]:
    """The first lines an operator sees: where data lives and which channels are on."""
    lines = [f"database: {_describe_database(settings.database_url)}"]
    smtp = settings.smtp
    if smtp is None:
        outbox = Path(settings.outbox_dir).resolve()
        lines.append(
            f"outgoing mail: written as .eml files to {outbox} "
            "(set CCM_SMTP_URL to send through a mail server)"
        )
    else:
        lines.append(f"outgoing mail: SMTP {smtp.host}:{smtp.port}")
    if settings.lmtp_port:
        lines.append(f"incoming mail: LMTP on {settings.lmtp_host}:{settings.lmtp_port}")
    else:
        lines.append("incoming mail: off (set CCM_LMTP_PORT to receive replies)")
    if not settings.slack_enabled:
        lines.append(
            "Slack: off until SLACK_BOT_TOKEN (and SLACK_APP_TOKEN or SLACK_SIGNING_SECRET) are set"
        )
    elif http_port:
        lines.append(f"Slack: HTTP mode on port {http_port} at /slack/events")
    else:
        lines.append(
            "Slack: Socket Mode"
            if settings.slack_app_token
            else "Slack: sending only (set SLACK_APP_TOKEN, or run with --http PORT, to receive)"
        )
    lines.append(f"secretariat time zone: {settings.timezone}")
    return lines


def _describe_database(url: str) -> str:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        return f"SQLite file {Path(path).resolve()}"
    return "PostgreSQL " + url.split("@")[-1]
