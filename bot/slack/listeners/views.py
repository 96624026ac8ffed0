"""Modal submissions: a need or an offer, the day a report was sent, a colleague's address.

A submission's acknowledgement *is* the answer (the field errors), so it is checked through the
core before ``ack`` — a single short transaction — and answered once the form has closed.
"""

from __future__ import annotations

from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids
from bot.slack.listeners.settling import settle_opener, settle_reminder
from bot.slack.listeners.shared import Body, Deps, caller, guard, post
from bot.slack.payloads import ModalContext, Submission
from bot.slack.texts import invalid_email, stranger_reply
from handlers.i18n import translator
from handlers.replies import Reply
from handlers.report_form import checked_submission_date
from handlers.turns import Speaker, Turn
from handlers.understanding.keywords import Intent
from storage.models import Via


def register(app: AsyncApp, deps: Deps) -> None:
    app.view(ids.NEED_MODAL)(guard(deps, on_entry_submitted))
    app.view(ids.OFFER_MODAL)(guard(deps, on_entry_submitted))
    app.view(ids.REPORT_DATE_MODAL)(guard(deps, on_report_date_submitted))
    app.view(ids.NOT_ME_MODAL)(guard(deps, on_not_me_submitted))


async def on_entry_submitted(deps: Deps, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
    submission = Submission.parse(body)
    speaker = await _caller_or_ack(deps, ack, client, submission)
    if speaker is None:
        return
    context = submission.context
    # Every field of the form, emptied ones included: the core clears what was emptied.
    fields = {k: v for k, v in submission.values.items() if k in ids.ENTRY_FIELDS}
    if context.reference:
        turn = Turn(
            speaker, Via.SLACK, action=Intent.CORRECT, value=context.reference, fields=fields
        )
    else:
        intent = Intent.NEED if submission.callback_id == ids.NEED_MODAL else Intent.OFFER
        turn = Turn(
            speaker,
            Via.SLACK,
            action=intent,
            fields=fields,
            about=context.about,
            message_id=context.message_ts,
            revises=_draft_id(context),
        )
    reply = await deps.conversation.handle(turn)
    errors = _field_errors(reply, shown=submission.values.keys())
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    await _answer(deps, client, submission, speaker, reply)


async def on_report_date_submitted(
    deps: Deps, ack: AsyncAck, body: Body, client: AsyncWebClient
) -> None:
    submission = Submission.parse(body)
    speaker = await _caller_or_ack(deps, ack, client, submission)
    if speaker is None:
        return
    today = speaker.today(deps.clock.now())
    day = checked_submission_date(speaker.t, submission.values.get(ids.DATE_BLOCK, ""), today)
    if isinstance(day, str):
        await ack(response_action="errors", errors={ids.DATE_BLOCK: day})
        return
    await ack()
    turn = Turn(
        speaker,
        Via.SLACK,
        action=Intent.REPORT_SUBMITTED,
        fields={"on": day.isoformat()},
        about=submission.context.about,
        message_id=submission.context.message_ts,
        revises=_draft_id(submission.context),
    )
    reply = await deps.conversation.handle(turn)
    await _answer(deps, client, submission, speaker, reply)
    # The report recorded, the reminder it answers is settled too, unless it names another
    # deadline as well (settle_reminder looks).
    context = submission.context
    channel = context.channel_id or submission.user_id
    await settle_reminder(deps, client, speaker, channel, reply, thread_ts=context.thread_ts)


async def on_not_me_submitted(
    deps: Deps, ack: AsyncAck, body: Body, client: AsyncWebClient
) -> None:
    submission = Submission.parse(body)
    speaker = await _caller_or_ack(deps, ack, client, submission)
    if speaker is None:
        return
    email = submission.values.get(ids.EMAIL_BLOCK, "")
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            await ack(response_action="errors", errors={ids.EMAIL_BLOCK: invalid_email(speaker.t)})
            return
    await ack()
    turn = Turn(
        speaker,
        Via.SLACK,
        action=Intent.NOT_ME,
        fields={"email": email},
        about=submission.context.about,
    )
    await _answer(deps, client, submission, speaker, await deps.conversation.handle(turn))


async def _caller_or_ack(
    deps: Deps, ack: AsyncAck, client: AsyncWebClient, submission: Submission
) -> Speaker | None:
    """The speaker; a stranger's form closes, and they are told in their DM how to get
    access."""
    found = await caller(deps, client, submission.user_id)
    if found.speaker is None:
        await ack()
        await post(client, submission.user_id, stranger_reply(translator(found.language)))
    return found.speaker


async def _answer(
    deps: Deps, client: AsyncWebClient, submission: Submission, speaker: Speaker, reply: Reply
) -> None:
    """Answer where the form was opened from (the reminder's DM), else in the DM; then settle
    the message whose button opened it."""
    context = submission.context
    channel = context.channel_id or submission.user_id
    await post(client, channel, reply, thread_ts=context.thread_ts)
    await settle_opener(deps, client, speaker, context, reply)


def _field_errors(reply: Reply, *, shown: Iterable[str]) -> dict[str, str]:
    """The core's ``error:<field>`` notes keyed by the modal block showing that field."""
    blocks = set(shown)
    errors: dict[str, str] = {}
    for key, message in reply.extra.items():
        if not key.startswith("error:"):
            continue
        name = key.removeprefix("error:")
        block = name if name in blocks else "description"
        errors[block] = f"{errors[block]} {message}" if block in errors else message
    return errors


def _draft_id(context: ModalContext) -> int | None:
    """The pending draft a form edits, from the modal's context."""
    return int(context.draft) if context.draft and context.draft.isdigit() else None
