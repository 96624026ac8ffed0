"""Replies by email: every accepted message stored first, then read, checked and answered.

The order of work is what keeps a message from being lost or answered wrongly:

1. ``accept`` (called by the LMTP server before it says 250) stores the raw message in
   ``inbound_mail`` and commits; only then is it acknowledged. A crash after that leaves a
   ``received`` row, processed when the service starts again.
2. One worker processes rows in arrival order (a NEED and the CONFIRM after it must not
   overtake each other). Robots are never answered: bounces update the contact, auto-replies
   and lists are only recorded. A person must present a valid conversation key *and* be a
   contact of the State the reminder was about (or its addressee); anyone else is refused,
   the ISU is told, and the sender gets nothing back: we never mail an address we do not
   know, so forged senders cannot make us spam anyone (backscatter).
3. The conversation core runs in the same transaction that marks the row processed, and the
   mails it answers with are stored in that transaction too (``bot.mail.outgoing``); they
   are sent after the commit, and what cannot be sent then is retried by the timetable. A
   processing error rolls all of that back and marks the row ``failed`` with the error,
   keeping the raw message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.mail.answers import (
    answer_email,
    bouncing_notice,
    isu_notice,
    note_attachments,
    refusal_notice,
    unproven_bounce_notice,
)
from bot.mail.authresults import read_auth_results
from bot.mail.body.reply import extract_reply, parse_message
from bot.mail.bounces import read_proof, unproven_notice_id
from bot.mail.classify import Classification, RecipientStatus, classify
from bot.mail.digest import answer_digest_reply, is_digest_key
from bot.mail.lmtp import DEFAULT_DATA_SIZE_LIMIT, LmtpServer, ReceivedMail
from bot.mail.outgoing import MailQueue
from bot.mail.tokens import InvalidToken, find_token, verify_token
from bot.settings import Settings
from handlers.conversation import Conversation
from handlers.i18n import Translator, _, translator
from handlers.turns import Speaker, Turn, identify
from schedules.clock import Clock
from storage.audit import SYSTEM
from storage.contacts import contact_by_email, contact_by_id, mark_email_bouncing
from storage.db import Store
from storage.inbound import (
    add_inbound,
    earlier_copy_of,
    lock_inbound,
    record_inbound_outcome,
    unprocessed_inbound_ids,
)
from storage.ledger import message_by_id
from storage.models import Contact, Delivery, InboundMail, InboundStatus, Via
from storage.outgoing import mail_stored

__all__ = ["MailService"]

log = logging.getLogger(__name__)

# What the conversation core reads of one reply; a pasted report beyond this is cut.
MAX_REPLY_TEXT = 20_000
_HEADER_LIMIT = 998
_STOP_TIMEOUT = 30.0
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class _Reason:
    """Why a reply was refused: English for the log, the ISU's language for the notice."""

    message: str
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, t: Translator) -> str:
        return t.gettext(self.message, **self.values)


@dataclass(frozen=True)
class _Outcome:
    """What became of one received message, and what to mail (stored with it, then sent)."""

    status: InboundStatus
    text: str
    kind: str  # the counter it adds to: answered, refused, auto_reply, bounce_hard…
    mails: tuple[EmailMessage, ...] = ()


def _clean(value: object, limit: int | None = None) -> str:
    """Text safe to store: no NUL or control characters (PostgreSQL refuses NUL), no lone
    surrogates (what undecodable header bytes become), optionally cut."""
    text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = _UNPRINTABLE.sub("", text)
    return text[:limit] if limit else text


def _header(msg: EmailMessage, name: str) -> str:
    """A header as one clean line; "" when absent or unparseable."""
    try:
        value = msg.get(name)
    except Exception:  # a hostile header must not stop processing
        return ""
    return "" if value is None else " ".join(_clean(value, 4 * _HEADER_LIMIT).split())


def _message_id_of(raw: bytes) -> str | None:
    """The Message-ID, read from the headers alone, for storing before anything else."""
    try:
        value = BytesHeaderParser().parsebytes(raw).get("Message-ID")
    except Exception:
        return None
    cleaned = " ".join(_clean(value, _HEADER_LIMIT).split()) if value is not None else ""
    return cleaned or None


def _sender(msg: EmailMessage) -> str | None:
    """The one address in From, lowercased; None if there is not exactly one."""
    try:
        addresses = [a for _n, a in getaddresses([str(v) for v in msg.get_all("From", [])]) if a]
    except Exception:
        return None
    if len(addresses) != 1 or "@" not in addresses[0]:
        return None
    return _clean(addresses[0], 254).strip().lower() or None


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
        self.isu_t = translator(settings.isu_language)  # every notice to the ISU
        self.clock = clock
        self.max_token_age_days = max_token_age_days
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
                envelope_from=_clean(mail.mail_from, _HEADER_LIMIT),
                envelope_to=[_clean(r, _HEADER_LIMIT) for r in mail.rcpt_tos],
                message_id=_message_id_of(mail.content),
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
                inbound_id, InboundStatus.FAILED, f"{type(exc).__name__}: {_clean(exc)}"
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

    async def _decide_and_record(self, inbound_id: int) -> tuple[_Outcome, list[int]] | None:
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

    async def _decide(self, session: AsyncSession, mail: InboundMail) -> _Outcome:
        if mail.message_id:
            earlier = await earlier_copy_of(session, mail)
            if earlier is not None:
                # The mail system resends what it got no 250 for (a lost connection).
                return _Outcome(
                    InboundStatus.IGNORED, f"duplicate of inbound mail #{earlier}", "duplicate"
                )
        msg = parse_message(mail.raw)
        auth = read_auth_results(msg, self.settings.trusted_authserv_ids)
        mail.auth_spf, mail.auth_dkim, mail.auth_dmarc = auth.spf, auth.dkim, auth.dmarc
        kind = classify(msg, mail_from=mail.envelope_from)
        if kind.kind == "bounce":
            return await self._bounce(session, mail, msg, kind)
        if not kind.is_human:
            return _Outcome(InboundStatus.IGNORED, f"{kind.kind}: {kind.reason}", kind.kind)
        return await self._reply(session, mail, msg)

    # ------------------------------------------------------------------ a person's reply

    async def _reply(self, session: AsyncSession, mail: InboundMail, msg: EmailMessage) -> _Outcome:
        now = self.clock.now()
        sender = _sender(msg)
        speaker = (
            await identify(session, fallback_zone=self.settings.timezone, email=sender)
            if sender
            else None
        )
        token = find_token(msg, mail.envelope_to)
        if token is None:
            # Mostly spam to a guessable address: the ISU hears only of known contacts.
            reason = _Reason(_("it carries no conversation key"))
            return self._refuse(mail, msg, reason, tell_isu=speaker is not None)
        if mail.auth_dmarc == "fail":
            # Our MTA found the From domain does not vouch for this message: a forged From.
            domain = (sender or "?").rpartition("@")[2]
            reason = _Reason(_("its From domain {domain} fails DMARC"), {"domain": domain})
            return self._refuse(mail, msg, reason)
        try:
            message_key = verify_token(
                token,
                self.settings.signing_key,
                today=now.date(),
                max_age_days=self.max_token_age_days,
            )
        except InvalidToken as exc:
            reason = _Reason(
                _("its conversation key is not valid ({problem})"), {"problem": exc.reason}
            )
            return self._refuse(mail, msg, reason)
        envelope = mail.envelope_from.strip().strip("<>").lower()
        if speaker is not None and envelope != (speaker.email or "").lower():
            # From is the easiest header to forge; the envelope sender is what SPF checks.
            # Both must be the contact's address, or the writer is a stranger to us.
            reason = _Reason(
                _("it was sent from {envelope}, not from the address in its From, {sender}"),
                {"envelope": _clean(envelope, 254) or "<>", "sender": sender or "?"},
            )
            return self._refuse(mail, msg, reason)
        if is_digest_key(message_key):
            # A reply to the weekly digest (bot.mail.digest): STOP switches the digest off.
            done = await answer_digest_reply(
                session,
                message_key,
                speaker,
                msg,
                settings=self.settings,
                inbound_id=mail.id,
                now=now,
            )
            if done.refused is not None:
                return self._refuse(mail, msg, _Reason(done.refused, done.values))
            return _Outcome(InboundStatus.PROCESSED, _clean(done.text), "digest", done.mails)
        message = await message_by_id(session, message_key)
        if message is None:
            reason = _Reason(_("its conversation key names no message"))
            return self._refuse(mail, msg, reason)
        states = sorted({d.state_iso3 for d in message.deliveries})
        if speaker is None or not (
            speaker.contact_id == message.contact_id or speaker.state in states
        ):
            reason = _Reason(
                _("{sender} is not a contact of {states}"),
                {"sender": sender or "?", "states": ", ".join(states) or "?"},
            )
            return self._refuse(mail, msg, reason)

        delivery = _delivery_about(message.deliveries, speaker)
        about = f"{delivery.state_iso3}:{delivery.item}" if delivery else None
        for answered in message.deliveries:
            if answered.answered_at is None:
                answered.answered_at = now
        await self._address_works(session, speaker, now)

        text = extract_reply(msg)
        person_id = _header(msg, "Message-ID")[:_HEADER_LIMIT] or None
        turn = Turn(
            speaker,
            Via.EMAIL,
            text=_clean(text.text, MAX_REPLY_TEXT),
            message_id=person_id,
            about=about,
        )
        answer = await self.conversation.handle_in(session, turn)
        answer = note_attachments(answer, text.attachments, speaker.t)
        assert speaker.email is not None  # found by their address
        email = answer_email(
            answer,
            settings=self.settings,
            to=speaker.email,
            message_key=message.id,
            issued=speaker.today(now),
            in_reply_to=person_id,
            inbound_id=mail.id,
            now=now,
        )
        summary = f"answered {speaker.email} about {about or 'no item'}: {answer.subject}"
        if answer.stored and answer.reference:
            summary += f" [{answer.reference}]"
        if text.attachments:
            summary += f"; attachments not stored: {', '.join(text.attachments)}"
        if text.problems:
            summary += f"; {'; '.join(text.problems)}"
        isu = (
            isu_notice(self.settings, self.isu_t, answer.isu_note, now)
            if answer.isu_note is not None
            else None
        )
        mails = (email,) if isu is None else (email, isu)
        return _Outcome(InboundStatus.PROCESSED, _clean(summary), "answered", mails)

    async def _address_works(self, session: AsyncSession, speaker: Speaker, now: datetime) -> None:
        """A person's own reply proves their address receives mail again."""
        contact = await contact_by_id(session, speaker.contact_id)
        if contact is not None:
            await mark_email_bouncing(session, SYSTEM, now, contact, False)

    def _refuse(
        self,
        mail: InboundMail,
        msg: EmailMessage,
        reason: _Reason,
        *,
        tell_isu: bool = True,
    ) -> _Outcome:
        english = reason.text(translator("en"))
        notices = self._refusal_notices(mail, msg, reason) if tell_isu else ()
        sender = _sender(msg) or _header(msg, "From") or mail.envelope_from
        return _Outcome(
            InboundStatus.REFUSED, _clean(f"refused from {sender}: {english}"), "refused", notices
        )

    def _refusal_notices(
        self, mail: InboundMail, msg: EmailMessage, reason: _Reason
    ) -> tuple[EmailMessage, ...]:
        """The ISU's notice of a refused mail, with the original attached; none without
        CCM_ISU_EMAIL."""
        if not self.settings.isu_email:
            return ()
        notice = refusal_notice(
            self.settings,
            self.isu_t,
            reason=reason.text(self.isu_t),
            inbound_id=mail.id,
            sender=_header(msg, "From") or mail.envelope_from,
            subject=_header(msg, "Subject"),
            text=_clean(extract_reply(msg).text, MAX_REPLY_TEXT),
            raw=mail.raw,
            now=self.clock.now(),
        )
        return (notice,) if notice is not None else ()

    # ------------------------------------------------------------------ bounces

    async def _bounce(
        self, session: AsyncSession, mail: InboundMail, msg: EmailMessage, kind: Classification
    ) -> _Outcome:
        verdict = kind.verdict or "unknown"
        failed = [r for r in kind.recipients if r.action in ("failed", "")]
        addresses = ", ".join(r.recipient for r in failed) or "no address found"
        head = f"bounce ({verdict}, {kind.reason}): {addresses}"
        if verdict != "hard":
            # Soft: the next reminder tries again. Spam block: *our* mail was refused, the
            # address may be fine. Unknown: nothing conclusive. None marks the address bad.
            return _Outcome(
                InboundStatus.IGNORED, _clean(f"{head}; address kept"), f"bounce_{verdict}"
            )

        now = self.clock.now()
        proof = read_proof(
            msg,
            mail.envelope_to,
            key=self.settings.signing_key,
            today=now.date(),
            max_age_days=self.max_token_age_days,
        )
        contacts: list[Contact] = []
        for recipient in failed:
            if recipient.verdict != "hard":
                continue
            contact = await contact_by_email(session, recipient.recipient)
            if contact is not None and contact not in contacts:
                contacts.append(contact)
        if not failed:  # a report naming nobody: the reminders it returns name them
            for key in proof.reminder_keys():
                message = await message_by_id(session, key)
                contact = await contact_by_id(session, message.contact_id) if message else None
                if contact is not None and contact not in contacts:
                    contacts.append(contact)

        marked: list[str] = []
        unproven: list[str] = []
        notices: list[EmailMessage] = []
        for contact in contacts:
            if contact.email is None or contact.email_bouncing:
                continue
            if failed and not await proof.covers(session, contact.email):
                unproven.append(contact.email)
                notices += await self._unproven_bounce_notice(session, mail, msg, contact.email)
                continue
            marked.append(contact.email)
            notices += await self._mark_bouncing(session, contact, failed, kind.reason)
        text = (
            f"{head}; marked bouncing: {', '.join(marked)}"
            if marked
            else f"{head}; no contact to mark"
        )
        if unproven:
            log.warning(
                "inbound mail #%d: a bounce names %s with no proof that we mailed them; "
                "nothing marked (forged?)",
                mail.id,
                ", ".join(unproven),
            )
            text += f"; no proof that we mailed {', '.join(unproven)}: not marked"
        return _Outcome(InboundStatus.IGNORED, _clean(text), "bounce_hard", tuple(notices))

    async def _mark_bouncing(
        self,
        session: AsyncSession,
        contact: Contact,
        failed: Sequence[RecipientStatus],
        reason: str,
    ) -> list[EmailMessage]:
        """Mark a proven address bouncing (reminders go to the alternate); tell the ISU."""
        assert contact.email is not None
        now = self.clock.now()
        await mark_email_bouncing(session, SYSTEM, now, contact, True)
        alternate = (
            await contact_by_id(session, contact.alternate_id) if contact.alternate_id else None
        )
        diagnostic = next(
            (r.diagnostic or r.status for r in failed if r.recipient.lower() == contact.email),
            reason,
        )
        notice = bouncing_notice(
            self.settings,
            self.isu_t,
            name=contact.name,
            email=contact.email,
            state=contact.state_iso3,
            diagnostic=diagnostic,
            alternate=_describe(alternate),
            now=now,
        )
        return [notice] if notice is not None else []

    async def _unproven_bounce_notice(
        self, session: AsyncSession, mail: InboundMail, msg: EmailMessage, email: str
    ) -> list[EmailMessage]:
        """Tell the ISU of a report naming a contact without proof: once a day per address,
        so a flood of forgeries is not a flood of notices."""
        now = self.clock.now()
        notice_id = unproven_notice_id(
            email, now.astimezone(self.settings.zone).date(), self.settings.reply_domain
        )
        if await mail_stored(session, notice_id):
            return []
        notice = unproven_bounce_notice(
            self.settings,
            self.isu_t,
            email=email,
            inbound_id=mail.id,
            raw=mail.raw,
            now=now,
            message_id=notice_id,
        )
        return [notice] if notice is not None else []


def _describe(contact: Contact | None) -> str | None:
    if contact is None or not contact.active or not contact.email:
        return None
    return f"{contact.name} <{contact.email}>"


def _delivery_about(deliveries: Sequence[Delivery], speaker: Speaker) -> Delivery | None:
    """The reminder item a reply is about: the speaker's State's first live one."""
    ranked = sorted(
        deliveries,
        key=lambda d: (d.state_iso3 != speaker.state, d.cancelled, d.id),
    )
    return ranked[0] if ranked else None
