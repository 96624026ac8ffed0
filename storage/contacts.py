"""The people the bot talks to: finding, adding, updating and forgetting contacts.

Emails are stored lowercased and looked up case-insensitively: Exchange and most providers
treat ``Ana.Perez@minrel.gob.cl`` and ``ana.perez@minrel.gob.cl`` as one mailbox. Code that
writes a ``Contact`` itself must lowercase the address too (``normalise_email``).

Forgetting a person (``forget_contact``) blanks their personal fields but keeps the row, so the
needs, offers and reports they logged stay attributed to their State and role. The audit log is
append-only: the "forget" entry carries no personal data and later entries name the contact only
by id, but entries written *before* the erasure still hold what was then stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import Actor, record_change, snapshot
from storage.models import Contact, Role, State

FORGOTTEN_NAME = "(forgotten)"

# What a caller may set; id, created_at and forgotten_at belong to this module.
CONTACT_FIELDS = frozenset(
    {
        "name",
        "email",
        "slack_user_id",
        "state_iso3",
        "organisation",
        "role",
        "language",
        "timezone",
        "channel",
        "active",
        "alternate_id",
        "email_bouncing",
        "digest",
    }
)


class UnknownContact(LookupError):
    """No (unforgotten) contact has that email address."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def contact_by_email(session: AsyncSession, email: str) -> Contact | None:
    # An equality on the stored (lowercased) address uses the unique index; lower(email) would
    # scan the table on every lookup, which an import of thousands of rows notices.
    return await session.scalar(select(Contact).where(Contact.email == normalise_email(email)))


async def contact_by_slack_id(session: AsyncSession, slack_user_id: str) -> Contact | None:
    return await session.scalar(
        select(Contact).where(Contact.slack_user_id == slack_user_id.strip())
    )


async def contact_by_id(session: AsyncSession, contact_id: int) -> Contact | None:
    return await session.get(Contact, contact_id)


async def state_of(session: AsyncSession, contact: Contact) -> State | None:
    """The State a contact speaks for; None for coordinators and partners."""
    return await session.get(State, contact.state_iso3) if contact.state_iso3 else None


async def mark_email_bouncing(
    session: AsyncSession, actor: Actor, now: datetime, contact: Contact, bouncing: bool
) -> bool:
    """Set whether the contact's address returns our mail, audited; True if it changed."""
    if contact.email_bouncing is bouncing:
        return False
    before = snapshot(contact)
    contact.email_bouncing = bouncing
    await session.flush()
    record_change(session, actor, now, contact, "update", before)
    return True


async def upsert_contact(
    session: AsyncSession, actor: Actor, now: datetime, **fields: Any
) -> tuple[Contact, bool]:
    """Create the contact with this ``email``, or update the one that has it; audited.

    Returns the contact and whether it was created. Fields not given are left as they are.
    """
    unknown = set(fields) - CONTACT_FIELDS
    if unknown:
        raise TypeError(f"not contact fields: {sorted(unknown)}")
    if not fields.get("email"):
        raise ValueError("upsert_contact needs the email it matches on")
    fields["email"] = normalise_email(fields["email"])
    contact = await contact_by_email(session, fields["email"])
    if contact is None:
        contact = Contact(created_at=now, **fields)
        session.add(contact)
        await session.flush()
        record_change(session, actor, now, contact, "create", None)
        return contact, True
    before = snapshot(contact)
    for name, value in fields.items():
        setattr(contact, name, value)
    await session.flush()
    record_change(session, actor, now, contact, "update", before)
    return contact, False


async def list_contacts(
    session: AsyncSession,
    *,
    state: str | None = None,
    role: Role | None = None,
    active_only: bool = False,
) -> Sequence[Contact]:
    query = select(Contact).order_by(Contact.state_iso3, Contact.name, Contact.id)
    if state is not None:
        query = query.where(Contact.state_iso3 == state)
    if role is not None:
        query = query.where(Contact.role == role)
    if active_only:
        query = query.where(Contact.active.is_(True), Contact.forgotten_at.is_(None))
    return (await session.scalars(query)).all()


async def active_contacts_of_state(session: AsyncSession, iso3: str) -> Sequence[Contact]:
    return await list_contacts(session, state=iso3, active_only=True)


async def forget_contact(session: AsyncSession, actor: Actor, now: datetime, email: str) -> Contact:
    """Erase a person's personal data on their request, keeping the row for attribution.

    Contacts that named this person as their alternate lose that link, so no reminder falls
    back to an address that no longer exists.
    """
    contact = await contact_by_email(session, email)
    if contact is None:
        raise UnknownContact(email)
    contact.name = FORGOTTEN_NAME
    contact.email = None
    contact.slack_user_id = None
    contact.timezone = None
    contact.active = False
    contact.alternate_id = None
    contact.forgotten_at = now
    await session.flush()
    # No "before": it would copy into the append-only log the very data being erased.
    record_change(session, actor, now, contact, "forget", None)
    pointing = await session.scalars(select(Contact).where(Contact.alternate_id == contact.id))
    for other in pointing.all():
        before = snapshot(other)
        other.alternate_id = None
        await session.flush()
        record_change(session, actor, now, other, "update", before)
    return contact
