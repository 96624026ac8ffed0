"""Conversation keys: which reminder delivery a reply answers.

A key is a signed (delivery id, issue date) pair, written in lowercase base32 so it survives
servers that lowercase or uppercase local parts and subjects. It travels three ways, because
Exchange has no ``+`` sub-addressing and some clients drop one or another:

- the reply address ``reply+TOKEN@reply-domain``;
- the reminder's Message-ID ``<TOKEN@reply-domain>``, echoed in In-Reply-To/References;
- the subject tag ``[CCM-TOKEN]``.

Layout (15 bytes, 24 base32 characters, no padding)::

    delivery id (5 bytes, big-endian) | issue day since 1970-01-01 (2 bytes) | HMAC (8 bytes)

The HMAC-SHA256 is truncated to 64 bits: enough against forgery by guessing, since each guess
costs an email and every failure is logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from typing import Literal

__all__ = [
    "SUBJECT_TAG_PREFIX",
    "TOKEN_LENGTH",
    "InvalidToken",
    "find_token",
    "message_id_for",
    "reply_address_for",
    "sign_token",
    "subject_tag_for",
    "verify_token",
]

InvalidReason = Literal["malformed", "bad-signature", "expired"]

TOKEN_LENGTH = 24
SUBJECT_TAG_PREFIX = "CCM-"

_EPOCH = date(1970, 1, 1)
_ID_BYTES = 5
_DAY_BYTES = 2
_MAC_BYTES = 8
_MAX_DELIVERY_ID = (1 << (8 * _ID_BYTES)) - 1
_MAX_DAY = (1 << (8 * _DAY_BYTES)) - 1  # 2149-06-06
# Domain separation: the same key may one day sign other things.
_MAC_CONTEXT = b"ccm-bot reply token v1\x00"

_TOKEN = rf"[a-z2-7]{{{TOKEN_LENGTH}}}"
# Boundaries keep a longer look-alike (a 25-character string) from yielding a 24-character slice.
_ADDRESS_RE = re.compile(rf"(?<![a-z0-9._%+-])reply\+({_TOKEN})@", re.IGNORECASE)
_MESSAGE_ID_RE = re.compile(rf"<({_TOKEN})@[^<>@\s]+>", re.IGNORECASE)
_SUBJECT_RE = re.compile(rf"\[\s*CCM-({_TOKEN})\s*\]", re.IGNORECASE)
_TOKEN_RE = re.compile(_TOKEN)


class InvalidToken(ValueError):
    """A key that cannot be trusted; ``reason`` says why, for the log and for metrics."""

    def __init__(self, reason: InvalidReason) -> None:
        super().__init__(reason)
        self.reason: InvalidReason = reason


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _MAC_CONTEXT + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def sign_token(delivery_id: int, key: bytes, issued: date) -> str:
    """The 24-character key for one delivery, issued on ``issued``."""
    if not key:
        raise ValueError("the signing key must not be empty")
    if not 0 <= delivery_id <= _MAX_DELIVERY_ID:
        raise ValueError(f"delivery id out of range: {delivery_id}")
    day = (issued - _EPOCH).days
    if not 0 <= day <= _MAX_DAY:
        raise ValueError(f"issue date out of range: {issued}")
    payload = delivery_id.to_bytes(_ID_BYTES, "big") + day.to_bytes(_DAY_BYTES, "big")
    raw = payload + _mac(key, payload)
    return base64.b32encode(raw).decode("ascii").lower()


def verify_token(token: str, key: bytes, *, today: date, max_age_days: int = 400) -> int:
    """The delivery id a key was issued for, or ``InvalidToken``.

    Case is ignored (servers change it). The signature is checked before the age, so an
    attacker learns nothing about the date field of a forged key.
    """
    candidate = token.strip().lower()
    if not _TOKEN_RE.fullmatch(candidate):
        raise InvalidToken("malformed")
    try:
        raw = base64.b32decode(candidate.upper())
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern already excludes these
        raise InvalidToken("malformed") from None
    payload, mac = raw[: _ID_BYTES + _DAY_BYTES], raw[_ID_BYTES + _DAY_BYTES :]
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise InvalidToken("bad-signature")
    delivery_id = int.from_bytes(payload[:_ID_BYTES], "big")
    issued = _EPOCH + timedelta(days=int.from_bytes(payload[_ID_BYTES:], "big"))
    if (today - issued).days > max_age_days:
        raise InvalidToken("expired")
    return delivery_id


def message_id_for(token: str, domain: str) -> str:
    """The reminder's Message-ID, so replies carry the key in In-Reply-To/References."""
    return f"<{token}@{domain}>"


def reply_address_for(token: str, domain: str) -> str:
    """The reminder's Reply-To address."""
    return f"reply+{token}@{domain}"


def subject_tag_for(token: str) -> str:
    """The subject tag; survives Exchange, which drops ``+`` addresses' meaning."""
    return f"[{SUBJECT_TAG_PREFIX}{token}]"


def _header_values(msg: Message, name: str) -> list[str]:
    """Every value of a header as text; a header the parser chokes on counts as absent."""
    try:
        return [str(value) for value in msg.get_all(name, [])]
    except Exception:  # a hostile header must not stop mail processing
        return []


def _first(pattern: re.Pattern[str], values: Iterable[str]) -> str | None:
    for value in values:
        match = pattern.search(value)
        if match:
            return match.group(1).lower()
    return None


def _embedded_original(msg: Message) -> Message | None:
    """The returned headers of the reminder inside a bounce (message/rfc822 or rfc822-headers)."""
    for part in msg.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if content_type in ("text/rfc822-headers", "message/rfc822-headers"):
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                return message_from_bytes(raw, policy=policy.default)
    return None


def find_token(msg: EmailMessage | Message, envelope_recipients: Iterable[str] = ()) -> str | None:
    """The conversation key a message carries (lowercased, not yet verified), or None.

    Looked for in order of trust: where the message was delivered (LMTP recipients,
    Delivered-To, X-Original-To), the visible recipients, the thread headers (newest parent
    first), the subject, and finally the returned headers inside a bounce.
    """
    recipients = [*envelope_recipients]
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        recipients += _header_values(msg, name)
    found = _first(_ADDRESS_RE, recipients)
    if found:
        return found

    references = _header_values(msg, "In-Reply-To")
    for value in _header_values(msg, "References"):
        references += reversed(value.split())
    found = _first(_MESSAGE_ID_RE, references)
    if found:
        return found

    found = _first(_SUBJECT_RE, _header_values(msg, "Subject"))
    if found:
        return found

    try:
        original = _embedded_original(msg)
    except Exception:  # a truncated or hostile report part: no key from it
        original = None
    if original is not None:
        return (
            _first(_MESSAGE_ID_RE, _header_values(original, "Message-ID"))
            or _first(_ADDRESS_RE, _header_values(original, "Reply-To"))
            or _first(_SUBJECT_RE, _header_values(original, "Subject"))
        )
    return None
