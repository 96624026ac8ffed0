"""The weekly digest rendered for email: plain text and HTML from the same templates, the
reporting-rate chart as bars in both, and the whole message with its reply token in Reply-To,
Message-ID and the subject, and a ``List-Unsubscribe`` mailto to the same reply address.

``List-Unsubscribe-Post`` (RFC 8058 one-click) needs an HTTPS endpoint, which the bot does not
have, so it is not claimed.
"""

from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from bot.mail.compose import render_email
from bot.mail.tokens import reply_address_for, sign_token
from handlers.digest_composition import Digest
from storage.digest import digest_key

__all__ = ["BAR_WIDTH", "render_digest_email", "render_digest_html", "render_digest_text"]

BAR_WIDTH = 200  # pixels of a full bar: with its caption, fits a phone's 360-pixel screen
TEXT_BAR = 20  # characters of a full bar in the plain-text chart


def _paragraphs(value: str) -> list[str]:
    return [part.strip("\n") for part in value.split("\n\n") if part.strip()]


def _nl2br(value: str) -> Markup:
    return Markup("<br>\n").join(escape(line) for line in value.split("\n"))


def _bar_pixels(rate: float) -> int:
    return round(max(0.0, min(rate, 1.0)) * BAR_WIDTH)


def _text_bar(rate: float) -> str:
    filled = round(max(0.0, min(rate, 1.0)) * TEXT_BAR)
    return "[" + "#" * filled + "." * (TEXT_BAR - filled) + "]"


@cache
def _environment() -> Environment:
    # No gettext here: every word comes translated from handlers.digest_composition.
    environment = Environment(
        loader=PackageLoader("bot.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["paragraphs"] = _paragraphs
    environment.filters["nl2br"] = _nl2br
    environment.filters["bar_pixels"] = _bar_pixels
    environment.filters["text_bar"] = _text_bar
    return environment


def _values(digest: Digest) -> dict[str, Any]:
    return {
        "language": digest.language,
        "subject": digest.subject,
        "intro": digest.intro,
        "sections": digest.sections,
        "chart": digest.chart,
        "footer": digest.footer,
        "bar_width": BAR_WIDTH,
    }


def render_digest_text(digest: Digest) -> str:
    """The plain-text part; a quiet week is its two lines."""
    if digest.quiet:
        return digest.intro + "\n"
    return _environment().get_template("digest.txt.j2").render(_values(digest))


def render_digest_html(digest: Digest) -> str:
    return _environment().get_template("digest.html.j2").render(_values(digest))


def render_digest_email(
    digest: Digest,
    *,
    to: str,
    sender: str,
    send_id: int,
    key: bytes,
    reply_domain: str,
    issued: date,
    sent_at: datetime | None = None,
) -> EmailMessage:
    """The digest as an email: text and HTML (text only for a quiet week), keyed for replies.

    ``send_id`` and ``issued`` must be stable for one send (the DigestSend id and the digest's
    day): they make the token, hence the Message-ID, so a resend is recognised as the same mail.
    """
    message_key = digest_key(send_id)
    token = sign_token(message_key, key, issued)
    unsubscribe = f"mailto:{reply_address_for(token, reply_domain)}?subject=unsubscribe"
    # render_email sets the headers every bot mail shares (token, threading, Auto-Submitted);
    # the body is then replaced by the digest's own templates.
    msg = render_email(
        digest.reply(),
        to=to,
        sender=sender,
        message_key=message_key,
        key=key,
        reply_domain=reply_domain,
        issued=issued,
        list_unsubscribe=unsubscribe,
        sent_at=sent_at,
    )
    msg.clear_content()  # removes the payload and Content-* headers only
    msg.set_content(
        render_digest_text(digest), subtype="plain", charset="utf-8", cte="quoted-printable"
    )
    if not digest.quiet:
        msg.add_alternative(
            render_digest_html(digest), subtype="html", charset="utf-8", cte="quoted-printable"
        )
    msg["Content-Language"] = digest.language
    return msg
