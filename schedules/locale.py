"""A person's language, time zone and weekend: the one rule every channel and the planner use.

The contact's own choice wins, then their State's; a zone name nobody can resolve (a typo in an
import) is skipped rather than fatal, down to the secretariat's zone the caller passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from handlers.i18n import DEFAULT_LANGUAGE
from schedules.policy import SATURDAY_SUNDAY
from schedules.zones import UnknownZone, resolve_zone
from storage.models import Contact, State


@dataclass(frozen=True, slots=True)
class Locale:
    language: str
    zone: ZoneInfo
    weekend: frozenset[int]


def locale_of(contact: Contact, state: State | None, fallback_zone: str) -> Locale:
    """How to address ``contact`` (of ``state``, if any): a coordinator has no State, so their
    zone falls back to the secretariat's and their weekend to Saturday and Sunday."""
    language = contact.language or (state.language if state else None) or DEFAULT_LANGUAGE
    weekend = frozenset(state.weekend) if state else SATURDAY_SUNDAY
    wishes = (contact.timezone, state.timezone if state else None)
    return Locale(language, _zone(wishes, fallback_zone), weekend)


def zone_of_state(state: State, fallback_zone: str) -> ZoneInfo:
    """The State's own zone, the day its reminders and escalation are counted in."""
    return _zone((state.timezone,), fallback_zone)


def _zone(wishes: tuple[str | None, ...], fallback: str) -> ZoneInfo:
    for name in wishes:
        if name:
            try:
                return resolve_zone(name)
            except UnknownZone:
                continue
    return resolve_zone(fallback)
