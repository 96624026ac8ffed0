"""``ccm-bot digest preview`` and ``digest send`` as the ISU uses them, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bot.cli import main
from storage.db import open_store
from storage.models import DigestSend
from tests.handlers.test_digest import (
    ALL_SECTIONS,
    COORDINATOR,
    DELEGATE,
    HOSTILE,
    SUBSCRIBERS,
    build_week,
)

Invoke = Callable[..., Result]
NOW = "2027-03-31T08:00:00+00:00"  # the Wednesday after 2027-W12


async def _populate(url: str) -> None:
    store = await open_store(url, migrate=False)
    try:
        await build_week(store)
    finally:
        await store.close()


async def _sends(url: str) -> int:
    store = await open_store(url, migrate=False)
    try:
        async with store.transaction() as session:
            return await session.scalar(select(func.count()).select_from(DigestSend)) or 0
    finally:
        await store.close()


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("CCM_DATABASE_URL", database_url)
    monkeypatch.setenv("CCM_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("CCM_TIMEZONE", "Europe/Geneva")
    for name in ("CCM_CONFIG", "SLACK_BOT_TOKEN", "CCM_SMTP_URL", "CCM_DIGEST_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    asyncio.run(_populate(database_url))
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, ["digest", *args], catch_exceptions=False)

    return invoke


def test_preview_shows_the_text_writes_the_html_and_sends_nothing(
    cli: Invoke, tmp_path: Path, database_url: str
) -> None:
    html_file = tmp_path / "digest.html"
    shown = cli(
        "preview", "--week", "2027-W12", "--to", COORDINATOR, "--html", str(html_file), "--now", NOW
    )

    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == f"To: {COORDINATOR}"
    assert lines[1].startswith("Subject: CCM weekly digest: 22")
    assert "Dear Jonas Weber," in shown.stdout
    assert HOSTILE in shown.stdout
    assert "  [#####...............]  2 of 8 (25%)" in shown.stdout
    html = html_file.read_text(encoding="utf-8")
    for key in ALL_SECTIONS:
        assert f'<h2 id="{key}"' in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert not (tmp_path / "outbox").exists()
    assert asyncio.run(_sends(database_url)) == 0


def test_preview_as_json_and_for_the_first_subscriber(cli: Invoke) -> None:
    shown = cli("preview", "--week", "2027-W12", "--json", "--now", NOW)

    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    # The first subscriber by id is Claire Dubois, a French delegate who opted in.
    assert (data["to"], data["language"], data["subscribed"], data["quiet"]) == (
        DELEGATE,
        "fr",
        True,
        False,
    )
    assert [s["key"] for s in data["sections"]] == [
        "needs_new",
        "offers_new",
        "offers_updated",
        "deadlines",
        "reports_received",
        "reports_missing",
        "reporting_rate",
    ]
    assert [bar["rate"] for bar in data["chart"]] == [0.25, 0.125]
    assert data["headers"]["List-Unsubscribe"].startswith("<mailto:reply+")
    assert "List-Unsubscribe-Post" not in data["headers"]
    assert data["text"].startswith("Cher/Chère Claire Dubois,")


def test_preview_of_a_quiet_week_writes_no_html(cli: Invoke, tmp_path: Path) -> None:
    html_file = tmp_path / "quiet.html"
    shown = cli(
        "preview",
        "--week",
        "2027-W40",
        "--to",
        COORDINATOR,
        "--html",
        str(html_file),
        "--now",
        "2027-10-20T08:00:00+00:00",
    )

    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[3].endswith("nothing new this week.")
    assert len(shown.stdout.splitlines()) == 5  # To, Subject, blank, the two lines
    assert "plain text only" in shown.stderr
    assert not html_file.exists()


def test_send_sends_once_per_subscriber(cli: Invoke, tmp_path: Path) -> None:
    first = cli("send", "--week", "2027-W12", "--now", NOW)
    again = cli("send", "--week", "2027-W12", "--now", NOW)

    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == (
        f"Week from 22 March 2027: {len(SUBSCRIBERS)} sent, 0 failed, "
        "0 already sent or in progress."
    )
    assert again.stdout.strip() == (
        "Week from 22 March 2027: 0 sent, 0 failed, "
        f"{len(SUBSCRIBERS)} already sent or in progress."
    )
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(SUBSCRIBERS)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("send", "--week", "2027-W13", "--now", NOW), 1, "has not ended yet"),
        (("preview", "--week", "2027-W53", "--now", NOW), 2, "2027 has no ISO week 53"),
        (("preview", "--to", "nobody@example.org", "--now", NOW), 1, "no contact has the address"),
    ],
)
def test_mistakes_are_one_clear_line(
    cli: Invoke, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli(*args)
    assert result.exit_code == code
    assert message in result.output
