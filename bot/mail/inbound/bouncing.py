"""Delivery reports: a hard bounce marks the contact's address bouncing (its reminders go to
the alternate) only with proof that we mailed that address; soft bounces, spam blocks and
forgeries are recorded, and the ISU is told of what was marked or could not be proven."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from bot.mail.answers import bouncing_notice, unproven_bounce_notice
from bot.mail.bounces import read_proof, unproven_notice_id
from bot.mail.classify import Classification, RecipientStatus
from bot.mail.inbound.reading import Outcome, clean
from bot.settings import Settings
from handlers.i18n import Translator
from schedules.clock import Clock
from storage.audit import SYSTEM
from storage.contacts import contact_by_email, contact_by_id, mark_email_bouncing
from storage.ledger import message_by_id
from storage.models import Contact, InboundMail, InboundStatus
from storage.outgoing import mail_stored

log = logging.getLogger(__name__)


class Bounces:
    """What a delivery report changes; the notices are returned, stored by the caller."""

    def __init__(
        self, settings: Settings, clock: Clock, isu_t: Translator, max_token_age_days: int
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.isu_t = isu_t
        self.max_token_age_days = max_token_age_days

    async def handle(
        self, session: AsyncSession, mail: InboundMail, msg: EmailMessage, kind: Classification
    ) -> Outcome:
        """Mark the proven addresses of a hard bounce bouncing; anything else is recorded."""
        verdict = kind.verdict or "unknown"
        failed = [r for r in kind.recipients if r.action in ("failed", "")]
        addresses = ", ".join(r.recipient for r in failed) or "no address found"
        head = f"bounce ({verdict}, {kind.reason}): {addresses}"
        if verdict != "hard":
            # Soft: the next reminder tries again. Spam block: *our* mail was refused, the
            # address may be fine. Unknown: nothing conclusive. None marks the address bad.
            return Outcome(
                InboundStatus.IGNORED, clean(f"{head}; address kept"), f"bounce_{verdict}"
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
        return Outcome(InboundStatus.IGNORED, clean(text), "bounce_hard", tuple(notices))

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
