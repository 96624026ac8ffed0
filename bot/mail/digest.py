"""Replies to the weekly digest email: which reply-token keys name a digest, and the answer.

The email carries a reply token signed over the send's id (``storage.digest.digest_key``), in
Reply-To, Message-ID and the subject like a reminder, and a ``List-Unsubscribe`` mailto to the
same reply address: replying STOP, or a client's unsubscribe button, switches the digest off
(``answer_digest_reply``, called by ``bot.mail.inbound``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy.ext.asyncio import AsyncSession

from bot.mail.answers import answer_email
from bot.mail.body.reply import extract_reply
from bot.settings import Settings
from handlers.digest import digest_switch
from handlers.i18n import _
from handlers.replies import Reply
from handlers.turns import Speaker
from handlers.understanding._text import fold
from handlers.understanding.keywords import Intent
from handlers.understanding.reader import understand
from storage.digest import digest_send_by_id, digest_send_id
from storage.models import Via

__all__ = [
    "DigestReplyOutcome",
    "answer_digest_reply",
    "is_digest_key",
]


def is_digest_key(key: int) -> bool:
    """Whether a verified reply-token key names a digest rather than a reminder."""
    return digest_send_id(key) is not None


# --- replies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestReplyOutcome:
    """What ``bot.mail.inbound`` records and mails for a reply to a digest.

    ``refused`` is a reason marked for translation (with ``values``) when the reply is refused.
    """

    text: str
    mails: tuple[EmailMessage, ...] = ()
    refused: str | None = None
    values: dict[str, str] = field(default_factory=dict)


def _subject_of(msg: EmailMessage) -> str:
    try:
        return str(msg.get("Subject", ""))
    except Exception:  # a hostile header must not stop mail processing
        return ""


def _message_id_of(msg: EmailMessage) -> str | None:
    try:
        value = msg.get("Message-ID")
    except Exception:
        return None
    if value is None:
        return None
    return " ".join(str(value).split())[:998] or None


def _from_address(msg: EmailMessage) -> str:
    try:
        return parseaddr(str(msg.get("From", "")))[1] or "?"
    except Exception:
        return "?"


def wants_out(text: str, subject: str, speaker: Speaker, now: datetime) -> bool:
    """STOP (in any of our languages, or "please unsubscribe me"), or a client's unsubscribe."""
    if "unsubscribe" in fold(subject):
        return True
    understood = understand(text, today=speaker.today(now), default_language=speaker.language)
    return understood.intent is Intent.STOP


async def answer_digest_reply(
    session: AsyncSession,
    key: int,
    speaker: Speaker | None,
    msg: EmailMessage,
    *,
    settings: Settings,
    inbound_id: int,
    now: datetime,
) -> DigestReplyOutcome:
    """A reply to a digest: STOP switches the digest off; anything else gets a short pointer."""
    send_id = digest_send_id(key)
    send = await digest_send_by_id(session, send_id) if send_id is not None else None
    if send is None or send.contact_id is None:
        return DigestReplyOutcome("", refused=_("its conversation key names no message"))
    if speaker is None or speaker.contact_id != send.contact_id or not speaker.email:
        return DigestReplyOutcome(
            "",
            refused=_("{sender} is not the person this digest was sent to"),
            values={"sender": _from_address(msg)},
        )
    t = speaker.t
    stop = wants_out(extract_reply(msg).text, _subject_of(msg), speaker, now)
    if stop:
        reply = await digest_switch(session, speaker, False, now=now, via=Via.EMAIL)
    else:
        reply = Reply(
            t.language,
            t.gettext("Weekly digest"),
            t.gettext(
                "To stop the weekly digest, reply STOP. For anything else, answer one of your "
                "reminders or write to the ISU."
            ),
        )
    email = answer_email(
        reply,
        settings=settings,
        to=speaker.email,
        message_key=key,
        issued=speaker.today(now),
        in_reply_to=_message_id_of(msg),
        inbound_id=inbound_id,
        now=now,
    )
    what = "digest switched off" if stop else "pointed to STOP"
    return DigestReplyOutcome(f"reply to digest #{send.id} from {speaker.email}: {what}", (email,))
