"""``/ccm my`` and the Home tab list what the configured reminder policy reminds of, no more and
no less: an operator who keeps reminding of an overdue report for longer sees it listed longer."""

from __future__ import annotations

import json

import pytest

from bot.settings import Settings
from schedules.policy import ReminderPolicy
from tests.bot.slack.conftest import ANA, BOT_TOKEN, SIGNING_SECRET, Slack
from tests.fakes.slack_api import FakeSlack

# Ireland has no report on file; on 20 April 2027 the one covering 2025 is 355 days overdue.
# The default policy stops after three fortnights (looking back 91 days); thirty fortnights
# look back 469.
DEFAULT = ReminderPolicy()
PERSISTENT = ReminderPolicy(overdue_max=30)


@pytest.fixture(params=[DEFAULT, PERSISTENT], ids=["default", "overdue_max=30"])
def settings(request: pytest.FixtureRequest, fake_slack: FakeSlack) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        timezone="Europe/Zurich",
        reminders=request.param,
    )


async def test_my_lists_an_overdue_report_as_long_as_the_policy_reminds_of_it(
    slack: Slack, fake_slack: FakeSlack, settings: Settings
) -> None:
    await slack.command(ANA, "my")
    (overview,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    shown = json.dumps(overview["blocks"], ensure_ascii=False)
    assert "covering 2026" in shown  # due in ten days: within every window
    assert ("covering 2025" in shown) is (settings.reminders == PERSISTENT)


async def test_home_tab_lists_an_overdue_report_as_long_as_the_policy_reminds_of_it(
    slack: Slack, fake_slack: FakeSlack, settings: Settings
) -> None:
    channel = await slack.dm_channel(ANA)
    await slack.event({"type": "app_home_opened", "user": ANA, "channel": channel, "tab": "home"})
    home = await fake_slack.wait_for(lambda: fake_slack.home_views.get(ANA))
    shown = json.dumps(home["blocks"], ensure_ascii=False)
    assert "covering 2026" in shown
    assert ("covering 2025" in shown) is (settings.reminders == PERSISTENT)
