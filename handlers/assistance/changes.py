"""A recorded need or offer changed: who may change it, a correction field by field, and its
withdrawal (it stays in the records, marked withdrawn)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.assistance.receipt import confirmation, to_fix
from handlers.assistance.recording import actor
from handlers.entry_form import check_entry_fields, edited, entry_form
from handlers.i18n import Translator
from handlers.replies import Reply
from handlers.turns import Speaker, Turn
from storage.audit import Source
from storage.models import Entry, EntryStatus
from storage.records import update_entry, withdraw_entry
from storage.visibility import entry_for, may_change, may_change_visibility


def unknown_reference(t: Translator, reference: str) -> Reply:
    return Reply(
        t.language,
        t.gettext("Unknown reference"),
        t.gettext("I found no need or offer with the reference {reference}.", reference=reference),
    )


async def editable(session: AsyncSession, speaker: Speaker, reference: str) -> Entry | Reply:
    """The entry the speaker may change, or the answer that says why not.

    A record the speaker may not see answers exactly as a reference that does not exist; one
    they may see but not change says whose it is, which they can already read.
    """
    t = speaker.t
    viewer = speaker.viewer
    entry = await entry_for(session, viewer, reference)
    if entry is None:
        return unknown_reference(t, reference)
    if not may_change(viewer, entry):
        return Reply(
            t.language,
            t.gettext("Not yours"),
            t.gettext(
                "{reference} belongs to another State; only its delegates can change it.",
                reference=entry.reference,
            ),
        )
    return entry


async def correct(
    session: AsyncSession,
    turn: Turn,
    now: datetime,
    reference: str,
    fields: dict[str, str],
    source: Source | None,
) -> Reply:
    """Change a recorded need or offer (form edit, or ``CORRECT N-2026-0042 …`` by email).

    ``fields`` is the edit: a field given empty is cleared (a required one is refused, and
    nothing changes), a field left out keeps its recorded value.
    """
    found = await editable(session, turn.speaker, reference)
    if isinstance(found, Reply):
        return found
    t = turn.speaker.t
    checked = check_entry_fields(edited(entry_form(found), fields), found.kind, t)
    widened = checked.values.get("visibility", found.visibility) != found.visibility
    if widened and not may_change_visibility(turn.speaker.viewer):
        checked.errors["visibility"] = t.gettext(
            "Only the Coordinators and the ISU can change who may see a record."
        )
    if checked.errors:
        return to_fix(t, checked.errors)
    await update_entry(session, actor(turn, source), now, found, **checked.values)
    return confirmation(t, found, t.gettext("{reference} updated.", reference=found.reference))


async def withdraw(
    session: AsyncSession, turn: Turn, now: datetime, reference: str, source: Source | None
) -> Reply:
    found = await editable(session, turn.speaker, reference)
    if isinstance(found, Reply):
        return found
    t = turn.speaker.t
    if found.status is EntryStatus.WITHDRAWN:
        return Reply(
            t.language,
            t.gettext("Withdrawn"),
            t.gettext("{reference} was already withdrawn.", reference=found.reference),
            reference=found.reference,
        )
    await withdraw_entry(session, actor(turn, source), now, found)
    return Reply(
        t.language,
        t.gettext("Withdrawn"),
        t.gettext(
            "{reference} is withdrawn. It stays in the records, marked withdrawn.",
            reference=found.reference,
        ),
        reference=found.reference,
        stored=True,
    )
