"""What is read from a received message and what becomes of it: headers as clean, storable
text whatever the sender put in them, why a reply was refused, and the outcome of one message
with the mails it sends."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any

from handlers.i18n import Translator
from storage.models import InboundStatus

# What the conversation core reads of one reply; a pasted report beyond this is cut.
MAX_REPLY_TEXT = 20_000
HEADER_LIMIT = 998
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Reason:
    """Why a reply was refused: English for the log, the ISU's language for the notice."""

    message: str
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, t: Translator) -> str:
        return t.gettext(self.message, **self.values)


@dataclass(frozen=True)
class Outcome:
    """What became of one received message, and what to mail (stored with it, then sent)."""

    status: InboundStatus
    text: str
    kind: str  # the counter it adds to: answered, refused, auto_reply, bounce_hard…
    mails: tuple[EmailMessage, ...] = ()


def clean(value: object, limit: int | None = None) -> str:
    """Text safe to store: no NUL or control characters (PostgreSQL refuses NUL), no lone
    surrogates (what undecodable header bytes become), optionally cut."""
    text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = _UNPRINTABLE.sub("", text)
    return text[:limit] if limit else text


def header(msg: EmailMessage, name: str) -> str:
    """A header as one clean line; "" when absent or unparseable."""
    try:
        value = msg.get(name)
    except Exception:  # a hostile header must not stop processing
        return ""
    return "" if value is None else " ".join(clean(value, 4 * HEADER_LIMIT).split())


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID, read from the headers alone, for storing before anything else."""
    try:
        value = BytesHeaderParser().parsebytes(raw).get("Message-ID")
    except Exception:
        return None
    cleaned = " ".join(clean(value, HEADER_LIMIT).split()) if value is not None else ""
    return cleaned or None


def sender_of(msg: EmailMessage) -> str | None:
    """The one address in From, lowercased; None if there is not exactly one."""
    try:
        addresses = [a for _n, a in getaddresses([str(v) for v in msg.get_all("From", [])]) if a]
    except Exception:
        return None
    if len(addresses) != 1 or "@" not in addresses[0]:
        return None
    return clean(addresses[0], 254).strip().lower() or None
