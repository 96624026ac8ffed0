"""Answers that cannot be sent at once are kept, retried by the timetable and, when given up,
reported to the ISU: against a real aiosmtpd server, on SQLite and PostgreSQL.

The retry job is run directly with the fixed clock moved past each backoff: no sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from bot.mail.answers import answer_message_id
from bot.mail.outgoing import MailQueue, MailRun, MessageSender
from schedules.dispatch import Dispatcher
from schedules.jobs import MAIL_RETRY_JOB, Sweep, register_jobs
from schedules.policy import ReminderPolicy
from storage.audit import SYSTEM
from storage.claims import CLAIM_LEASE, retry_delay
from storage.db import Store
from storage.models import InboundStatus, MessageStatus, OutgoingMail
from storage.outgoing import (
    ANSWER,
    MAIL_ATTEMPTS,
    NOTICE,
    claim_mail,
    queue_mail,
    record_mail_sent,
)
from storage.states import load_states
from tests.bot.mail.conftest import SmtpServer
from tests.bot.mail.test_inbound import (
    ISU,
    NOW,
    REPLY_DOMAIN,
    Bot,
    Reminder,
    gmail_reply,
    plain_text,
    remind,
    running_bot,
    some_states,
)

DELEGATE = "ana@minrel.gob.cl"
BUSY = "451 4.3.0 Mailbox busy, try again later"
GONE = "550 5.1.1 <ana@minrel.gob.cl>: mailbox unavailable"


@pytest.fixture
async def mail_store(store: Store) -> Store:
    async with store.transaction() as session:
        await load_states(session, some_states(), SYSTEM, NOW)
    return store


@pytest.fixture
async def bot(mail_store: Store, smtp_server: SmtpServer) -> AsyncIterator[Bot]:
    async with running_bot(mail_store, smtp_server) as running:
        yield running


async def reply_later(bot: Bot) -> Reminder:
    """Ana (Chile) answers her reminder "MÁS TARDE"; the bot owes her one answer, in Spanish."""
    reminder = await remind(bot.store, DELEGATE, "CHL")
    await bot.deliver(
        gmail_reply(reminder.email, sender=DELEGATE, text="MÁS TARDE", message_id="<later@x>")
    )
    return reminder


async def retry_job(bot: Bot, at: datetime) -> MailRun:
    """One run of the timetable's retry job at ``at``."""
    bot.clock.at = at
    return await bot.outgoing.run()


async def outgoing(store: Store) -> list[OutgoingMail]:
    async with store.transaction() as session:
        return list(await session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def attached_mail(notice: EmailMessage) -> EmailMessage:
    [attachment] = notice.iter_attachments()
    content = attachment.get_content()
    assert isinstance(content, bytes)
    parsed = message_from_bytes(content, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# --------------------------------------------------------------------------- retried, then sent


async def test_an_answer_refused_for_now_arrives_once_when_the_retry_job_runs(bot: Bot) -> None:
    bot.smtp.handler.refusals[DELEGATE] = BUSY
    reminder = await reply_later(bot)

    assert bot.sent_to(DELEGATE) == []
    [inbound] = await bot.inbound()
    assert inbound.status is InboundStatus.PROCESSED  # the reply is recorded all the same
    [row] = await outgoing(bot.store)
    assert (row.status, row.attempts, row.purpose, row.inbound_id, row.recipient) == (
        MessageStatus.PENDING,
        1,
        ANSWER,
        inbound.id,
        DELEGATE,
    )
    assert row.next_attempt_at == NOW + retry_delay(1)
    assert row.error == f"recipient {DELEGATE} refused: 451 4.3.0 Mailbox busy, try again later"

    early = await retry_job(bot, NOW + retry_delay(1) - timedelta(seconds=1))
    assert (early.sent, early.retrying, bot.sent_to(DELEGATE)) == ([], [], [])

    del bot.smtp.handler.refusals[DELEGATE]
    retried = await retry_job(bot, NOW + retry_delay(1))
    again = await retry_job(bot, NOW + timedelta(hours=3))

    assert (retried.sent, again.sent) == ([row.id], [])
    [answer] = bot.sent_to(DELEGATE)
    # The same message the first attempt tried: its own Message-ID, its Date, in the thread.
    assert answer["Message-ID"] == answer_message_id(inbound.id, reminder.token, REPLY_DOMAIN)
    assert answer["Message-ID"] == row.message_id
    assert answer["Date"].datetime == NOW
    assert (answer["In-Reply-To"], answer["Content-Language"]) == ("<later@x>", "es")
    [row] = await outgoing(bot.store)
    assert (row.status, row.attempts, row.sent_at, row.error) == (
        MessageStatus.SENT,
        1,
        NOW + retry_delay(1),
        None,
    )
    assert bot.sent_to(ISU) == []


# --------------------------------------------------------------------------- given up, ISU told


async def test_a_refused_recipient_is_not_retried_and_the_isu_is_told_in_its_language(
    mail_store: Store, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refusals[DELEGATE] = GONE
    async with running_bot(mail_store, smtp_server, isu_language="fr") as bot:
        await reply_later(bot)
        later = await retry_job(bot, NOW + timedelta(days=1))
        answer, notice_row = await outgoing(bot.store)

    assert (answer.status, answer.attempts, answer.next_attempt_at) == (
        MessageStatus.FAILED,
        1,
        None,
    )
    assert answer.error == f"recipient {DELEGATE} refused: 550 {GONE.removeprefix('550 ')}"
    assert (later.sent, later.retrying, later.given_up) == ([], [], [])
    assert bot.sent_to(DELEGATE) == []
    [notice] = bot.sent_to(ISU)
    assert (notice_row.purpose, notice_row.status, notice_row.message_id) == (
        NOTICE,
        MessageStatus.SENT,
        notice["Message-ID"].strip(),
    )
    assert notice["Content-Language"] == "fr"
    assert notice["Subject"] == f"Courriel non remis à {DELEGATE}"
    assert plain_text(notice).splitlines() == [
        f"Un courriel adressé à {DELEGATE} n'a pas pu être remis et ne sera plus renvoyé "
        "automatiquement.",
        "",
        f"Objet : {answer.subject}",
        f"Il répond au courriel entrant nº {answer.inbound_id}.",
        f"1 tentative. Dernière erreur : {answer.error}",
        "",
        "Le message non remis est joint.",
        f"Pour l'envoyer de nouveau une fois le problème résolu : ccm-bot mail retry {answer.id}",
    ]
    undelivered = attached_mail(notice)
    assert (undelivered["Message-ID"], undelivered["To"]) == (answer.message_id, DELEGATE)


async def test_an_answer_still_refused_after_the_last_attempt_is_given_up_and_the_isu_told(
    bot: Bot,
) -> None:
    bot.smtp.handler.refusals[DELEGATE] = BUSY
    await reply_later(bot)
    at = NOW
    runs = []
    for attempt in range(1, MAIL_ATTEMPTS):
        at += retry_delay(attempt)
        runs.append(await retry_job(bot, at))
    after = await retry_job(bot, at + timedelta(days=1))

    answer, notice_row = await outgoing(bot.store)
    assert [(r.retrying, r.given_up) for r in runs] == [([answer.id], [])] * (MAIL_ATTEMPTS - 2) + [
        ([], [answer.id])
    ]
    assert (answer.status, answer.attempts) == (MessageStatus.FAILED, MAIL_ATTEMPTS)
    assert (after.sent, after.retrying, after.given_up) == ([], [], [])
    assert bot.sent_to(DELEGATE) == []
    [notice] = bot.sent_to(ISU)
    assert notice_row.message_id == notice["Message-ID"].strip()  # folded: it is a long one
    assert (notice["Content-Language"], notice["Subject"]) == (
        "en",
        f"Email not delivered to {DELEGATE}",
    )
    assert (
        f"Tried {MAIL_ATTEMPTS} times. The last error was: recipient {DELEGATE} refused: 451"
        in plain_text(notice)
    )


async def test_a_notice_to_the_isu_that_is_refused_tells_nobody_else(
    mail_store: Store, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refusals[ISU] = f"550 5.1.1 <{ISU}>: mailbox unavailable"
    async with running_bot(mail_store, smtp_server) as bot:
        reminder = await remind(bot.store, DELEGATE, "CHL")
        await bot.deliver(
            gmail_reply(
                reminder.email, sender="someone@elsewhere.example", text="NEED", message_id="<s@x>"
            )
        )

    [refusal] = await outgoing(bot.store)  # no notice about the notice, no loop
    assert (refusal.purpose, refusal.status, refusal.attempts) == (
        NOTICE,
        MessageStatus.FAILED,
        1,
    )
    assert bot.sent() == []


# --------------------------------------------------------------------------- crashes


class FallsOverOnce:
    """A transport whose first send fails with something that is not the mail server's answer."""

    def __init__(self, real: MessageSender) -> None:
        self.real = real
        self.fell = False

    async def send_message(self, msg: EmailMessage) -> str:
        if not self.fell:
            self.fell = True
            raise RuntimeError("the transport fell over")
        return await self.real.send_message(msg)


async def test_an_answer_whose_transport_fell_over_is_sent_by_the_retry_job(bot: Bot) -> None:
    bot.outgoing.sender = FallsOverOnce(bot.outgoing.sender)
    await reply_later(bot)

    [row] = await outgoing(bot.store)
    assert (row.status, row.attempts, row.error) == (
        MessageStatus.PENDING,
        1,
        "unexpected RuntimeError: the transport fell over",
    )
    assert bot.sent_to(DELEGATE) == []

    run = await retry_job(bot, NOW + retry_delay(1))

    assert run.sent == [row.id]
    [answer] = bot.sent_to(DELEGATE)
    assert answer["Message-ID"] == row.message_id


async def test_an_answer_recorded_just_before_a_crash_is_sent_by_the_restarted_bot(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def died_after_the_commit(ids: object) -> MailRun:
        return MailRun()

    monkeypatch.setattr(bot.outgoing, "send", died_after_the_commit)
    await reply_later(bot)
    [row] = await outgoing(bot.store)
    assert (row.status, row.attempts) == (MessageStatus.PENDING, 0)
    assert bot.sent_to(DELEGATE) == []

    # The restarted bot's retry job runs at once (register_jobs' next_run_time is now).
    restarted = MailQueue(bot.store, bot.outgoing.sender, bot.outgoing.settings, bot.clock, "new")
    first, second = await restarted.run(), await restarted.run()

    assert (first.sent, second.sent) == ([row.id], [])
    [answer] = bot.sent_to(DELEGATE)
    assert answer["Message-ID"] == row.message_id


# --------------------------------------------------------------------------- claims


async def test_a_mail_is_claimed_by_one_worker_and_a_dead_workers_claim_is_taken_over(
    store: Store,
) -> None:
    async with store.transaction() as session:
        row = queue_mail(
            session,
            b"To: a@example.org\r\n\r\nhello\r\n",
            recipient="a@example.org",
            subject="hello",
            message_id="<m@x>",
            purpose=ANSWER,
            now=NOW,
        )
        await session.flush()
        mail_id = row.id

    async def claim(worker: str, at: datetime) -> list[int]:
        async with store.transaction() as session:
            return [m.id for m in await claim_mail(session, worker, at)]

    one, two = await asyncio.gather(claim("w1", NOW), claim("w2", NOW))
    assert sorted([one, two]) == [[], [mail_id]]
    dead = "w1" if one else "w2"

    assert await claim("w3", NOW + CLAIM_LEASE) == []  # not abandoned yet
    assert await claim("w3", NOW + CLAIM_LEASE + timedelta(seconds=1)) == [mail_id]
    async with store.transaction() as session:
        assert not await record_mail_sent(session, mail_id, dead, NOW + CLAIM_LEASE)
        assert await record_mail_sent(session, mail_id, "w3", NOW + CLAIM_LEASE)
    assert await claim("w4", NOW + timedelta(days=1)) == []


async def test_the_retry_job_runs_every_minute_from_the_start(store: Store, bot: Bot) -> None:
    sweep = Sweep(
        store,
        ReminderPolicy(),
        Dispatcher(store, {}, "w", fallback_zone="UTC"),
        bot.clock,
        False,
        "UTC",
    )
    scheduler = AsyncIOScheduler(timezone="UTC")
    register_jobs(scheduler, sweep=sweep, sweep_minutes=10, mail=bot.outgoing)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job(MAIL_RETRY_JOB)
        assert job is not None
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(minutes=1) == retry_delay(1)
        assert job.next_run_time == NOW  # a restarted bot sends what a crash left at once
        assert (job.max_instances, job.coalesce) == (1, True)
    finally:
        scheduler.shutdown(wait=False)
