"""`ccm-bot reminders run-once` when Slack answers with something that is not Slack's JSON.

What a proxy or load balancer in front of Slack sends during an outage (a text/plain 503, an
HTML page, an empty body) fails that one Slack reminder, to be retried when Slack asks; the
sweep's other messages, email ones included, still go out and the command ends normally.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.db import Store
from storage.models import Channel, MessageStatus
from tests.bot.slack.conftest import SIGNING_SECRET
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.schedules.helpers import add_contact, all_messages, load_shipped_states

NOW = datetime(2027, 3, 31, 10, 0, tzinfo=UTC)  # the 30-day stage of the 30 April reports
SLACK_USER = "U0FRA0001"
RUN_ONCE_TIMEOUT = 60


async def run_once(env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "reminders", "run-once", "--now", NOW.isoformat()),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    # Awaited, not waited for: the fake Slack answers on this loop meanwhile.
    stdout, stderr = await asyncio.wait_for(process.communicate(), RUN_ONCE_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (503, "text/plain", "upstream connect error or disconnect/reset before headers"),
        (502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
        (503, "application/json", "<html><body>Service Unavailable</body></html>"),
        (200, "application/json", ""),
    ],
    ids=["text-503", "html-502", "html-as-json", "empty-200"],
)
async def test_garbled_slack_answer_fails_one_reminder_and_the_sweep_goes_on(
    store: Store,
    database_url: str,
    fake_slack: FakeSlack,
    tmp_path: Path,
    status: int,
    content_type: str,
    body: str,
) -> None:
    await load_shipped_states(store, only=["FRA"])
    fake_slack.add_user(SLACK_USER, "luc@diplomatie.gouv.fr", "luc", tz="Europe/Paris")
    await add_contact(store, "FRA", "Luc Martin", channel=Channel.SLACK, slack_user_id=SLACK_USER)
    for name in ("Claire Martin", "Paul Durand"):
        await add_contact(store, "FRA", name)
    fake_slack.garble_next(
        "chat.postMessage", status=status, body=body, content_type=content_type, retry_after=1200
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCM_", "SLACK_"))}
    env |= {
        "CCM_DATABASE_URL": database_url,
        "CCM_OUTBOX_DIR": str(tmp_path / "outbox"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
    }

    returncode, stdout, stderr = await run_once(env, tmp_path)

    assert returncode == 0, stdout + stderr
    assert "2 messages sent, 1 failed." in stdout
    assert "Traceback" not in stderr
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    on_slack = [m for m in await all_messages(store) if m.channel is Channel.SLACK]
    [message] = on_slack
    assert (message.status, message.attempts, message.claimed_by) == (
        MessageStatus.PENDING,
        1,
        None,
    )
    assert f"http_{status}" in (message.error or "")
    # Slack's Retry-After, when given, outlasts the first backoff (one minute).
    assert message.next_attempt_at == NOW + timedelta(seconds=1200)
    assert fake_slack.messages(SLACK_USER) == []
