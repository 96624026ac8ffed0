"""Replies as Slack messages: the subject, text, sections and fields of a channel-neutral reply,
its answers as buttons; the same message settled once answered; answers to a records command,
kept to or shared in a channel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.slack import ids
from bot.slack.blocks.text import (
    FIELDS_PER_SECTION,
    MAX_ACTIONS,
    MAX_BUTTON_TEXT,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_BLOCKS,
    SHORT_FIELD,
    Block,
    bold,
    context_block,
    escape,
    mrkdwn,
    plain,
    section_block,
)
from handlers.i18n import Translator, translator
from handlers.replies import Choice, Reply
from handlers.understanding.keywords import Intent


def button(choice: Choice) -> Block | None:
    action_id = ids.ANSWER_ACTIONS.get(choice.action)
    if action_id is None:
        return None
    if len(choice.value) > ids.MAX_BUTTON_VALUE:
        # A cut value would point at something else; this is a bug, not a long text.
        raise ValueError(f"button value over {ids.MAX_BUTTON_VALUE} characters: {choice.value!r}")
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain(choice.label, MAX_BUTTON_TEXT),
    }
    if choice.value:
        element["value"] = choice.value
    if choice.action is Intent.CONFIRM:
        element["style"] = "primary"
    elif choice.action is Intent.WITHDRAW:
        element["style"] = "danger"
    return element


def _field_blocks(fields: Iterable[tuple[str, str]]) -> list[Block]:
    blocks: list[Block] = []
    columns: list[Block] = []

    def flush() -> None:
        if columns:
            blocks.append({"type": "section", "fields": list(columns)})
            columns.clear()

    for label, value in fields:
        text = f"{bold(label)}\n{escape(value)}"
        if len(value) > SHORT_FIELD:
            flush()
            blocks.append(section_block(text))
            continue
        columns.append(mrkdwn(text, MAX_FIELD_TEXT))
        if len(columns) == FIELDS_PER_SECTION:
            flush()
    flush()
    return blocks


def _fit(body: list[Block], tail: list[Block], t: Translator, limit: int) -> list[Block]:
    """Keep within Slack's block limit: the answers and the footer always stay."""
    if len(body) + len(tail) <= limit:
        return body + tail
    keep = limit - len(tail) - 1
    more = len(body) - keep
    note = context_block(escape(t.ngettext("…and {count} more", "…and {count} more", more)))
    return [*body[:keep], note, *tail]


def reply_blocks(reply: Reply, *, limit: int = MAX_MESSAGE_BLOCKS) -> list[Block]:
    """A reply as a message: subject, text, items, fields, then the answers as buttons."""
    body: list[Block] = [{"type": "header", "text": plain(reply.subject, MAX_HEADER_TEXT)}]
    if reply.intro:
        body.append(section_block(escape(reply.intro)))
    for section in reply.sections:
        lines = [bold(section.title), *(escape(line) for line in section.lines)]
        body.append(section_block("\n".join(lines)))
    body.extend(_field_blocks(reply.fields))
    tail: list[Block] = []
    buttons = [b for b in (button(choice) for choice in reply.choices) if b is not None]
    if buttons:
        tail.append(
            {"type": "actions", "block_id": ids.ANSWERS_BLOCK, "elements": buttons[:MAX_ACTIONS]}
        )
    if reply.footer:
        tail.append(context_block(escape(reply.footer)))
    return _fit(body, tail, translator(reply.language), limit)


def settled_blocks(blocks: Iterable[Block], note: str) -> list[Block] | None:
    """A message's blocks with its answer buttons replaced by ``note``, the rest as it was.

    None when the message has no answer buttons (settled already, or never had any): then
    there is nothing to update.
    """
    settled: list[Block] = []
    replaced = False
    for block in blocks:
        if block.get("type") == "actions" and block.get("block_id") == ids.ANSWERS_BLOCK:
            settled.append({**context_block(escape(note)), "block_id": ids.SETTLED_BLOCK})
            replaced = True
        else:
            settled.append(block)
    return settled if replaced else None


def query_button(action_id: str, label: str, value: str, *, primary: bool = False) -> Block:
    """A button of an answer to a records command (More, Share in channel, Show the names)."""
    if len(value) > ids.MAX_BUTTON_VALUE:
        raise ValueError(f"button value over {ids.MAX_BUTTON_VALUE} characters: {value!r}")
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, MAX_BUTTON_TEXT),
        "value": value,
    }
    if primary:
        element["style"] = "primary"
    return element


def answer_blocks(reply: Reply, buttons: list[Block]) -> list[Block]:
    """An answer to a records command: the reply, then its buttons, within 50 blocks."""
    if not buttons:
        return reply_blocks(reply)
    actions = {"type": "actions", "block_id": ids.QUERY_ACTIONS_BLOCK, "elements": buttons}
    return [*reply_blocks(reply, limit=MAX_MESSAGE_BLOCKS - 1), actions]


_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def shared_blocks(reply: Reply, t: Translator, user_id: str, *, note: str = "") -> list[Block]:
    """An answer posted for everyone in a channel, saying who shared it (a mention)."""
    # The mention is the one piece of mrkdwn not escaped: the id must be an id, nothing more.
    mention = f"<@{user_id}>" if _SLACK_USER_ID.fullmatch(user_id) else escape(user_id)
    placeholder = "\x00"
    credit = escape(t.gettext("Shared by {person}.", person=placeholder))
    credit = credit.replace(placeholder, mention)
    if note:
        credit += " " + escape(note)
    return [*reply_blocks(reply, limit=MAX_MESSAGE_BLOCKS - 1), context_block(credit)]
