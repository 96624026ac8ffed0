"""What the bot mails after reading a reply: its answer to the person, or a notice to the ISU.

The answer is the conversation core's reply rendered by ``render_email`` and keyed for the
same reminder, so the person's next reply (CONFIRM…) finds the conversation again. Its
Message-ID, however, is its own: ``render_email`` derives the Message-ID from the key and the
day, which would give the answer the reminder's Message-ID (and two answers on one day the
same one); receiving servers drop a message whose Message-ID they have seen. The key still
travels in the answer's Reply-To address, its References and its subject tag.

Notices go to the ISU only, never to the sender of a refused message (no backscatter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.mail.compose import render_email
from bot.mail.tokens import sign_token
from bot.settings import Settings
from handlers.i18n import Translator
from handlers.replies import Handover, Reply

__all__ = [
    "MAX_ATTACHED_ORIGINAL",
    "answer_email",
    "answer_message_id",
    "bouncing_notice",
    "isu_notice",
    "note_attachments",
    "refusal_notice",
    "undelivered_notice",
    "unproven_bounce_notice",
]

# A refused message is attached to the ISU's notice up to this size; beyond, the notice
# names the stored copy (inbound_mail row) instead.
MAX_ATTACHED_ORIGINAL = 2 * 1024 * 1024
_QUOTED_TEXT_LIMIT = 4000


def note_attachments(reply: Reply, attachments: Sequence[str], t: Translator) -> Reply:
    """The reply with a line saying which attachments were not kept (contents never are)."""
    if not attachments:
        return reply
    note = t.gettext("Attachments are not stored: {names}", names=", ".join(attachments))
    return replace(reply, footer="\n\n".join(part for part in (reply.footer, note) if part))


def answer_message_id(inbound_id: int, token: str, domain: str) -> str:
    """Unique per answered mail, and the same if that mail is answered again after a crash."""
    return f"<answer.{inbound_id}.{token}@{domain}>"


def answer_email(
    reply: Reply,
    *,
    settings: Settings,
    to: str,
    message_key: int,
    issued: date,
    in_reply_to: str | None,
    inbound_id: int,
    now: datetime,
) -> EmailMessage:
    """The answer to one received mail, keyed for the reminder ``message_key`` names."""
    msg = render_email(
        reply,
        to=to,
        sender=settings.mail_from,
        message_key=message_key,
        key=settings.signing_key,
        reply_domain=settings.reply_domain,
        issued=issued,
        in_reply_to=in_reply_to,
        sent_at=now,
    )
    token = sign_token(message_key, settings.signing_key, issued)
    msg.replace_header("Message-ID", answer_message_id(inbound_id, token, settings.reply_domain))
    return msg


def _notice(
    settings: Settings,
    t: Translator,
    subject: str,
    body: str,
    now: datetime,
    *,
    attachment: tuple[str, bytes] | None = None,
) -> EmailMessage:
    """A mail to the ISU in ``t``'s language, with an optional file (name, contents)."""
    assert settings.isu_email
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = settings.isu_email
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid("ccm-bot.notice", domain=settings.reply_domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(body, charset="utf-8", cte="quoted-printable")
    if attachment is not None:
        filename, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    # Last: set_content drops the Content-* headers set before it, add_attachment moves them.
    msg["Content-Language"] = t.language
    return msg


def isu_notice(
    settings: Settings, t: Translator, note: Handover, now: datetime
) -> EmailMessage | None:
    """A note for the ISU from the conversation (a handover); None when no ISU address is set."""
    if not settings.isu_email:
        return None
    subject = t.gettext("For the ISU: a contact needs your attention")
    return _notice(settings, t, subject, note.render(t), now)


def refusal_notice(
    settings: Settings,
    t: Translator,
    *,
    reason: str,
    inbound_id: int,
    sender: str,
    subject: str,
    text: str,
    raw: bytes,
    now: datetime,
) -> EmailMessage | None:
    """Tells the ISU a reply was refused and not answered; None when no ISU address is set."""
    if not settings.isu_email:
        return None
    lines = [
        t.gettext("A reply was refused and its sender was not answered: {reason}.", reason=reason),
        "",
        t.gettext("From: {sender}", sender=sender),
        t.gettext("Subject: {subject}", subject=subject),
        t.gettext("Stored as inbound mail #{number}.", number=inbound_id),
    ]
    if text:
        quoted = text[:_QUOTED_TEXT_LIMIT] + ("…" if len(text) > _QUOTED_TEXT_LIMIT else "")
        lines += ["", t.gettext("What they wrote:"), "", quoted]
    # As a file, not message/rfc822: a malformed message must not break this one.
    original = (f"reply-{inbound_id}.eml", raw) if len(raw) <= MAX_ATTACHED_ORIGINAL else None
    return _notice(
        settings,
        t,
        t.gettext("Reply refused: {reason}", reason=reason),
        "\n".join(lines),
        now,
        attachment=original,
    )


def bouncing_notice(
    settings: Settings,
    t: Translator,
    *,
    name: str,
    email: str,
    state: str | None,
    diagnostic: str,
    alternate: str | None,
    now: datetime,
) -> EmailMessage | None:
    """Tells the ISU a contact's address bounces; None when no ISU address is set."""
    if not settings.isu_email:
        return None
    who = f"{name} <{email}>" + (f" ({state})" if state else "")
    lines = [
        t.gettext("Email to {who} bounces: the address is now marked as bouncing.", who=who),
        "",
        diagnostic,
        "",
        t.gettext("The alternate contact is {alternate}.", alternate=alternate)
        if alternate
        else t.gettext("There is no alternate contact: please find a new address."),
    ]
    subject = t.gettext("Address bouncing: {email}", email=email)
    return _notice(settings, t, subject, "\n".join(lines), now)


def unproven_bounce_notice(
    settings: Settings,
    t: Translator,
    *,
    email: str,
    inbound_id: int,
    raw: bytes,
    now: datetime,
    message_id: str,
) -> EmailMessage | None:
    """Tells the ISU a bounce named a contact without proof that it returns our mail, so the
    address was kept; once a day per address (``message_id`` names the day), with the report
    attached. None when no ISU address is set."""
    if not settings.isu_email:
        return None
    lines = [
        t.gettext(
            "A bounce report names {email}, but nothing in it shows that it returns mail we "
            "sent to that address, so the address was kept and its reminders go on. It may be "
            "forged. If {email} really no longer works, correct the contact in the contacts "
            "file and import it again.",
            email=email,
        ),
        "",
        t.gettext("Stored as inbound mail #{number}.", number=inbound_id),
        t.gettext("Other such reports about this address today are not notified."),
    ]
    original = (f"bounce-{inbound_id}.eml", raw) if len(raw) <= MAX_ATTACHED_ORIGINAL else None
    subject = t.gettext("Bounce without proof, address kept: {email}", email=email)
    notice = _notice(settings, t, subject, "\n".join(lines), now, attachment=original)
    notice.replace_header("Message-ID", message_id)
    return notice


def undelivered_notice(
    settings: Settings,
    t: Translator,
    *,
    mail_id: int,
    recipient: str,
    subject: str,
    error: str,
    attempts: int,
    inbound_id: int | None,
    raw: bytes,
    now: datetime,
) -> EmailMessage | None:
    """Tells the ISU a mail was given up (refused, or still failing after the last attempt),
    with the mail attached so it can be forwarded; None when no ISU address is set."""
    if not settings.isu_email:
        return None
    lines = [
        t.gettext(
            "An email to {recipient} could not be delivered and will not be retried automatically.",
            recipient=recipient,
        ),
        "",
        t.gettext("Subject: {subject}", subject=subject),
    ]
    if inbound_id is not None:
        lines.append(t.gettext("It answers inbound mail #{number}.", number=inbound_id))
    lines += [
        t.ngettext(
            "Tried {count} time. The last error was: {error}",
            "Tried {count} times. The last error was: {error}",
            attempts,
            error=error,
        ),
        "",
    ]
    attach = len(raw) <= MAX_ATTACHED_ORIGINAL
    if attach:
        lines.append(t.gettext("The undelivered message is attached."))
    lines.append(
        t.gettext(
            "To send it again once the problem is solved: {command}",
            command=f"ccm-bot mail retry {mail_id}",
        )
    )
    return _notice(
        settings,
        t,
        t.gettext("Email not delivered to {recipient}", recipient=recipient),
        "\n".join(lines),
        now,
        attachment=(f"undelivered-{mail_id}.eml", raw) if attach else None,
    )
