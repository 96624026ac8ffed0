"""Who may see and who may change what: the one visibility policy of every read and write path.

Listings, the State overview, the Home tab, exports, Share, the digest and the edit, correct and
withdraw paths all ask here, so a record marked ``coordinators`` can reach nobody else by any
path. Reads are filtered in SQL (``visible_to``), never after the rows are fetched; a write
first finds the record through the same filter (``entry_for``), so a record the speaker may
not see answers exactly as a reference that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Contact, Entry, Role, Visibility
from storage.records import normalise_reference, published


@dataclass(frozen=True)
class Viewer:
    """Who is asking: their role (None for someone who is not a contact), State and contact id.

    ``contact_id`` lets the author of a record keep seeing it (and undo it) whatever its
    visibility; a Viewer without one, such as a channel's audience, sees only by role.
    """

    role: Role | None
    state: str | None = None
    contact_id: int | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.ISU)

    @classmethod
    def of(cls, contact: Contact | None) -> Viewer:
        """The viewer a contact is; an inactive or forgotten contact is nobody."""
        if contact is None or not contact.active or contact.forgotten_at is not None:
            return STRANGER
        return cls(contact.role, contact.state_iso3, contact.id)


ISU = Viewer(Role.ISU)
STRANGER = Viewer(None)
SHARED_WITH_STATES = (Visibility.PUBLIC, Visibility.STATES_PARTIES)
# What each role sees by its role alone; coordinators and the ISU see everything.
SHARED_WITH: dict[Role, tuple[Visibility, ...]] = {
    Role.DELEGATE: SHARED_WITH_STATES,
    Role.PARTNER: (Visibility.PUBLIC,),
}


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The needs and offers a viewer may see, as a condition on ``Entry``.

    Coordinators and the ISU see everything. A delegate sees what is shared with the States
    Parties or the public; a partner what is public; anyone else nothing; and each contact what
    they logged themselves. A record marked ``coordinators`` is seen by no other delegate, not
    even those of the State it is about: "coordinators only" is never widened by ownership.
    Nobody sees the rows an import has staged until it publishes them.
    """
    return and_(published(), _seen_by_role(viewer))


def _seen_by_role(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.sees_everything:
        return true()
    shared = SHARED_WITH.get(viewer.role) if viewer.role is not None else None
    if shared is None:
        return false()
    seen = Entry.visibility.in_(shared)
    if viewer.contact_id is None:
        return seen
    return or_(seen, Entry.logged_by_id == viewer.contact_id)


def may_change(viewer: Viewer, entry: Entry) -> bool:
    """Whether the viewer may correct or withdraw an entry they can see.

    Coordinators and the ISU may change any; a delegate their own State's; anyone what they
    logged themselves.
    """
    if viewer.sees_everything:
        return True
    if viewer.contact_id is not None and entry.logged_by_id == viewer.contact_id:
        return True
    return (
        viewer.role is Role.DELEGATE
        and viewer.state is not None
        and entry.state_iso3 == viewer.state
    )


def may_change_visibility(viewer: Viewer) -> bool:
    """Only the Coordinators and the ISU decide who may see a record once it is recorded."""
    return viewer.sees_everything


async def entry_for(session: AsyncSession, viewer: Viewer, reference: str) -> Entry | None:
    """The entry with this reference if the viewer may see it; None exactly as for no entry."""
    return await session.scalar(
        select(Entry).where(Entry.reference == normalise_reference(reference), visible_to(viewer))
    )


def contacts_visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """People's details: Coordinators and the ISU see all, a delegate their own State's."""
    if viewer.sees_everything:
        return true()
    if viewer.role is Role.DELEGATE and viewer.state:
        return Contact.state_iso3 == viewer.state
    return false()


def reports_visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """Article 7 reports are published by the UN; any contact may see which were received."""
    return false() if viewer.role is None else true()


def reminders_visible_to(viewer: Viewer, state: str) -> bool:
    """Who was reminded and when: the Coordinators, the ISU and the State's own delegates."""
    return viewer.sees_everything or (viewer.role is Role.DELEGATE and viewer.state == state)
