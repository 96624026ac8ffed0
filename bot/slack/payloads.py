"""What Slack sends, parsed at the edge into small typed values the listeners work with.

Slack's payloads are deep, loosely typed dictionaries; reading them here, once, keeps the
listeners to "who, what, where" and makes a payload shape change a one-place fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.slack import ids
from handlers.understanding.keywords import Intent


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Command:
    """``/ccm need``, ``/ccm report submitted 2026``…: the subcommand and what follows it."""

    user_id: str
    channel_id: str
    words: tuple[str, ...]
    trigger_id: str
    text: str = ""  # as typed: "LAO" is a State's code, "lao" a word

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> Command:
        text = " ".join(_text(body.get("text")).split())
        return cls(
            user_id=_text(body.get("user_id")),
            channel_id=_text(body.get("channel_id")),
            words=tuple(text.lower().split()),
            trigger_id=_text(body.get("trigger_id")),
            text=text,
        )

    @property
    def subcommand(self) -> str:
        return self.words[0] if self.words else "help"

    @property
    def rest(self) -> str:
        """What follows the subcommand, as typed: ``article 4 Africa open``."""
        parts = self.text.split(" ", 1)
        return parts[1] if len(parts) > 1 else ""


@dataclass(frozen=True)
class Click:
    """A button pressed on one of the bot's messages (or its Home tab)."""

    user_id: str
    action_id: str
    value: str
    trigger_id: str
    channel_id: str | None
    message_ts: str | None
    thread_ts: str | None  # set when the button's message is a reply in a thread

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> Click:
        actions = body.get("actions") or [{}]
        action = actions[0] if isinstance(actions[0], Mapping) else {}
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = body.get("channel") or {}
        message_ts = _optional(message.get("ts")) or _optional(container.get("message_ts"))
        thread_ts = _optional(message.get("thread_ts")) or _optional(container.get("thread_ts"))
        return cls(
            user_id=_text((body.get("user") or {}).get("id")),
            action_id=_text(action.get("action_id")),
            value=_text(action.get("value")),
            trigger_id=_text(body.get("trigger_id")),
            channel_id=_optional(channel.get("id")) or _optional(container.get("channel_id")),
            message_ts=message_ts,
            thread_ts=thread_ts if thread_ts != message_ts else None,
        )

    @property
    def intent(self) -> Intent | None:
        return ids.INTENT_OF_ACTION.get(self.action_id)


@dataclass(frozen=True)
class Posted:
    """One of the bot's messages as Slack holds it: enough to replace its buttons in place."""

    channel_id: str
    ts: str
    text: str
    blocks: tuple[dict[str, Any], ...]
    # A reminder's items ("ISO3:item"), when read with its metadata; () for other messages.
    items: tuple[str, ...] = ()

    @classmethod
    def parse(cls, channel_id: str | None, message: Any) -> Posted | None:
        """None when there is nothing Slack would let us update (no channel, ts or blocks)."""
        if not isinstance(message, Mapping) or not channel_id:
            return None
        ts = _optional(message.get("ts"))
        blocks = message.get("blocks")
        if ts is None or not isinstance(blocks, list):
            return None
        return cls(
            channel_id=channel_id,
            ts=ts,
            text=_text(message.get("text")),
            blocks=tuple(block for block in blocks if isinstance(block, dict)),
            items=reminder_items(message),
        )

    @classmethod
    def clicked(cls, body: Mapping[str, Any]) -> Posted | None:
        """The message a button was pressed on. An ephemeral one comes without its
        ``message`` (and chat.update cannot change it), so it gives None."""
        container = body.get("container") or {}
        channel = body.get("channel") or {}
        channel_id = _optional(channel.get("id")) or _optional(container.get("channel_id"))
        return cls.parse(channel_id, body.get("message"))


@dataclass(frozen=True)
class ModalContext:
    """What a modal is about, carried through Slack in its ``private_metadata``."""

    about: str | None = None  # the reminder: "ISO3:item"
    reference: str | None = None  # a recorded need or offer being edited
    channel_id: str | None = None  # where to answer once it is submitted
    thread_ts: str | None = None
    message_ts: str | None = None  # the message the modal was opened from (provenance)
    answer: str | None = None  # the button that opened it (an Intent value), to settle it
    draft: str | None = None  # the pending draft being edited (its id), replaced on submission

    def to_json(self) -> str:
        text = json.dumps({k: v for k, v in asdict(self).items() if v is not None})
        if len(text) > ids.MAX_PRIVATE_METADATA:
            raise ValueError("modal context is over Slack's 3000-character private_metadata")
        return text

    @property
    def answered(self) -> Intent | None:
        """The answer whose button opened the modal (none for ``/ccm need``)."""
        return next((intent for intent in Intent if intent.value == self.answer), None)

    @classmethod
    def from_json(cls, text: str) -> ModalContext:
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        return cls(**{key: _optional(data.get(key)) for key in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Submission:
    """A modal's submitted values, by field name (the block ids), all as strings."""

    user_id: str
    callback_id: str
    values: dict[str, str]
    context: ModalContext

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> Submission:
        view = body.get("view") or {}
        state = (view.get("state") or {}).get("values") or {}
        values: dict[str, str] = {}
        for block_id, actions in state.items():
            element = (actions or {}).get(ids.INPUT_ACTION) or {}
            values[block_id] = _input_value(element)
        return cls(
            user_id=_text((body.get("user") or {}).get("id")),
            callback_id=_text(view.get("callback_id")),
            values=values,
            context=ModalContext.from_json(_text(view.get("private_metadata"))),
        )


def _input_value(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "static_select":
        return _text((element.get("selected_option") or {}).get("value"))
    if kind == "datepicker":
        return _text(element.get("selected_date"))
    return _text(element.get("value")).strip()


@dataclass(frozen=True)
class DirectMessage:
    """A person's own message in their DM with the bot, top level or in a thread."""

    user_id: str
    channel_id: str
    text: str
    ts: str
    thread_ts: str | None

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> DirectMessage | None:
        """None for what must not be answered: bots (ours included), edits, joins, channels."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return None
        user, text, ts = _text(event.get("user")), _text(event.get("text")), _text(event.get("ts"))
        if not (user and text.strip() and ts):
            return None
        thread_ts = _optional(event.get("thread_ts"))
        return cls(
            user_id=user,
            channel_id=_text(event.get("channel")),
            text=text,
            ts=ts,
            thread_ts=thread_ts if thread_ts != ts else None,
        )


def reminder_items(message: Mapping[str, Any]) -> tuple[str, ...]:
    """Every "ISO3:item" a reminder message is about, from its metadata; () for other messages
    (and for a reminder read without ``include_all_metadata``)."""
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != ids.REMINDER_EVENT:
        return ()
    items = (metadata.get("event_payload") or {}).get("items") or []
    return tuple(item for item in items if isinstance(item, str) and item)


def reminder_about(message: Mapping[str, Any]) -> str | None:
    """The "ISO3:item" a reminder message is about (its first item); None for other messages."""
    items = reminder_items(message)
    return items[0] if items else None
