"""``/ccm``: the conversation's commands answer in the person's DM with the bot; the records
commands (needs, offers, state, overdue, deadlines, stats, export, digest) to the person alone,
where they typed them."""

from __future__ import annotations

import tempfile
from pathlib import Path

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids
from bot.slack.blocks.home import overview_blocks
from bot.slack.blocks.text import escape
from bot.slack.listeners.forms import open_entry_modal
from bot.slack.listeners.shared import (
    Body,
    Deps,
    guard,
    known,
    known_privately,
    post,
    whisper,
    whisper_answer,
)
from bot.slack.payloads import Command, ModalContext
from bot.slack.texts import (
    command_help,
    digest_usage,
    export_elsewhere,
    export_sent,
    export_usage,
    records_refused,
)
from handlers.digest import digest_switch
from handlers.overview import overview_of
from handlers.questions import TOPICS, Ask, ExportKind, clip_words, export_table, viewer_of
from handlers.turns import Speaker, Turn
from handlers.understanding.keywords import Intent
from storage.items import annual_item_id
from storage.models import EntryKind, Via

COMMANDS = (ids.COMMAND,)
# The commands answered to the person alone, in the conversation where they were typed.
PRIVATE_COMMANDS = frozenset((*TOPICS, "export", "digest"))
EXPORT_FORMATS = ("csv", "xlsx")


def register(app: AsyncApp, deps: Deps) -> None:
    for command in COMMANDS:
        app.command(command)(guard(deps, on_command))


async def on_command(deps: Deps, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
    await ack()
    command = Command.parse(body)
    if command.subcommand in PRIVATE_COMMANDS:
        await on_private_command(deps, client, command)
        return
    # Answers go to the person's DM with the bot, where the conversation (and its Confirm
    # buttons) lives, whichever channel the command was typed in.
    dm = command.user_id
    speaker = await known(deps, client, command.user_id)
    if speaker is None:
        return
    words = command.words
    if command.subcommand in ("need", "offer"):
        kind = EntryKind(command.subcommand)
        await open_entry_modal(client, command.trigger_id, speaker, kind, {}, ModalContext())
    elif words[:2] == ("report", "submitted") and _year_or_nothing(words[2:]):
        year = int(words[2]) if len(words) > 2 else None
        about = f"{speaker.state}:{annual_item_id(year)}" if year and speaker.state else None
        turn = Turn(speaker, Via.SLACK, action=Intent.REPORT_SUBMITTED, about=about)
        await post(client, dm, await deps.conversation.handle(turn))
    elif command.subcommand == "my":
        await post_overview(deps, client, speaker, dm)
    else:
        await post(client, dm, command_help(speaker.t, speaker.role))


async def post_overview(deps: Deps, client: AsyncWebClient, speaker: Speaker, channel: str) -> None:
    async with deps.store.transaction() as session:
        overview = await overview_of(session, speaker, deps.clock.now(), deps.policy)
    await client.chat_postMessage(
        channel=channel,
        text=escape(overview.state_name or speaker.name),
        blocks=overview_blocks(speaker.t, overview),
    )


async def on_private_command(deps: Deps, client: AsyncWebClient, command: Command) -> None:
    """Answered to the person alone (chat.postEphemeral) where they typed the command."""
    channel, user_id = command.channel_id or command.user_id, command.user_id
    speaker = await known_privately(deps, client, user_id, channel)
    if speaker is None:
        return
    if command.subcommand == "digest":
        await switch_digest(deps, client, speaker, command, channel)
    elif command.subcommand == "export":
        await send_export(deps, client, speaker, command, channel)
    else:
        ask = Ask(command.subcommand, clip_words(command.rest))
        await whisper_answer(deps, client, speaker, user_id, ask.to_value(), channel)


async def switch_digest(
    deps: Deps, client: AsyncWebClient, speaker: Speaker, command: Command, channel: str
) -> None:
    choice = command.words[1:]
    if choice not in (("on",), ("off",)):
        await whisper(client, channel, command.user_id, digest_usage(speaker.t))
        return
    async with deps.store.transaction() as session:
        reply = await digest_switch(
            session, speaker, choice == ("on",), now=deps.clock.now(), via=Via.SLACK
        )
    await whisper(client, channel, command.user_id, reply)


async def send_export(
    deps: Deps, client: AsyncWebClient, speaker: Speaker, command: Command, channel: str
) -> None:
    """The file goes to the person's DM with the bot, never into a channel: an export holds what
    its requester may see (contacts' addresses, records for the Coordinators only)."""
    t, user_id = speaker.t, command.user_id
    words = command.words[1:]
    kinds = {kind.value: kind for kind in ExportKind}
    fmt = words[1] if len(words) == 2 else "csv"
    if not words or len(words) > 2 or words[0] not in kinds or fmt not in EXPORT_FORMATS:
        await whisper(client, channel, user_id, export_usage(t))
        return
    kind = kinds[words[0]]
    viewer = viewer_of(speaker)
    if not kind.may_export(viewer):
        await whisper(client, channel, user_id, records_refused(t))
        return
    today = speaker.today(deps.clock.now())
    with tempfile.TemporaryDirectory(prefix="ccm-export-") as folder:
        path = Path(folder) / f"{kind.value}-{today.isoformat()}.{fmt}"
        async with deps.store.transaction() as session:
            count = await export_table(session, kind, viewer, path)
        content = path.read_bytes()
    opened = await client.conversations_open(users=user_id)
    dm = str((opened.get("channel") or {}).get("id") or user_id)
    # files_upload_v2: files.getUploadURLExternal, the bytes, files.completeUploadExternal.
    await client.files_upload_v2(
        channel=dm,
        filename=path.name,
        content=content,
        title=path.name,
        initial_comment=export_sent(t, count, held_back=kind.holds_back(viewer)),
    )
    if channel != dm:
        await whisper(client, channel, user_id, export_elsewhere(t))


def _year_or_nothing(words: tuple[str, ...]) -> bool:
    """What may follow ``report submitted``: nothing, or a year such as 2026."""
    return not words or (len(words) == 1 and words[0].isdigit() and len(words[0]) == 4)
