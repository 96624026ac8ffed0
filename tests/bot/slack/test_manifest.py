"""The app manifest asks Slack for what the app registers and calls, and no more.

The expectations are not written here: they are read from the Bolt app ``build_slack_app``
builds (every ``command``/``action``/``view``/``event`` it registers) and from the Web API
methods the Slack code calls, so a listener or a call added without its manifest entry fails.
"""

from __future__ import annotations

import re
from collections import defaultdict
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.app.async_app import AsyncApp

import bot.slack
import bot.slack.app
from bot.settings import Settings
from handlers.conversation import Conversation
from schedules.clock import FixedClock
from storage.db import Store

MANIFEST = (files("bot.slack") / "manifest.yml").read_text()
SLACK_CODE = Path(bot.slack.__file__).parent

# The Bolt event a listener names, as the manifest subscribes to it: the message listener
# answers DMs only (payloads.DirectMessage), so it needs message.im and no channel history.
SUBSCRIPTION_OF_EVENT = {"message": "message.im"}
# The bot scopes each subscribed event and each Web API method needs (docs.slack.dev).
SCOPES_OF_EVENT = {"message.im": {"im:history"}, "app_home_opened": set()}
SCOPES_OF_METHOD = {
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    # Only in the bot's own DMs: reminders read back, the reminder a thread hangs from.
    "conversations_history": {"im:history"},
    "conversations_replies": {"im:history"},
    "conversations_open": {"im:write"},
    "files_upload_v2": {"files:write"},
    # A contact found by the email Slack knows for a user.
    "users_info": {"users:read", "users:read.email"},
    "views_open": set(),
    "views_publish": set(),
}


class RecordingApp(AsyncApp):
    """The real Bolt app, noting what each registration asks Slack to send it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.registered: dict[str, set[str]] = defaultdict(set)
        self.calls = 0

    def _record(self, kind: str, constraints: Any) -> None:
        self.registered[kind].add(constraints)
        self.calls += 1

    def command(self, command: Any, *args: Any, **options: Any) -> Any:
        self._record("commands", command)
        return super().command(command, *args, **options)

    def action(self, constraints: Any, *args: Any, **options: Any) -> Any:
        self._record("actions", constraints)
        return super().action(constraints, *args, **options)

    def view(self, constraints: Any, *args: Any, **options: Any) -> Any:
        self._record("views", constraints)
        return super().view(constraints, *args, **options)

    def event(self, event: Any, *args: Any, **options: Any) -> Any:
        self._record("events", event)
        return super().event(event, *args, **options)

    @property
    def unrecorded(self) -> int:
        """Listeners registered some other way (app.message, a shortcut, options): this test
        does not know what their manifest entry is."""
        return len(self._async_listeners) - self.calls


@pytest.fixture
def registered(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, store: Store, fixed_clock: FixedClock
) -> dict[str, set[str]]:
    monkeypatch.setattr(bot.slack.app, "AsyncApp", RecordingApp)
    app = bot.slack.app.build_slack_app(
        settings, Conversation(store, fixed_clock), store, fixed_clock
    )
    assert isinstance(app, RecordingApp)
    assert app.unrecorded == 0
    return app.registered


def listed(key: str) -> set[str]:
    """The items of a YAML list under ``key:`` (the manifest is simple enough to read so)."""
    block = re.search(rf"^(\s*){key}:\n((?:\1\s+- .+\n)+)", MANIFEST, re.MULTILINE)
    assert block is not None, key
    return {line.strip()[2:] for line in block.group(2).splitlines()}


def setting(name: str) -> str:
    found = re.search(rf"^\s*{name}: (\S+)", MANIFEST, re.MULTILINE)
    assert found is not None, name
    return found.group(1)


def subscriptions(registered: dict[str, set[str]]) -> set[str]:
    return {SUBSCRIPTION_OF_EVENT.get(event, event) for event in registered["events"]}


def methods_called() -> set[str]:
    """The Web API methods the Slack code calls (``client.<method>(``)."""
    return {
        method
        for path in SLACK_CODE.rglob("*.py")
        for method in re.findall(r"\bclient\.(\w+)\(", path.read_text())
    }


def test_every_event_listened_for_has_known_scopes(registered: dict[str, set[str]]) -> None:
    assert subscriptions(registered) <= set(SCOPES_OF_EVENT)


def test_manifest_subscribes_to_the_events_the_app_listens_for(
    registered: dict[str, set[str]],
) -> None:
    assert listed("bot_events") == subscriptions(registered)
    assert setting("home_tab_enabled") == str("app_home_opened" in registered["events"]).lower()
    assert setting("messages_tab_enabled") == str("message" in registered["events"]).lower()
    assert setting("messages_tab_read_only_enabled") == "false"  # people write to the bot


def test_manifest_declares_the_slash_commands_the_app_answers(
    registered: dict[str, set[str]],
) -> None:
    declared = set(re.findall(r"^\s*- command: (\S+)$", MANIFEST, re.MULTILINE))
    assert registered["commands"]
    assert declared == registered["commands"]


def test_manifest_turns_on_interactivity_for_buttons_and_forms(
    registered: dict[str, set[str]],
) -> None:
    assert registered["actions"]
    assert registered["views"]
    assert setting("is_enabled") == "true"
    assert setting("socket_mode_enabled") == "true"  # no public URL needed (README)


def test_every_web_api_method_called_has_known_scopes() -> None:
    called = methods_called()
    assert called, "no Web API call found: the pattern no longer matches the code"
    assert called <= set(SCOPES_OF_METHOD), "add the new method's scopes here and in the manifest"


def test_manifest_asks_for_exactly_the_scopes_used(registered: dict[str, set[str]]) -> None:
    needed = {"commands"} if registered["commands"] else set()
    for event in subscriptions(registered):
        needed |= SCOPES_OF_EVENT[event]
    for method in methods_called():
        needed |= SCOPES_OF_METHOD[method]
    assert listed("bot") == needed
