"""Who is speaking and what they said or chose: the typed input of every conversation task."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import Translator, translator
from handlers.understanding.keywords import Intent
from schedules.locale import locale_of
from storage.contacts import contact_by_email, contact_by_slack_id, state_of
from storage.models import Contact, Role, Via
from storage.visibility import Viewer


@dataclass(frozen=True)
class Speaker:
    """A known contact, with the language and zone the bot answers them in."""

    contact_id: int
    name: str
    email: str | None
    role: Role
    state: str | None
    state_name: str | None
    language: str
    zone: ZoneInfo

    @property
    def t(self) -> Translator:
        return translator(self.language)

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    @property
    def viewer(self) -> Viewer:
        """Who this is for the visibility policy (``storage.visibility``)."""
        return Viewer(self.role, self.state, self.contact_id)


@dataclass(frozen=True)
class Turn:
    """One thing a person said (text), clicked (action) or submitted (fields)."""

    speaker: Speaker
    via: Via
    text: str | None = None
    action: Intent | None = None
    value: str = ""
    # A form's fields by name. In an edit, a field given empty is cleared and a field left
    # out (not in that form) is left as it was: see ``handlers.entry_form.edited``.
    fields: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    # The reminder being answered (the Slack thread, the email's token): "ISO3:item".
    about: str | None = None
    # The draft this turn edits (its form sent again): the new draft replaces it and keeps
    # where it came from.
    revises: int | None = None


async def speaker_for(session: AsyncSession, contact: Contact, fallback_zone: str) -> Speaker:
    state = await state_of(session, contact)
    local = locale_of(contact, state, fallback_zone)
    language = local.language
    return Speaker(
        contact_id=contact.id,
        name=contact.name,
        email=contact.email,
        role=contact.role,
        state=state.iso3 if state else None,
        state_name=state.name(language) if state else None,
        language=language,
        zone=local.zone,
    )


async def identify(
    session: AsyncSession,
    *,
    fallback_zone: str,
    email: str | None = None,
    slack_user_id: str | None = None,
) -> Speaker | None:
    """The active contact behind a Slack id or an email address; None for a stranger.

    A Slack user found by the email Slack reports for them has their id remembered, so the
    next lookup is direct.
    """
    contact = await contact_by_slack_id(session, slack_user_id) if slack_user_id else None
    if contact is None and email:
        contact = await contact_by_email(session, email)
        if contact is not None and slack_user_id and contact.slack_user_id is None:
            contact.slack_user_id = slack_user_id
    if contact is None or not contact.active or contact.forgotten_at is not None:
        return None
    return await speaker_for(session, contact, fallback_zone)
