"""``ccm-bot reminders`` and ``ccm-bot deadlines add``: the reminder engine by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from bot.app import create_app
from bot.cli.base import (
    DAY,
    Context,
    Env,
    echo_json,
    echo_table,
    json_option,
    run_async,
    status_counts,
    with_store,
)
from bot.cli.states import CLI_ACTOR, find_state
from handlers.i18n import _
from schedules.clock import FixedClock
from schedules.planner import Due, load_snapshot, preview_day
from schedules.zones import resolve_zone
from storage.ledger import counts_by_status, recent_messages
from storage.models import MessageStatus
from storage.states import add_custom_deadline


@click.group()
def reminders() -> None:
    """Preview, send and inspect reminders."""


def due_record(due: Due) -> dict[str, Any]:
    return {
        "state": due.item.state,
        "contact": due.recipient.contact.email,
        "name": due.recipient.contact.name,
        "channel": due.channel,
        "language": due.recipient.language,
        "item": due.item.item,
        "stage": due.stage.name,
        "due": due.item.due,
        "send_at": due.send_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "local_time": due.send_at.astimezone(due.recipient.zone).isoformat(),
        "timezone": due.recipient.zone.key,
    }


@reminders.command()
@click.option(
    "--on",
    "day",
    required=True,
    type=DAY,
    help="The day to preview (YYYY-MM-DD), in each recipient's own time zone.",
)
@json_option
@with_store
async def preview(env: Env, day: datetime, as_json: bool) -> None:
    """Show exactly what would go out on a day, without sending anything."""
    async with env.store.transaction() as session:
        snapshot = await load_snapshot(session)
    dues = preview_day(
        snapshot,
        env.settings.reminders,
        day.date(),
        slack=env.settings.slack_enabled,
        secretariat_zone=resolve_zone(env.settings.timezone).key,
    )
    records = [due_record(d) for d in dues]
    if as_json:
        echo_json(records)
        return
    if not records:
        click.echo(env.t.gettext("Nothing would go out on {date}.", date=env.t.date(day.date())))
        return
    echo_table(
        env.t,
        [
            _("State"),
            _("Contact"),
            _("Channel"),
            _("Lang"),
            _("Item"),
            _("Stage"),
            _("Due"),
            _("Local time"),
        ],
        [
            (
                r["state"],
                r["contact"],
                r["channel"],
                r["language"],
                r["item"],
                r["stage"],
                r["due"],
                r["local_time"][:16].replace("T", " ") + " " + r["timezone"],
            )
            for r in records
        ],
    )


@reminders.command("run-once")
@click.option(
    "--now",
    "moment",
    type=click.DateTime(
        ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
    ),
    help="Pretend it is this moment (ISO 8601; UTC unless an offset is given).",
)
@click.pass_obj
def run_once(context: Context, moment: datetime | None) -> None:
    """Plan and send what is due once, then exit."""
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    clock = FixedClock(moment) if moment else context.clock

    async def once() -> None:
        app = await create_app(context.settings, clock=clock)
        try:
            planned, sent = await app.sweep.run()
        finally:
            await app.stop()
        t = context.t
        click.echo(
            t.gettext(
                "{planned} reminders planned, {withdrawn} withdrawn, {sent} messages sent, "
                "{failed} failed.",
                planned=t.number(planned.planned),
                withdrawn=t.number(planned.cancelled),
                sent=t.number(len(sent.sent)),
                failed=t.number(sent.failed),
            )
        )

    run_async(once(), context)


@reminders.command()
@json_option
@with_store
async def status(env: Env, as_json: bool) -> None:
    """What was sent, what is pending, what failed and why."""
    async with env.store.transaction() as session:
        counts = await counts_by_status(session)
        rows = await recent_messages(session)
    messages: list[dict[str, Any]] = [
        {
            "id": m.id,
            "contact": email,
            "channel": m.channel,
            "purpose": m.purpose,
            "status": m.status,
            "send_at": m.send_at,
            "sent_at": m.sent_at,
            "items": items,
            "attempts": m.attempts,
            "external_id": m.external_id,
            "error": m.error,
        }
        for m, email, items in rows
    ]
    if as_json:
        echo_json({"counts": counts, "messages": messages})
        return
    t = env.t
    click.echo(status_counts(t, counts) or t.gettext("No reminders yet."))
    failed = [m for m in messages if m["status"] == MessageStatus.FAILED]
    if failed:
        click.echo("\n" + t.gettext("Failed (not retried):"))
        echo_table(
            t,
            [_("Id"), _("Contact"), _("Channel"), _("Error")],
            [(m["id"], m["contact"], m["channel"], m["error"]) for m in failed],
        )
    if messages:
        click.echo("\n" + t.gettext("Latest:"))
        echo_table(
            t,
            [
                _("Id"),
                _("Contact"),
                _("Channel"),
                _("Status"),
                _("Send at (UTC)"),
                _("Items"),
                _("Attempts"),
            ],
            [
                (
                    m["id"],
                    m["contact"],
                    m["channel"],
                    m["status"],
                    m["send_at"].strftime("%Y-%m-%d %H:%M"),
                    m["items"],
                    m["attempts"],
                )
                for m in messages[:30]
            ],
        )


@click.group()
def deadlines() -> None:
    """Treaty deadlines and one-off dates the ISU adds."""


@deadlines.command("add")
@click.argument("state")
@click.argument("title")
@click.argument("due", type=DAY, metavar="DUE")
@with_store
async def add_deadline(env: Env, state: str, title: str, due: datetime) -> None:
    """Add a one-off date for a State, e.g. an extension-request filing date or a meeting."""
    t = env.t
    if not title.strip():
        raise click.BadParameter(t.gettext('give the date a title, e.g. "Extension request due"'))
    found = await find_state(env, state)
    async with env.store.transaction() as session:
        custom = await add_custom_deadline(
            session, CLI_ACTOR, env.now(), found.iso3, title.strip()[:200], due.date()
        )
    click.echo(
        t.gettext(
            "Added for {state}: {title} on {date} (custom-{id}).",
            state=found.name(t.language),
            title=title,
            date=t.date(due.date()),
            id=custom.id,
        )
    )
    if due.date() < env.now().date():
        click.echo(
            t.gettext("Note: that date is in the past, so no reminder will be sent for it."),
            err=True,
        )
