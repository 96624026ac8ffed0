"""What a person typed comes back as typed: Slack's formatting characters stay characters."""

from __future__ import annotations

from bot.slack.blocks.text import ZERO_WIDTH_SPACE
from tests.bot.slack.conftest import ANA, Slack
from tests.fakes.slack_api import FakeSlack


async def test_formatting_typed_in_a_need_is_shown_not_applied(
    slack: Slack, fake_slack: FakeSlack
) -> None:
    await slack.dm(ANA, "We need *urgent* _survey_ ~teams~ for `Kerry`, about 5000 EUR")
    (proposal,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    texts = [
        field["text"]
        for block in proposal["blocks"]
        for field in [*(block.get("fields") or []), block.get("text") or {}]
        if "urgent" in field.get("text", "")
    ]
    assert texts, proposal["blocks"]
    for text in texts:
        # Every formatting character is followed by a zero-width space, so none pairs up.
        for mark in "*_~`":
            assert f"{mark}urgent" not in text
            assert f"{mark}survey" not in text
        assert f"*{ZERO_WIDTH_SPACE}urgent*{ZERO_WIDTH_SPACE}" in text
        assert f"`{ZERO_WIDTH_SPACE}Kerry`{ZERO_WIDTH_SPACE}" in text
    assert fake_slack.invalid_payloads == []
