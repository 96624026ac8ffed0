"""The composition root: builds the store, scheduler, Slack and mail from the settings.

Nothing is built at import time, so a test can assemble a whole bot around a fake Slack and a
real local mail server in a few lines (``await create_app(settings)``, then ``start``/``stop``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.web.async_client import AsyncWebClient

from bot.mail.answers import isu_notice
from bot.mail.digest_sending import DigestService, SummaryPoster
from bot.mail.inbound.service import MailService
from bot.mail.outgoing import MailQueue
from bot.mail.transports import OutboxTransport, ReminderEmails, SmtpTransport
from bot.settings import Settings
from bot.slack import SlackTransport, slack_service, slack_web_client
from bot.slack.app import DEFAULT_HOST
from handlers.conversation import Conversation, NotifyIsu
from handlers.digest import DigestSchedule
from handlers.i18n import translator
from handlers.replies import Handover
from schedules.clock import Clock, SystemClock
from schedules.delivery import Transport
from schedules.dispatch import Dispatcher
from schedules.jobs import InFlight, Sweep, register_jobs
from schedules.zones import resolve_zone
from storage.db import Store, open_store
from storage.models import Channel

# How long a stopping bot waits for a sweep or digest in progress to finish.
STOP_GRACE_SECONDS = 20.0


def worker_name() -> str:
    """Names this process in the ledger's claims, so two bots never take each other's work."""
    return f"{socket.gethostname()}:{os.getpid()}"


def email_transport(settings: Settings) -> OutboxTransport | SmtpTransport:
    emails = ReminderEmails.from_settings(settings)
    smtp = settings.smtp
    if smtp is None:
        return OutboxTransport(Path(settings.outbox_dir), emails)
    # Bounces come back to the reply domain, where the LMTP server marks the address bouncing.
    return SmtpTransport(smtp, emails, envelope_from=f"bounces@{settings.reply_domain}")


class Service(Protocol):
    """Something the running bot starts and stops: Slack's way in, the LMTP server, the clock."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=Service)


@dataclass
class Timetable:
    """The scheduler and the job runs under way, started last and stopped first."""

    scheduler: AsyncIOScheduler
    in_flight: InFlight

    async def start(self) -> None:
        # Inside the running loop, as APScheduler 3's asyncio scheduler requires.
        self.scheduler.start()

    async def stop(self) -> None:
        self.scheduler.pause()
        await self.in_flight.drain(timeout=STOP_GRACE_SECONDS)
        self.scheduler.shutdown(wait=False)


@dataclass
class App:
    """The whole bot, built: every part exists; ``start`` only starts its services.

    ``services`` are started in order and stopped in reverse: Slack's way in and the LMTP
    server when the settings turn them on, then the timetable. A part the settings leave off
    is absent from it, rather than None in a field.
    """

    settings: Settings
    clock: Clock
    store: Store
    email: OutboxTransport | SmtpTransport
    transports: Mapping[Channel, Transport]
    conversation: Conversation
    sweep: Sweep
    outgoing: MailQueue
    digest: DigestService
    timetable: Timetable
    services: tuple[Service, ...]
    _started: list[Service] = field(default_factory=list, repr=False)

    def service(self, kind: type[S]) -> S:
        """The service of this kind (SlackService, MailService); LookupError if it is off."""
        for service in self.services:
            if isinstance(service, kind):
                return service
        raise LookupError(f"no {kind.__name__}: the settings leave it off")

    async def start(self) -> None:
        for service in self.services:
            await service.start()
            self._started.append(service)

    async def stop(self) -> None:
        """Stop what was started, in reverse order, then release the transports and the store."""
        while self._started:
            await self._started.pop().stop()
        for transport in self.transports.values():
            close = getattr(transport, "close", None)
            if close is not None:
                await close()
        await self.store.close()


async def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    http_port: int | None = None,
    http_host: str = DEFAULT_HOST,
) -> App:
    """Build every part of the bot, connecting nothing yet.

    Async because opening the store migrates the database: built here, a bad URL or a failed
    migration stops the bot before anything listens, and no part has to cope with a store
    that is not open yet.
    """
    clock = clock or SystemClock()
    worker = worker_name()
    store = await open_store(settings.database_url)
    email = email_transport(settings)
    transports: dict[Channel, Transport] = {Channel.EMAIL: email}
    post_summary: SummaryPoster | None = None
    if settings.slack_enabled:
        client = slack_web_client(settings)
        transports[Channel.SLACK] = SlackTransport(client)
        if settings.digest_channel:
            post_summary = _summary_poster(client, settings.digest_channel)
    outgoing = MailQueue(store, email, settings, clock, worker)
    conversation = Conversation(
        store,
        clock,
        settings.reminders.snooze_days,
        notify_isu=_isu_notifier(settings, clock, outgoing),
    )
    sweep = Sweep(
        store=store,
        policy=settings.reminders,
        dispatcher=Dispatcher(store, transports, worker, fallback_zone=settings.zone.key),
        clock=clock,
        slack=settings.slack_enabled,
        secretariat_zone=resolve_zone(settings.timezone).key,
    )
    digest = DigestService.from_settings(
        settings,
        store=store,
        sender=email,
        clock=clock,
        worker=worker,
        schedule=DigestSchedule(**settings.digest.model_dump()),
        post_summary=post_summary,
    )
    timetable = Timetable(AsyncIOScheduler(timezone=settings.zone), InFlight())
    register_jobs(
        timetable.scheduler,
        sweep=sweep,
        sweep_minutes=settings.reminders.sweep_minutes,
        digest=digest,
        mail=outgoing,
        in_flight=timetable.in_flight,
    )
    services: list[Service] = []
    if settings.slack_enabled:
        services.append(
            slack_service(
                settings,
                store,
                clock,
                conversation=conversation,
                http_port=http_port,
                host=http_host,
            )
        )
    if settings.lmtp_port is not None:
        services.append(MailService(store, conversation, outgoing, settings, clock))
    services.append(timetable)
    return App(
        settings=settings,
        clock=clock,
        store=store,
        email=email,
        transports=transports,
        conversation=conversation,
        sweep=sweep,
        outgoing=outgoing,
        digest=digest,
        timetable=timetable,
        services=tuple(services),
    )


def _summary_poster(client: AsyncWebClient, channel: str) -> SummaryPoster:
    async def post(text: str) -> str:
        """Post the digest's short summary to CCM_DIGEST_CHANNEL; returns the message ts."""
        response = await client.chat_postMessage(channel=channel, text=text)
        return str(response["ts"])

    return post


def _isu_notifier(settings: Settings, clock: Clock, outgoing: MailQueue) -> NotifyIsu:
    t = translator(settings.isu_language)

    async def notify_isu(note: Handover) -> None:
        """Mail the ISU, in its language, a note from a conversation (a delegate handing over);
        kept and retried like every answer until it is sent."""
        notice = isu_notice(settings, t, note, clock.now())
        if notice is not None:
            await outgoing.submit([notice])

    return notify_isu


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
