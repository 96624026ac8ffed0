"""What proves a bounce: only a report that returns mail we sent to an address may mark it.

Anyone can write a delivery failure report naming any address, and a hard bounce stops a
delegate's email. So a report counts for an address only with proof that it returns a mail of
ours sent to that very address: a valid reply key of a reminder or digest to that contact (in
the bounce address, the report's headers or the returned message), or the Message-ID of an
answer or notice stored as sent to that address. Every Message-ID we write carries a signed
key or a random part, so neither proof can be guessed; a key someone received for their own
mail proves nothing about anybody else's address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from bot.mail.tokens import (
    InvalidToken,
    find_tokens,
    message_id_token,
    returned_message_ids,
    verify_token,
)
from storage.contacts import normalise_email
from storage.digest import digest_send_id
from storage.outgoing import sent_to

__all__ = ["BounceProof", "read_proof", "unproven_notice_id"]


@dataclass(frozen=True)
class BounceProof:
    """What a bounce carries that only we could have written: verified keys, returned ids."""

    keys: frozenset[int]
    message_ids: frozenset[str]

    async def covers(self, session: AsyncSession, address: str) -> bool:
        """Whether this bounce returns a mail we sent to ``address``."""
        return await sent_to(
            session,
            normalise_email(address),
            reminders=self.reminder_keys(),
            digests=[sid for sid in map(digest_send_id, self.keys) if sid is not None],
            message_ids=self.message_ids,
        )

    def reminder_keys(self) -> list[int]:
        """The reminders this bounce returns, for a report that names no address."""
        return sorted(key for key in self.keys if digest_send_id(key) is None)


def read_proof(
    msg: EmailMessage,
    envelope_to: Iterable[str],
    *,
    key: bytes,
    today: date,
    max_age_days: int,
) -> BounceProof:
    """The keys that verify, and the returned Message-IDs, of one bounce."""
    message_ids = returned_message_ids(msg)
    candidates = [*find_tokens(msg, envelope_to)]
    candidates += [t for t in map(message_id_token, message_ids) if t is not None]
    keys: set[int] = set()
    for token in dict.fromkeys(candidates):
        try:
            keys.add(verify_token(token, key, today=today, max_age_days=max_age_days))
        except InvalidToken:
            continue  # a forged or foreign key proves nothing; the report is judged without it
    return BounceProof(frozenset(keys), frozenset(message_ids))


def unproven_notice_id(address: str, day: date, domain: str) -> str:
    """The Message-ID of the ISU's notice of an unproven bounce for ``address`` on ``day``.

    Stored with the notice (outgoing_mail), it is how the ISU is told once a day per address
    however many forgeries arrive, across restarts and processes.
    """
    digest = hashlib.sha256(normalise_email(address).encode()).hexdigest()[:24]
    return f"<unproven-bounce.{day:%Y%m%d}.{digest}@{domain}>"
