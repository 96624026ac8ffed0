"""Opening the forms (modals) that buttons and ``/ccm`` lead to; ``views`` takes them back."""

from __future__ import annotations

from dataclasses import replace

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.forms import entry_modal, report_date_modal
from bot.slack.listeners.shared import Deps, post
from bot.slack.payloads import Click, ModalContext
from handlers.assistance.changes import editable
from handlers.drafts import nothing_pending, pending_draft
from handlers.entry_form import draft_form, entry_form, entry_intro
from handlers.replies import Reply
from handlers.report_form import draft_about
from handlers.report_submitted import INTENT as REPORT_DRAFT
from handlers.turns import Speaker, Turn
from handlers.understanding.keywords import Intent
from storage.models import EntryKind, Via


async def open_entry_modal(
    client: AsyncWebClient,
    trigger_id: str,
    speaker: Speaker,
    kind: EntryKind,
    fields: dict[str, str],
    context: ModalContext,
) -> None:
    view = entry_modal(speaker.t, kind, fields, context, intro=entry_intro(speaker, kind))
    await client.views_open(trigger_id=trigger_id, view=view)


async def open_editor(deps: Deps, client: AsyncWebClient, click: Click, speaker: Speaker) -> None:
    """Edit reopens the form: of a pending draft (its id) or of a record (its reference)."""
    context = ModalContext(
        channel_id=click.channel_id,
        thread_ts=click.thread_ts,
        message_ts=click.message_ts,
        answer=Intent.EDIT.value,
    )
    channel = click.channel_id or click.user_id
    if click.value.isdigit():
        async with deps.store.transaction() as session:
            # The person's own draft, still waiting: one confirmed or replaced is not edited.
            draft = await pending_draft(session, Turn(speaker, Via.SLACK, value=click.value))
        if draft is None:
            await post(client, channel, nothing_pending(speaker.t), thread_ts=click.thread_ts)
            return
        context = replace(context, draft=str(draft.id))
        payload = draft.payload
        if draft.intent == REPORT_DRAFT:
            dated = replace(context, about=draft_about(payload))
            view = report_date_modal(speaker.t, dated, str(payload.get("on") or ""))
            await client.views_open(trigger_id=click.trigger_id, view=view)
            return
        kind = EntryKind(payload.get("kind", "need"))
        await open_entry_modal(
            client, click.trigger_id, speaker, kind, draft_form(payload), context
        )
        return
    async with deps.store.transaction() as session:
        entry = await editable(session, speaker, click.value)
    if isinstance(entry, Reply):
        await post(client, channel, entry, thread_ts=click.thread_ts)
        return
    edited = replace(context, reference=entry.reference)
    await open_entry_modal(client, click.trigger_id, speaker, entry.kind, entry_form(entry), edited)
