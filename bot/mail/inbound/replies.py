"""A person's reply: answered through the conversation core when its key, its sender and its
State check out; otherwise refused unanswered, and the ISU told (we never mail an address we
do not know)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from bot.mail.answers import answer_email, isu_notice, note_attachments, refusal_notice
from bot.mail.body.reply import extract_reply
from bot.mail.digest import answer_digest_reply, is_digest_key
from bot.mail.inbound.reading import (
    HEADER_LIMIT,
    MAX_REPLY_TEXT,
    Outcome,
    Reason,
    clean,
    header,
    sender_of,
)
from bot.mail.tokens import InvalidToken, find_token, verify_token
from bot.settings import Settings
from handlers.conversation import Conversation
from handlers.i18n import Translator, _, translator
from handlers.turns import Speaker, Turn, identify
from schedules.clock import Clock
from storage.audit import SYSTEM
from storage.contacts import contact_by_id, mark_email_bouncing
from storage.ledger import message_by_id
from storage.models import Delivery, InboundMail, InboundStatus, Via


class Replies:
    """Answers and refusals of replies by email; the mails are returned, stored by the caller."""

    def __init__(
        self,
        settings: Settings,
        conversation: Conversation,
        clock: Clock,
        isu_t: Translator,
        max_token_age_days: int,
    ) -> None:
        self.settings = settings
        self.conversation = conversation
        self.clock = clock
        self.isu_t = isu_t
        self.max_token_age_days = max_token_age_days

    async def answer(self, session: AsyncSession, mail: InboundMail, msg: EmailMessage) -> Outcome:
        """Answer a person's reply through the conversation core, or refuse it."""
        now = self.clock.now()
        sender = sender_of(msg)
        speaker = (
            await identify(session, fallback_zone=self.settings.timezone, email=sender)
            if sender
            else None
        )
        token = find_token(msg, mail.envelope_to)
        if token is None:
            # Mostly spam to a guessable address: the ISU hears only of known contacts.
            reason = Reason(_("it carries no conversation key"))
            return self._refuse(mail, msg, reason, tell_isu=speaker is not None)
        if mail.auth_dmarc == "fail":
            # Our MTA found the From domain does not vouch for this message: a forged From.
            domain = (sender or "?").rpartition("@")[2]
            reason = Reason(_("its From domain {domain} fails DMARC"), {"domain": domain})
            return self._refuse(mail, msg, reason)
        try:
            message_key = verify_token(
                token,
                self.settings.signing_key,
                today=now.date(),
                max_age_days=self.max_token_age_days,
            )
        except InvalidToken as exc:
            reason = Reason(
                _("its conversation key is not valid ({problem})"), {"problem": exc.reason}
            )
            return self._refuse(mail, msg, reason)
        envelope = mail.envelope_from.strip().strip("<>").lower()
        if speaker is not None and envelope != (speaker.email or "").lower():
            # From is the easiest header to forge; the envelope sender is what SPF checks.
            # Both must be the contact's address, or the writer is a stranger to us.
            reason = Reason(
                _("it was sent from {envelope}, not from the address in its From, {sender}"),
                {"envelope": clean(envelope, 254) or "<>", "sender": sender or "?"},
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
                return self._refuse(mail, msg, Reason(done.refused, done.values))
            return Outcome(InboundStatus.PROCESSED, clean(done.text), "digest", done.mails)
        message = await message_by_id(session, message_key)
        if message is None:
            reason = Reason(_("its conversation key names no message"))
            return self._refuse(mail, msg, reason)
        states = sorted({d.state_iso3 for d in message.deliveries})
        if speaker is None or not (
            speaker.contact_id == message.contact_id or speaker.state in states
        ):
            reason = Reason(
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
        person_id = header(msg, "Message-ID")[:HEADER_LIMIT] or None
        turn = Turn(
            speaker,
            Via.EMAIL,
            text=clean(text.text, MAX_REPLY_TEXT),
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
        return Outcome(InboundStatus.PROCESSED, clean(summary), "answered", mails)

    async def _address_works(self, session: AsyncSession, speaker: Speaker, now: datetime) -> None:
        """A person's own reply proves their address receives mail again."""
        contact = await contact_by_id(session, speaker.contact_id)
        if contact is not None:
            await mark_email_bouncing(session, SYSTEM, now, contact, False)

    def _refuse(
        self,
        mail: InboundMail,
        msg: EmailMessage,
        reason: Reason,
        *,
        tell_isu: bool = True,
    ) -> Outcome:
        english = reason.text(translator("en"))
        notices = self._refusal_notices(mail, msg, reason) if tell_isu else ()
        sender = sender_of(msg) or header(msg, "From") or mail.envelope_from
        return Outcome(
            InboundStatus.REFUSED, clean(f"refused from {sender}: {english}"), "refused", notices
        )

    def _refusal_notices(
        self, mail: InboundMail, msg: EmailMessage, reason: Reason
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
            sender=header(msg, "From") or mail.envelope_from,
            subject=header(msg, "Subject"),
            text=clean(extract_reply(msg).text, MAX_REPLY_TEXT),
            raw=mail.raw,
            now=self.clock.now(),
        )
        return (notice,) if notice is not None else ()


def _delivery_about(deliveries: Sequence[Delivery], speaker: Speaker) -> Delivery | None:
    """The reminder item a reply is about: the speaker's State's first live one."""
    ranked = sorted(
        deliveries,
        key=lambda d: (d.state_iso3 != speaker.state, d.cancelled, d.id),
    )
    return ranked[0] if ranked else None
