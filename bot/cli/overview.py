"""``ccm-bot overview STATE``: one State at a glance (deadlines, reports, open needs and offers,
people, reminders), as the ISU or as ``--as EMAIL`` would see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from bot.cli.base import Env, echo_json, json_option, with_store
from bot.cli.states import find_state
from bot.cli.viewing import as_option, entry_record, short, today_of, viewer_for
from handlers.i18n import _
from handlers.questions import deadline_lines
from storage.models import ReportKind
from storage.overview import state_overview
from storage.states import latest_deadline


@click.command()
@click.argument("state")
@as_option
@json_option
@with_store
async def overview(env: Env, state: str, as_email: str | None, as_json: bool) -> None:
    """One State at a glance: deadlines, reports, open needs and offers, people, reminders."""
    found = await find_state(env, state)
    async with env.store.transaction() as session:
        viewer = await viewer_for(env, session, as_email)
        seen = await state_overview(session, found.iso3, viewer)
    assert seen is not None
    record: dict[str, Any] = {
        "iso3": seen.state.iso3,
        "name": seen.state.name_en,
        "obligations": [
            {
                "article": o.article,
                "deadline_in_force": latest_deadline(o),
                "completed": o.is_completed,
            }
            for o in seen.obligations
        ],
        "custom_deadlines": [{"title": c.title, "due": c.due} for c in seen.custom_deadlines],
        "reports": [
            {"kind": r.kind, "year": r.year, "due": r.due, "submitted_on": r.submitted_on}
            for r in seen.reports
        ],
        "open_needs": [entry_record(e) for e in seen.needs],
        "open_needs_total": seen.needs_total,
        "offers": [entry_record(e) for e in seen.offers],
        "offers_total": seen.offers_total,
        "contacts": [
            {"name": c.name, "email": c.email, "role": c.role, "channel": c.channel}
            for c in seen.contacts
        ],
        "last_reminder_at": seen.last_reminder_at,
        "last_answer_at": seen.last_answer_at,
    }
    if as_json:
        echo_json(record)
        return
    t = env.t

    def labelled(label: str, value: str) -> str:
        return t.gettext(
            "{label}: {value}", label=t.gettext(label), value=value or t.gettext("none")
        )

    def when(moment: datetime | None) -> str:
        return t.time(moment, env.settings.zone) if moment else t.gettext("never")

    received = [
        t.gettext("{year} on {date}", year=r.year, date=t.date(r.submitted_on))
        for r in seen.reports
        if r.kind is ReportKind.ANNUAL and r.submitted_on is not None
    ]
    lines = list(deadline_lines(seen, t, today_of(env)))
    lines.append(labelled(_("Article 7 reports received"), ", ".join(received[-5:])))
    for label, listed, total in (
        (_("Open needs"), seen.needs, seen.needs_total),
        (_("Offers"), seen.offers, seen.offers_total),
    ):
        lines.append(labelled(label, t.number(total)))
        lines += [f"  {e.reference}  {e.status}  {short(e.description)}" for e in listed[:10]]
    lines += [
        labelled(_("Contacts"), ", ".join(c.name for c in seen.contacts)),
        t.gettext("Last reminder sent: {when}", when=when(seen.last_reminder_at)),
        t.gettext("Last answer: {when}", when=when(seen.last_answer_at)),
    ]
    click.echo(f"{seen.state.name(t.language)} ({seen.state.iso3})")
    for line in lines:
        click.echo(f"  {line}")
