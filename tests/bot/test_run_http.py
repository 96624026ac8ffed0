"""`ccm-bot run --http PORT` against a fake Slack: signed requests answered, forged ones refused."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.bot.slack.conftest import SIGNING_SECRET, signature
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.waiting import WAIT

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def bot_env(database_url: str, tmp_path: Path, fake_slack: FakeSlack) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCM_", "SLACK_"))}
    env |= {
        "CCM_DATABASE_URL": database_url,
        "CCM_OUTBOX_DIR": str(tmp_path / "outbox"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
    }
    return env


@dataclass
class Running:
    port: int
    startup: list[str]  # what the bot printed before "is running"


@pytest.fixture
def running_bot(started: Running) -> int:
    return started.port


@pytest.fixture
async def started(
    bot_env: dict[str, str],
    tmp_path: Path,
    fake_slack: FakeSlack,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Running]:
    """``ccm-bot run --http PORT`` in a process of its own (``--host`` from an indirect param).

    Its output is read without blocking the test's event loop, which serves the fake Slack: a
    blocking read would stall every Slack call the bot makes before its next line.
    """
    fake_slack.add_user("U0FRA0001", "luc@diplomatie.gouv.fr", "luc", tz="Europe/Paris")
    runner = CliRunner(env=bot_env)
    # The CLI runs its own event loop: in a thread, since this one is running.
    assert (await asyncio.to_thread(runner.invoke, main, ["states", "load"])).exit_code == 0
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "name,email,role,state,slack_user_id,channel\n"
        "Luc Martin,luc@diplomatie.gouv.fr,delegate,FRA,U0FRA0001,slack\n"
    )
    imported = await asyncio.to_thread(runner.invoke, main, ["contacts", "import", str(contacts)])
    assert imported.exit_code == 0
    port = free_port()
    command = [sys.executable, "-m", "bot", "run", "--http", str(port)]
    host = getattr(request, "param", None)
    if host:
        command += ["--host", host]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        env=bot_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        startup = await asyncio.wait_for(lines_until(process, "is running"), WAIT)
        yield Running(port, startup)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            output = (await asyncio.wait_for(process.communicate(), WAIT))[0].decode()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert "Traceback" not in output, output


async def lines_until(process: asyncio.subprocess.Process, marker: str) -> list[str]:
    """What the process printed before the line holding ``marker``, once that line came."""
    assert process.stdout is not None
    lines: list[str] = []
    while line := (await process.stdout.readline()).decode():
        if marker in line:
            return lines
        lines.append(line.rstrip("\n"))
    raise AssertionError(f"the bot stopped before saying {marker!r}:\n" + "\n".join(lines))


def slash_command(text: str) -> str:
    return urlencode(
        {
            "command": "/ccm",
            "text": text,
            "user_id": "U0FRA0001",
            "user_name": "luc",
            "team_id": "T0CCM",
            "channel_id": "D0FRA0001",
            "trigger_id": "1.2.3",
            "response_url": "https://hooks.slack.invalid/commands/1",
        }
    )


async def post(
    port: int, body: str, *, secret: str = SIGNING_SECRET, host: str = "127.0.0.1"
) -> int:
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": signature(body, stamp, secret),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://{host}:{port}/slack/events", data=body, headers=headers) as response,
    ):
        return response.status


async def test_signed_slash_command_is_answered(running_bot: int, fake_slack: FakeSlack) -> None:
    assert await post(running_bot, slash_command("help")) == 200
    posted = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage"))
    assert "/ccm" in json.dumps(posted[-1])
    assert fake_slack.invalid_payloads == []


async def test_forged_signature_is_refused(running_bot: int, fake_slack: FakeSlack) -> None:
    assert await post(running_bot, slash_command("help"), secret="not-the-secret") == 401
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_it_listens_on_this_machine_only_unless_told(started: Running) -> None:
    assert f"Slack: HTTP mode on 127.0.0.1:{started.port} at /slack/events" in started.startup
    assert await post(started.port, slash_command("help")) == 200


@pytest.mark.parametrize("started", ["127.0.0.2"], indirect=True)
async def test_host_chooses_the_address_it_listens_on(started: Running) -> None:
    assert f"Slack: HTTP mode on 127.0.0.2:{started.port} at /slack/events" in started.startup
    assert await post(started.port, slash_command("help"), host="127.0.0.2") == 200
    with pytest.raises(aiohttp.ClientConnectorError):
        await post(started.port, slash_command("help"))  # 127.0.0.1 is not listened on
