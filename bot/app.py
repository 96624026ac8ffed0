"""The composition root: builds the store, scheduler, Slack and mail from the settings.

Nothing is built at import time, so a test can assemble a whole bot around a fake Slack and a
real local mail server in a few lines.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from bot.mail.answers import isu_notice
from bot.mail.compose import render_email
from bot.mail.digest import DigestService
from bot.mail.inbound import MailService
from bot.mail.outgoing import MailQueue
from bot.mail.transports import OutboxTransport, SmtpTransport
from bot.settings import Settings
from bot.slack import SlackService, SlackTransport, slack_web_client, start_slack
from bot.slack.app import DEFAULT_HOST
from handlers.conversation import Conversation
from handlers.digest import DigestSchedule
from handlers.i18n import translator
from handlers.reminders import compose_reminder
from handlers.replies import Handover
from schedules.clock import Clock, SystemClock
from schedules.dispatch import Dispatcher, Outgoing, Transport
from schedules.jobs import InFlight, Sweep, register_jobs
from schedules.zones import resolve_zone
from storage.db import Store, open_store
from storage.models import Channel

# How long a stopping bot waits for a sweep or digest in progress to finish.
STOP_GRACE_SECONDS = 20.0


def worker_name() -> str:
    """Names this process in the ledger's claims, so two bots never take each other's work."""
    return f"{socket.gethostname()}:{os.getpid()}"


def email_composer(settings: Settings) -> EmailComposer:
    return EmailComposer(settings)


@dataclass(frozen=True)
class EmailComposer:
    """Outgoing → a complete email in the reader's language, with a stable Message-ID."""

    settings: Settings

    def __call__(self, outgoing: Outgoing) -> EmailMessage:
        assert outgoing.email is not None
        today = outgoing.local_day
        reply = compose_reminder(outgoing, today)
        return render_email(
            reply,
            to=outgoing.email,
            sender=self.settings.mail_from,
            message_key=outgoing.message_id,
            key=self.settings.signing_key,
            reply_domain=self.settings.reply_domain,
            issued=today,
        )


def email_transport(settings: Settings) -> OutboxTransport | SmtpTransport:
    composer = email_composer(settings)
    smtp = settings.smtp
    if smtp is None:
        return OutboxTransport(Path(settings.outbox_dir), composer)
    # Bounces come back to the reply domain, where the LMTP server marks the address bouncing.
    return SmtpTransport(smtp, composer, envelope_from=f"bounces@{settings.reply_domain}")


@dataclass
class App:
    """The running bot: store, transports, the reminder sweep and its scheduler."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    http_port: int | None = None
    http_host: str = DEFAULT_HOST
    transports: dict[Channel, Transport] = field(default_factory=dict)
    store: Store | None = None
    scheduler: AsyncIOScheduler | None = None
    sweep: Sweep | None = None
    slack: SlackService | None = None
    mail: MailService | None = None
    digest: DigestService | None = None
    outgoing: MailQueue | None = None
    slack_client: AsyncWebClient | None = None
    in_flight: InFlight = field(default_factory=InFlight)
    email: OutboxTransport | SmtpTransport | None = None

    async def open(self) -> Sweep:
        """Open the store (migrating it) and wire the reminder engine, without scheduling it."""
        self.store = await open_store(self.settings.database_url)
        if Channel.EMAIL not in self.transports:
            self.email = email_transport(self.settings)
            self.transports[Channel.EMAIL] = self.email
        if self.settings.slack_enabled and Channel.SLACK not in self.transports:
            self.slack_client = slack_web_client(self.settings)
            self.transports[Channel.SLACK] = SlackTransport(self.slack_client)
        self.sweep = Sweep(
            store=self.store,
            policy=self.settings.reminders,
            dispatcher=Dispatcher(
                self.store, self.transports, worker_name(), fallback_zone=self.settings.zone.key
            ),
            clock=self.clock,
            slack=Channel.SLACK in self.transports,
            secretariat_zone=resolve_zone(self.settings.timezone).key,
        )
        return self.sweep

    async def start(self) -> None:
        sweep = await self.open()
        if self.email is not None:
            # Before Slack starts: a handover there mails the ISU through it (notify_isu).
            self.outgoing = MailQueue(
                sweep.store, self.email, self.settings, self.clock, worker_name()
            )
        conversation = Conversation(
            sweep.store,
            self.clock,
            self.settings.reminders.snooze_days,
            notify_isu=self.notify_isu,
        )
        if self.settings.slack_enabled:
            self.slack = await start_slack(
                self.settings,
                sweep.store,
                self.clock,
                conversation=conversation,
                http_port=self.http_port,
                host=self.http_host,
            )
        if self.settings.lmtp_port is not None and self.outgoing is not None:
            self.mail = MailService(
                sweep.store, conversation, self.outgoing, self.settings, self.clock
            )
            await self.mail.start()
        if self.email is not None:
            self.digest = DigestService.from_settings(
                self.settings,
                store=sweep.store,
                sender=self.email,
                clock=self.clock,
                worker=worker_name(),
                schedule=DigestSchedule(**self.settings.digest.model_dump()),
                post_summary=self.post_digest_summary if self.slack_client else None,
            )
        # Started here, inside the running loop, as APScheduler 3's asyncio scheduler requires.
        self.scheduler = AsyncIOScheduler(timezone=self.settings.zone)
        register_jobs(
            self.scheduler,
            sweep=sweep,
            sweep_minutes=self.settings.reminders.sweep_minutes,
            digest=self.digest,
            mail=self.outgoing,
            in_flight=self.in_flight,
        )
        self.scheduler.start()

    async def post_digest_summary(self, text: str) -> str:
        """Post the digest's short summary to CCM_DIGEST_CHANNEL; returns the message ts."""
        assert self.slack_client is not None
        assert self.settings.digest_channel is not None
        response = await self.slack_client.chat_postMessage(
            channel=self.settings.digest_channel, text=text
        )
        return str(response["ts"])

    async def notify_isu(self, note: Handover) -> None:
        """Mail the ISU, in its language, a note from a conversation (a delegate handing over);
        kept and retried like every answer until it is sent."""
        t = translator(self.settings.isu_language)
        notice = isu_notice(self.settings, t, note, self.clock.now())
        if notice is not None and self.outgoing is not None:
            await self.outgoing.submit([notice])

    async def stop(self) -> None:
        if self.slack is not None:
            await self.slack.stop()
        if self.mail is not None:
            await self.mail.stop()
        if self.scheduler is not None:
            self.scheduler.pause()
            await self.in_flight.drain(timeout=STOP_GRACE_SECONDS)
            self.scheduler.shutdown(wait=False)
        for transport in self.transports.values():
            close = getattr(transport, "close", None)
            if close is not None:
                await close()
        if self.store is not None:
            await self.store.close()


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    http_port: int | None = None,
    http_host: str = DEFAULT_HOST,
) -> App:
    return App(
        settings=settings, clock=clock or SystemClock(), http_port=http_port, http_host=http_host
    )


def describe_startup(
    settings: Settings, *, http_port: int | None = None, http_host: str = DEFAULT_HOST
) -> list[str]:
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
        lines.append(f"Slack: HTTP mode on {http_host}:{http_port} at /slack/events")
    else:
        lines.append(
            "Slack: Socket Mode"
            if settings.slack_app_token
            else "Slack: sending only (set SLACK_APP_TOKEN, or run with --http PORT, to receive)"
        )
    lines.append(
        f"reminders: checked every {settings.reminders.sweep_minutes} minutes, sent at "
        f"{settings.reminders.send_hour:02d}:00 in each recipient's own time zone"
    )
    lines.append(
        f"weekly digest: {settings.digest.weekday} {settings.digest.hour:02d}:00 "
        f"({settings.timezone})"
        + (f", summary to Slack {settings.digest_channel}" if settings.digest_channel else "")
    )
    lines.append(f"secretariat time zone: {settings.timezone}")
    return lines


def _describe_database(url: str) -> str:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        return f"SQLite file {Path(path).resolve()}"
    return "PostgreSQL " + url.split("@")[-1]
