"""Seeing the records as someone would: the ``--as EMAIL`` option and the viewer it names,
the ISU's today, States' names in the ISU's language, and one record's fields for ``--json``.

The command line is the ISU's tool, so it sees everything unless told to look as someone else
(``--as EMAIL``): then it shows exactly what that person would see in Slack or by email. Every
records command (``needs|offers list``, ``overview``, ``export``) shares these.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.base import Env, unknown_contact
from storage.contacts import contact_by_email
from storage.listings import state_names
from storage.models import Entry
from storage.visibility import ISU, Viewer

as_option = click.option(
    "--as",
    "as_email",
    metavar="EMAIL",
    help="See what this contact may see (their role and State); default: the ISU, everything.",
)


async def viewer_for(env: Env, session: AsyncSession, email: str | None) -> Viewer:
    if email is None:
        return ISU
    contact = await contact_by_email(session, email)
    if contact is None:
        raise unknown_contact(env.t, email)
    return Viewer.of(contact)


async def names_of_states(env: Env, session: AsyncSession) -> Callable[[str], str]:
    """Each State's name in the ISU's language (its code if the store does not know it)."""
    names = await state_names(session)
    return lambda iso3: names[iso3].name(env.t.language) if iso3 in names else iso3


def today_of(env: Env) -> date:
    """Today at the secretariat, the ISU's day."""
    return env.now().astimezone(env.settings.zone).date()


def entry_record(entry: Entry) -> dict[str, Any]:
    return {
        "reference": entry.reference,
        "kind": entry.kind,
        "state": entry.state_iso3,
        "organisation": entry.organisation,
        "article": entry.article,
        "category": entry.category,
        "description": entry.description,
        "amount": entry.amount,
        "currency": entry.currency,
        "period_start": entry.period_start,
        "period_end": entry.period_end,
        "focus": entry.focus,
        "status": entry.status,
        "visibility": entry.visibility,
        "created_at": entry.created_at,
    }


def short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
