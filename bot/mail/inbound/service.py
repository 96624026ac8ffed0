"""The ``MailService``: receives replies over LMTP, stores each before it is acknowledged, and
processes them one at a time in arrival order, each in one transaction with the mails it
sends (see the package docstring for why that order)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession

from bot.mail.authresults import read_auth_results
from bot.mail.body.reply import parse_message
from bot.mail.classify import classify
from bot.mail.inbound.bouncing import Bounces
from bot.mail.inbound.reading import HEADER_LIMIT, Outcome, clean, message_id_of
from bot.mail.inbound.replies import Replies
from bot.mail.lmtp import DEFAULT_DATA_SIZE_LIMIT, LmtpServer, ReceivedMail
from bot.mail.outgoing import MailQueue
from bot.settings import Settings
from handlers.conversation import Conversation
from handlers.i18n import translator
from schedules.clock import Clock
from storage.db import Store
from storage.inbound import (
    add_inbound,
    earlier_copy_of,
    lock_inbound,
    record_inbound_outcome,
    unprocessed_inbound_ids,
)
from storage.models import InboundMail, InboundStatus

log = logging.getLogger(__name__)

_STOP_TIMEOUT = 30.0


class MailService:
    """Receives replies over LMTP, stores them, and answers them through the conversation core.

    Answers and ISU notices are stored and sent through ``outgoing`` (``MailQueue``), whose
    scheduled run retries what could not be sent at once.
    """

    def __init__(
        self,
        store: Store,
        conversation: Conversation,
        outgoing: MailQueue,
        settings: Settings,
        clock: Clock,
        *,
        data_size_limit: int = DEFAULT_DATA_SIZE_LIMIT,
        max_token_age_days: int = 400,
    ) -> None:
        self.store = store
        self.conversation = conversation
        self.outgoing = outgoing
        self.settings = settings
        self.clock = clock
        isu_t = translator(settings.isu_language)  # every notice to the ISU
        self.replies = Replies(settings, conversation, clock, isu_t, max_token_age_days)
        self.bounces = Bounces(settings, clock, isu_t, max_token_age_days)
        self.counts: Counter[str] = Counter()  # outcomes since start, for logs and metrics
        if settings.lmtp_port is None:
            raise ValueError("set CCM_LMTP_PORT to receive replies (0 picks a free port)")
        self.lmtp = LmtpServer(
            self.accept,
            host=settings.lmtp_host,
            port=settings.lmtp_port,
            hostname=settings.reply_domain,
            data_size_limit=data_size_limit,
        )
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def bound_port(self) -> int:
        """The LMTP port actually listened on (the system's choice when configured as 0)."""
        return self.lmtp.bound_port

    async def start(self) -> None:
        """Queue what a previous run accepted but did not process, then listen."""
        async with self.store.transaction() as session:
            left = await unprocessed_inbound_ids(session)
        for inbound_id in left:
            self._queue.put_nowait(inbound_id)
        if left:
            log.info("processing %d received message(s) left from the last run", len(left))
        self._worker = asyncio.create_task(self._work(), name="ccm-bot inbound mail")
        await self.lmtp.start()

    async def stop(self) -> None:
        """Stop accepting, finish what is queued (bounded), then stop the worker."""
        await self.lmtp.stop()
        worker, self._worker = self._worker, None
        if worker is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), _STOP_TIMEOUT)
        except TimeoutError:
            log.warning("stopping with inbound mail still queued; it is processed on restart")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    async def idle(self) -> None:
        """Wait until every accepted message has been processed (tests, orderly stops)."""
        await self._queue.join()

    # ------------------------------------------------------------------ receiving

    async def accept(self, mail: ReceivedMail) -> None:
        """Store one delivered message and commit; raises if it could not be stored."""
        async with self.store.transaction() as session:
            row = InboundMail(
                received_at=self.clock.now(),
                envelope_from=clean(mail.mail_from, HEADER_LIMIT),
                envelope_to=[clean(r, HEADER_LIMIT) for r in mail.rcpt_tos],
                message_id=message_id_of(mail.content),
                raw=mail.content,
                status=InboundStatus.RECEIVED,
            )
            inbound_id = await add_inbound(session, row)
        log.info("stored inbound mail #%d from %r", inbound_id, mail.mail_from)
        self._queue.put_nowait(inbound_id)

    async def _work(self) -> None:
        while True:
            inbound_id = await self._queue.get()
            try:
                await self.process(inbound_id)
            except Exception:  # the store itself failing: the row stays received for restart
                log.exception("inbound mail #%d could not be processed", inbound_id)
            finally:
                self._queue.task_done()

    # ------------------------------------------------------------------ processing

    async def process(self, inbound_id: int) -> None:
        """Process one stored message unless already done; never raises for a bad message."""
        try:
            decided = await self._decide_and_record(inbound_id)
        except Exception as exc:
            log.exception("inbound mail #%d failed", inbound_id)
            self.counts["failed"] += 1
            await self._update(
                inbound_id, InboundStatus.FAILED, f"{type(exc).__name__}: {clean(exc)}"
            )
            return
        if decided is None:
            return
        outcome, queued = decided
        self.counts[outcome.kind] += 1
        log.info("inbound mail #%d: %s", inbound_id, outcome.text)
        try:
            sent = await self.outgoing.send(queued)
        except Exception:  # the store failing: the mails are stored, the retry job sends them
            log.exception("inbound mail #%d: its mail is left to the retry job", inbound_id)
            return
        if sent.retrying or sent.given_up:
            self.counts["not_sent"] += 1  # yet: retried by the timetable, or given up

    async def _update(self, inbound_id: int, status: InboundStatus, text: str) -> None:
        async with self.store.transaction() as session:
            await record_inbound_outcome(session, inbound_id, status, text, self.clock.now())

    async def _decide_and_record(self, inbound_id: int) -> tuple[Outcome, list[int]] | None:
        """Decide, record the outcome and store the mails to send, in one transaction."""
        async with self.store.transaction() as session:
            mail = await lock_inbound(session, inbound_id)
            if mail is None or mail.status is not InboundStatus.RECEIVED:
                return None  # processed already (a duplicate queue entry, another process)
            outcome = await self._decide(session, mail)
            mail.status = outcome.status
            mail.outcome = outcome.text
            mail.processed_at = self.clock.now()
            queued = await self.outgoing.add(session, outcome.mails, inbound_id=mail.id)
            return outcome, queued

    async def _decide(self, session: AsyncSession, mail: InboundMail) -> Outcome:
        if mail.message_id:
            earlier = await earlier_copy_of(session, mail)
            if earlier is not None:
                # The mail system resends what it got no 250 for (a lost connection).
                return Outcome(
                    InboundStatus.IGNORED, f"duplicate of inbound mail #{earlier}", "duplicate"
                )
        msg = parse_message(mail.raw)
        auth = read_auth_results(msg, self.settings.trusted_authserv_ids)
        mail.auth_spf, mail.auth_dkim, mail.auth_dmarc = auth.spf, auth.dkim, auth.dmarc
        kind = classify(msg, mail_from=mail.envelope_from)
        if kind.kind == "bounce":
            return await self.bounces.handle(session, mail, msg, kind)
        if not kind.is_human:
            return Outcome(InboundStatus.IGNORED, f"{kind.kind}: {kind.reason}", kind.kind)
        return await self.replies.answer(session, mail, msg)
