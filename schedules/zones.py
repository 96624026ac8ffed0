"""Time-zone names as people write them, resolved to IANA zones.

The treaty's secretariat sits in Geneva and operators naturally write ``Europe/Geneva``; IANA has
no such zone (Geneva keeps Zurich's time), so a short alias table accepts what people write.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ALIASES = {
    "Europe/Geneva": "Europe/Zurich",
    "Europe/Kiev": "Europe/Kyiv",
    "UTC": "Etc/UTC",
}


class UnknownZone(ValueError):
    """The name is neither an IANA zone nor one of our aliases."""


@cache
def resolve_zone(name: str) -> ZoneInfo:
    """Return the zone for an IANA name or an alias such as ``Europe/Geneva``."""
    try:
        return ZoneInfo(ALIASES.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownZone(
            f"{name!r} is not an IANA time zone; use a name such as Europe/Zurich or Asia/Beirut"
        ) from None
