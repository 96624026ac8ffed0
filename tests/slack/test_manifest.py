"""The app manifest asks Slack for what the listeners and the transport use, and no more."""

from __future__ import annotations

import re
from pathlib import Path

from bot.slack import ids

MANIFEST = (Path(__file__).resolve().parents[2] / "slack" / "manifest.yml").read_text()


def listed(key: str) -> set[str]:
    """The items of a YAML list under ``key:`` (the manifest is simple enough to read so)."""
    block = re.search(rf"^(\s*){key}:\n((?:\1\s+- .+\n)+)", MANIFEST, re.MULTILINE)
    assert block is not None, key
    return {line.strip()[2:] for line in block.group(2).splitlines()}


def test_manifest_subscribes_to_the_events_the_bot_listens_for() -> None:
    assert listed("bot_events") == {"app_home_opened", "message.im"}
    assert f"- command: {ids.COMMAND}\n" in MANIFEST


def test_manifest_asks_for_exactly_the_scopes_used() -> None:
    assert listed("bot") == {
        "chat:write",  # reminders, replies
        "commands",  # /ccm
        "files:write",  # exports (the records commands)
        "im:history",  # find_sent, the reminder a thread hangs from
        "im:read",
        "im:write",  # conversations.open
        "users:read",
        "users:read.email",  # a contact found by the email Slack knows
    }


def test_manifest_turns_on_what_the_bot_needs() -> None:
    for setting in (
        "home_tab_enabled: true",
        "messages_tab_enabled: true",
        "messages_tab_read_only_enabled: false",
        "is_enabled: true",
        "socket_mode_enabled: true",
    ):
        assert setting in MANIFEST
