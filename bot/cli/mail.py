"""``ccm-bot mail``: answers and ISU notices not sent yet, or given up; see, resend or forget."""

from __future__ import annotations

from typing import Any

import click

from bot.app import email_transport, worker_name
from bot.cli.base import (
    Env,
    Failure,
    echo_json,
    echo_table,
    json_option,
    status_counts,
    with_store,
)
from bot.mail.outgoing import MailQueue
from handlers.i18n import Translator, _
from storage.models import MessageStatus, OutgoingMail
from storage.outgoing import forget_mail, mail_counts, retry_mail, unsent_mail


@click.group()
def mail() -> None:
    """Answers and notices the bot could not send yet: see, resend or forget them."""


def _record(row: OutgoingMail) -> dict[str, Any]:
    return {
        "id": row.id,
        "to": row.recipient,
        "purpose": row.purpose,
        "subject": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "inbound_id": row.inbound_id,
        "created_at": row.created_at,
        "error": row.error,
    }


@mail.command()
@json_option
@with_store
async def status(env: Env, as_json: bool) -> None:
    """Mail waiting for a retry, being sent, or given up, with the last error."""
    async with env.store.transaction() as session:
        counts = await mail_counts(session)
        records = [_record(row) for row in await unsent_mail(session)]
    if as_json:
        echo_json({"counts": counts, "mail": records})
        return
    t = env.t
    click.echo(status_counts(t, counts) or t.gettext("No mail yet."))
    if not records:
        return
    click.echo("")
    echo_table(
        t,
        [
            _("Id"),
            _("To"),
            _("Subject"),
            _("Status"),
            _("Attempts"),
            _("Next try (UTC)"),
            _("Error"),
        ],
        [
            (
                r["id"],
                r["to"],
                r["subject"][:40],
                r["status"],
                r["attempts"],
                r["next_attempt_at"].strftime("%Y-%m-%d %H:%M") if r["next_attempt_at"] else "",
                r["error"],
            )
            for r in records
        ],
    )


def _unchangeable(t: Translator, row: OutgoingMail | None, mail_id: int) -> Failure | None:
    if row is None:
        return Failure(
            t.gettext("there is no mail #{id}; `ccm-bot mail status` lists them", id=mail_id)
        )
    if row.status is MessageStatus.SENT:
        return Failure(
            t.gettext(
                "mail #{id} to {recipient} was sent already", id=mail_id, recipient=row.recipient
            )
        )
    if row.status is MessageStatus.CLAIMED:
        return Failure(
            t.gettext(
                "mail #{id} to {recipient} is being sent right now",
                id=mail_id,
                recipient=row.recipient,
            )
        )
    return None


@mail.command()
@click.argument("mail_id", metavar="ID", type=int)
@with_store
async def retry(env: Env, mail_id: int) -> None:
    """Send a mail now (given up, forgotten or waiting), with its attempts counted afresh."""
    async with env.store.transaction() as session:
        row = await retry_mail(session, mail_id)
        problem = _unchangeable(env.t, row, mail_id)
    if problem is not None:
        raise problem
    assert row is not None
    transport = email_transport(env.settings)
    try:
        queue = MailQueue(env.store, transport, env.settings, env.clock, worker_name())
        result = await queue.send([mail_id])
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            await close()
    t, recipient = env.t, row.recipient
    if mail_id in result.sent:
        click.echo(t.gettext("Mail #{id} to {recipient} sent.", id=mail_id, recipient=recipient))
    elif mail_id in result.given_up:
        raise Failure(
            t.gettext("mail #{id} refused again: {error}", id=mail_id, error=result.errors[mail_id])
        )
    elif mail_id in result.retrying:
        raise Failure(
            t.gettext(
                "mail #{id} not sent: {error}; the running bot tries again",
                id=mail_id,
                error=result.errors[mail_id],
            )
        )
    else:  # the running bot's retry job took it first
        click.echo(
            t.gettext(
                "Mail #{id} to {recipient} is queued; the running bot sends it.",
                id=mail_id,
                recipient=recipient,
            )
        )


@mail.command()
@click.argument("mail_id", metavar="ID", type=int)
@with_store
async def forget(env: Env, mail_id: int) -> None:
    """Stop trying to send a mail; it is kept, as cancelled."""
    async with env.store.transaction() as session:
        row = await forget_mail(session, mail_id)
        problem = _unchangeable(env.t, row, mail_id)
    if problem is not None:
        raise problem
    assert row is not None
    click.echo(
        env.t.gettext(
            "Mail #{id} to {recipient} forgotten: it will not be sent.",
            id=mail_id,
            recipient=row.recipient,
        )
    )
