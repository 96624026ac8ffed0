"""The append-only audit log: every change to the store says who, when, how, before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper

from storage.models import AuditEntry, Base, Via


class Source(StrEnum):
    """How a person stated a change: the audit row's action carries it ("create:keyword"), so
    the log tells what was recorded as said from what the bot read and the person confirmed."""

    FORM = "form"  # a submitted form
    BUTTON = "button"  # a set answer: a button, or a /ccm command
    KEYWORD = "keyword"  # a reply that starts with its keyword ("NEED: …", "BESOIN : …")
    CONFIRMED = "confirmed"  # a sentence the bot read, echoed back, then confirmed


@dataclass(frozen=True)
class Actor:
    """Who is making a change, for the audit log."""

    label: str
    via: Via
    contact_id: int | None = None
    source: Source | None = None  # None for the system, imports and the command line


SYSTEM = Actor("ccm-bot", Via.SYSTEM)


def snapshot(row: Base) -> dict[str, Any]:
    """The row's column values as JSON-ready data."""
    return {attr.key: _plain(getattr(row, attr.key)) for attr in inspect(row).mapper.column_attrs}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | frozenset | set):
        return [_plain(item) for item in value]
    return value


def record_change(
    session: AsyncSession,
    actor: Actor,
    at: datetime,
    row: Base,
    action: str,
    before: dict[str, Any] | None,
) -> None:
    """Add an audit entry for ``row`` (flush first so it has its key)."""
    identity = inspect(row).identity
    after = None if action == "delete" else snapshot(row)
    if before is not None and after is not None:
        changed = {k for k in after if before.get(k) != after[k]}
        if not changed:
            return
    session.add(
        AuditEntry(
            at=at,
            actor_id=actor.contact_id,
            actor=actor.label,
            via=actor.via,
            entity=row.__tablename__,
            entity_id="/".join(str(part) for part in identity or ()),
            action=f"{action}:{actor.source}" if actor.source else action,
            before=before,
            after=after,
        )
    )


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(_mapper: Mapper[AuditEntry], _connection: Any, _target: AuditEntry) -> None:
    raise PermissionError("the audit log is append-only")
