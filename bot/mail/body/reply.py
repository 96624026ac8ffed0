"""A received message read as a reply: parsed without ever raising, then its new text, its
whole decoded body, the names of its attachments and what went wrong reading it."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser

from bot.mail.body.html_text import html_to_text
from bot.mail.body.mime import Found, collect, defects
from bot.mail.body.quotes import MAX_SCAN_CHARS, new_text


@dataclass(frozen=True, slots=True)
class ReplyText:
    """The decoded reply. ``attachments`` are names for the log only; contents are never kept."""

    text: str
    full_text: str
    attachments: tuple[str, ...] = ()
    was_html: bool = False
    problems: tuple[str, ...] = ()


def parse_message(raw: bytes) -> EmailMessage:
    """Parse a received message the way every function here expects it.

    The standard parser recurses once per MIME level; a hostile message nested a few thousand
    levels deep exhausts the stack. Such a message is kept with its headers and raw body.
    """
    try:
        msg = message_from_bytes(raw, policy=policy.default)
    except RecursionError:
        msg = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)  # guaranteed by policy.default's message_factory
    return msg


def extract_reply(msg: EmailMessage | Message) -> ReplyText:
    """The reply's new text, its whole decoded body, attachment names and what went wrong."""
    found = Found()
    try:
        bodies = collect(msg, found)
    except Exception as exc:  # a parser corner we did not foresee: keep the mail flowing
        found.problem(f"unreadable MIME structure: {type(exc).__name__}")
        bodies = []
    defects(msg, found)
    if not bodies:
        found.problem("no text part")
        return ReplyText(
            text="",
            full_text="",
            attachments=tuple(found.attachments),
            was_html=False,
            problems=tuple(found.problems),
        )
    full_parts: list[str] = []
    reply_parts: list[str] = []
    for body in bodies:
        if body.kind == "html":
            full_parts.append(html_to_text(body.text))
            reply_parts.append(html_to_text(body.text, drop_quotes=True))
        else:
            plain = body.text.replace("\r\n", "\n").replace("\r", "\n")
            full_parts.append(plain)
            reply_parts.append(plain)
    reply_source = "\n\n".join(reply_parts)
    if len(reply_source) > MAX_SCAN_CHARS:
        found.problem(f"only the first {MAX_SCAN_CHARS} characters were searched for the reply")
    return ReplyText(
        text=new_text(reply_source),
        full_text="\n\n".join(part.strip("\n") for part in full_parts).strip(),
        attachments=tuple(found.attachments),
        was_html=any(body.kind == "html" for body in bodies),
        problems=tuple(found.problems),
    )
