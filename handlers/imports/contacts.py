"""Contacts: one row per person, matched on email, so importing the same file again updates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.imports.common import Cells, Context, Importer, Outcome, Plan, Step
from handlers.tables import Row
from storage.contacts import upsert_contact
from storage.models import Channel, Contact, Role

REQUIRED = ("name", "email", "role")
OPTIONAL = (
    "slack_user_id",
    "state",
    "organisation",
    "language",
    "timezone",
    "channel",
    "alternate_email",
)
# Column in the file → Contact attribute.
ATTRIBUTES = {
    "name": "name",
    "slack_user_id": "slack_user_id",
    "state": "state_iso3",
    "organisation": "organisation",
    "role": "role",
    "language": "language",
    "timezone": "timezone",
    "channel": "channel",
}
_NEW = {attribute: None for attribute in ATTRIBUTES.values()} | {"channel": Channel.EMAIL}


@dataclass
class _Person:
    line: int
    email: str
    fields: dict[str, Any]
    alternate: str | None
    existing: Contact | None


def _read(cells: Cells) -> tuple[str | None, dict[str, Any], str | None]:
    email = cells.email("email", required=True)
    fields: dict[str, Any] = {
        "name": cells.text("name", required=True),
        "role": cells.choice("role", Role, required=True),
    }
    if cells.has("slack_user_id"):
        fields["slack_user_id"] = cells.slack_id("slack_user_id")
    if cells.has("state"):
        fields["state_iso3"] = cells.state("state")
    if cells.has("organisation"):
        fields["organisation"] = cells.text("organisation")
    if cells.has("language"):
        fields["language"] = cells.language("language")
    if cells.has("timezone"):
        fields["timezone"] = cells.zone("timezone")
    if cells.has("channel"):
        fields["channel"] = cells.choice("channel", Channel) or Channel.EMAIL
    alternate = cells.email("alternate_email") if cells.has("alternate_email") else None
    return email, fields, alternate


def _check_rules(cells: Cells, effective: dict[str, Any]) -> None:
    """What a person's role and channel need, looking at the stored values too."""
    role, channel = effective["role"], effective["channel"]
    if role is Role.DELEGATE and not effective["state_iso3"]:
        cells.error("state", "a delegate needs the ISO3 code of their State")
    if role is Role.PARTNER and not (effective["state_iso3"] or effective["organisation"]):
        cells.error("organisation", "a partner needs a state or an organisation")
    if channel in (Channel.SLACK, Channel.BOTH) and not effective["slack_user_id"]:
        cells.error(
            "slack_user_id",
            f"channel {channel.value} needs the person's Slack member ID; add it, or set "
            "channel to email",
        )


async def plan(context: Context, rows: Sequence[Row]) -> Plan:
    everyone = await context.scalars(select(Contact))
    by_email = {contact.email: contact for contact in everyone if contact.email}
    by_slack = {contact.slack_user_id: contact for contact in everyone if contact.slack_user_id}
    email_lines: dict[str, int] = {}
    slack_lines: dict[str, int] = {}
    people: list[_Person] = []
    for row in rows:
        cells = context.cells(row)
        email, fields, alternate = _read(cells)
        if email is not None:
            if email in email_lines:
                cells.error(
                    "email", f"{email} is also on line {email_lines[email]}; keep one row each"
                )
            email_lines.setdefault(email, row.line)
        slack = fields.get("slack_user_id")
        if slack:
            owner = by_slack.get(slack)
            if slack in slack_lines:
                cells.error(
                    "slack_user_id", f"{slack} is also on line {slack_lines[slack]}; one per person"
                )
            elif owner is not None and owner.email != email:
                cells.error(
                    "slack_user_id",
                    f"{slack} already belongs to {owner.email}; correct it, or change that "
                    "contact first",
                )
            slack_lines.setdefault(slack, row.line)
        if alternate is not None and alternate == email:
            cells.error("alternate_email", "a person cannot be their own alternate")
        if not cells.ok or email is None:
            continue
        existing = by_email.get(email)
        current = (
            {attribute: getattr(existing, attribute) for attribute in ATTRIBUTES.values()}
            if existing
            else dict(_NEW)
        )
        _check_rules(cells, current | fields)
        if cells.ok:
            people.append(_Person(row.line, email, fields, alternate, existing))

    for person in people:
        if person.alternate and not (
            person.alternate in email_lines or person.alternate in by_email
        ):
            context.error(
                person.line,
                "alternate_email",
                f"{person.alternate} is neither in this file nor a known contact; add them first",
            )
    return _write_plan(
        context, people, by_email, has_alternates="alternate_email" in context.columns
    )


def _write_plan(
    context: Context, people: list[_Person], by_email: dict[str, Contact], *, has_alternates: bool
) -> Plan:
    written: dict[str, Contact] = {}
    later: list[tuple[str, str]] = []  # (email, alternate's email) for alternates not yet written

    def alternate_of(person: _Person) -> Contact | None:
        assert person.alternate is not None
        return written.get(person.alternate) or by_email.get(person.alternate)

    def unchanged(person: _Person) -> bool:
        contact = person.existing
        if contact is None:
            return False
        if any(getattr(contact, name) != value for name, value in person.fields.items()):
            return False
        if not has_alternates:
            return True
        if person.alternate is None:
            return contact.alternate_id is None
        alternate = by_email.get(person.alternate)
        return alternate is not None and contact.alternate_id == alternate.id

    def step(person: _Person) -> Step:
        async def write(session: AsyncSession) -> None:
            fields = dict(person.fields)
            if has_alternates:
                alternate = alternate_of(person) if person.alternate else None
                if person.alternate and alternate is None:
                    later.append((person.email, person.alternate))
                else:
                    fields["alternate_id"] = alternate.id if alternate else None
            contact, _ = await upsert_contact(
                session, context.actor, context.now, email=person.email, **fields
            )
            written[person.email] = contact

        if unchanged(person):
            return Step(person.line, Outcome.UNCHANGED)
        outcome = Outcome.UPDATED if person.existing else Outcome.CREATED
        return Step(person.line, outcome, write)

    async def finish(session: AsyncSession) -> None:
        # Two people named as each other's alternate: the second link waits for both rows.
        for email, alternate in later:
            await upsert_contact(
                session,
                context.actor,
                context.now,
                email=email,
                alternate_id=written[alternate].id,
            )

    return Plan([step(person) for person in people], finish)


IMPORTER = Importer(required=REQUIRED, optional=OPTIONAL, plan=plan)
