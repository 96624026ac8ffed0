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
    "find_tokens",
    "message_id_for",
    "message_id_token",
    "reply_address_for",
    "returned_message_ids",
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
# A Message-ID line of a returned copy pasted as text below a plain-text bounce (qmail, Exim).
_PASTED_MESSAGE_ID_RE = re.compile(r"^Message-ID:[ \t]*(<[^<>\s]{1,250}>)", re.I | re.M)
# Keys read from one message at most: each costs an HMAC and, in a bounce, a lookup.
_MAX_TOKENS = 8


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


def _all(pattern: re.Pattern[str], values: Iterable[str]) -> list[str]:
    return [match.group(1).lower() for value in values for match in pattern.finditer(value)]


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


def _returned_original(msg: Message) -> Message | None:
    try:
        return _embedded_original(msg)
    except Exception:  # a truncated or hostile report part: nothing returned
        return None


def _pasted_copies(msg: Message) -> list[str]:
    """Message-IDs in the text parts: where plain-text bounces paste the returned message.
    Read for bounces only: in a person's mail that would be quoted text."""
    found: list[str] = []
    for part in msg.walk():
        if part.get_content_type() != "text/plain":
            continue
        try:
            raw = part.get_payload(decode=True)
        except Exception:
            continue
        if isinstance(raw, bytes):
            text = raw.decode("utf-8", "replace")
            found += (match.group(1) for match in _PASTED_MESSAGE_ID_RE.finditer(text))
    return found


def returned_message_ids(msg: EmailMessage | Message) -> tuple[str, ...]:
    """The Message-IDs of the message a bounce returns (attached, or pasted as text), once each.

    What a bounce says about itself proves nothing; one of *our* Message-IDs in it, matched to
    the address we sent that mail to, shows it returns mail of ours.
    """
    original = _returned_original(msg)
    attached = _header_values(original, "Message-ID") if original is not None else []
    ids = [value.strip() for value in attached] + _pasted_copies(msg)
    return tuple(dict.fromkeys(i for i in ids if i))[:_MAX_TOKENS]


def find_tokens(
    msg: EmailMessage | Message, envelope_recipients: Iterable[str] = ()
) -> tuple[str, ...]:
    """Every conversation key a message carries (lowercased, not yet verified), once each.

    In order of trust: where the message was delivered (LMTP recipients, Delivered-To,
    X-Original-To), the visible recipients, the thread headers (newest parent first), the
    subject, and finally the returned message inside a bounce.
    """
    recipients = [*envelope_recipients]
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        recipients += _header_values(msg, name)
    references = _header_values(msg, "In-Reply-To")
    for value in _header_values(msg, "References"):
        references += reversed(value.split())
    found = (
        _all(_ADDRESS_RE, recipients)
        + _all(_MESSAGE_ID_RE, references)
        + _all(_SUBJECT_RE, _header_values(msg, "Subject"))
    )
    original = _returned_original(msg)
    if original is not None:
        found += (
            _all(_MESSAGE_ID_RE, _header_values(original, "Message-ID"))
            + _all(_ADDRESS_RE, _header_values(original, "Reply-To"))
            + _all(_SUBJECT_RE, _header_values(original, "Subject"))
        )
    return tuple(dict.fromkeys(found))[:_MAX_TOKENS]


def message_id_token(message_id: str) -> str | None:
    """The key inside one of our Message-IDs (reminders and digests are ``<TOKEN@domain>``)."""
    match = _MESSAGE_ID_RE.fullmatch(message_id.strip())
    return match.group(1).lower() if match else None


def find_token(msg: EmailMessage | Message, envelope_recipients: Iterable[str] = ()) -> str | None:
    """The most trusted conversation key a message carries (see ``find_tokens``), or None."""
    found = find_tokens(msg, envelope_recipients)
    return found[0] if found else None
