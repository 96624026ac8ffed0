"""``ccm-bot digest``: preview the weekly digest as a person would get it, or send it now."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import click

from bot.app import email_transport, worker_name
from bot.cli.base import Env, Failure, echo_json, json_option, unknown_contact, with_store
from bot.mail.digest_rendering import render_digest_html, render_digest_text
from bot.mail.digest_sending import DigestService, MessageSender, NobodyToPreview
from handlers.digest import latest_completed_week
from schedules.clock import FixedClock
from schedules.periods import Period, iso_week, parse_iso_week
from schedules.zones import resolve_zone

week_option = click.option(
    "--week",
    metavar="YYYY-Www",
    help="The ISO week, e.g. 2027-W13 (default: the last complete week), in CCM_TIMEZONE.",
)
now_option = click.option(
    "--now",
    "moment",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S"]),
    help="Pretend it is this moment (ISO 8601; UTC unless an offset is given).",
)


@click.group()
def digest() -> None:
    """The weekly digest for the Coordinators and the ISU."""


def _at(env: Env, moment: datetime | None) -> Env:
    if moment is None:
        return env
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return replace(env, clock=FixedClock(aware))


def _period(env: Env, week: str | None) -> Period:
    zone = resolve_zone(env.settings.timezone)
    if week is None:
        return latest_completed_week(env.now(), zone)
    try:
        year, number = parse_iso_week(week)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    return iso_week(year, number, zone)


def _service(env: Env, sender: MessageSender) -> DigestService:
    return DigestService.from_settings(
        env.settings,
        store=env.store,
        sender=sender,
        clock=env.clock,
        worker=worker_name(),
    )


class _NoSending:
    """Preview never sends; a bug that tried would fail loudly."""

    async def send_message(self, msg: EmailMessage) -> str:
        raise AssertionError("digest preview must not send")


@digest.command()
@week_option
@click.option(
    "--to", "email", metavar="EMAIL", help="Whose digest (default: the first subscriber)."
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the HTML part to this file.",
)
@json_option
@now_option
@with_store
async def preview(
    env: Env,
    week: str | None,
    email: str | None,
    html_file: Path | None,
    as_json: bool,
    moment: datetime | None,
) -> None:
    """Show exactly what a person would get, without sending or recording anything."""
    env = _at(env, moment)
    period = _period(env, week)
    service = _service(env, _NoSending())
    t = env.t
    try:
        shown = await service.preview(period, email)
    except NobodyToPreview as exc:
        if exc.email is not None:
            raise unknown_contact(t, exc.email) from None
        raise Failure(
            t.gettext("nobody is subscribed to the digest; name someone with --to")
        ) from None
    html = None if shown.digest.quiet else render_digest_html(shown.digest)
    if html_file is not None:
        if html is None:
            click.echo(
                t.gettext("A quiet week's digest is plain text only; no HTML written."), err=True
            )
        else:
            await asyncio.to_thread(html_file.write_text, html, encoding="utf-8")
    if not shown.subscribed:
        click.echo(
            t.gettext("Note: {email} is not subscribed to the digest.", email=shown.contact.email),
            err=True,
        )
    if period.end > env.now():
        click.echo(
            t.gettext("Note: that week has not ended yet; its digest is not complete."), err=True
        )
    if as_json:
        echo_json(
            {
                "to": shown.contact.email,
                "subscribed": shown.subscribed,
                "headers": {k: str(v) for k, v in shown.message.items()},
                **shown.digest.as_json(),
                "text": render_digest_text(shown.digest),
            }
        )
        return
    click.echo(f"To: {shown.message['To']}")
    click.echo(f"Subject: {shown.message['Subject']}")
    click.echo("")
    click.echo(render_digest_text(shown.digest), nl=False)


@digest.command()
@week_option
@now_option
@with_store
async def send(env: Env, week: str | None, moment: datetime | None) -> None:
    """Send a week's digest now to every subscriber who has not had it (once each)."""
    env = _at(env, moment)
    period = _period(env, week)
    t = env.t
    if period.end > env.now():
        raise Failure(
            t.gettext(
                "the week {week} has not ended yet; send its digest once it has", week=week or ""
            )
        )
    transport = email_transport(env.settings)
    try:
        result = await _service(env, transport).send(period, env.now())
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            await close()
    click.echo(
        t.gettext(
            "Week from {date}: {sent} sent, {failed} failed, "
            "{skipped} already sent or in progress.",
            date=t.date(period.start.astimezone(env.settings.zone).date()),
            sent=t.number(len(result.sent)),
            failed=t.number(len(result.failed)),
            skipped=t.number(result.skipped),
        )
    )
    if result.failed:
        raise Failure(
            t.gettext(
                "not sent to {recipients}; they are retried by the bot",
                recipients=", ".join(result.failed),
            )
        )
