"""The whole bot built by ``create_app``: a fake Slack, a real aiosmtpd, the real database.

Every part exists once built; ``start`` only starts the services the settings turn on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import create_app
from bot.mail.inbound.service import MailService
from bot.settings import Settings
from bot.slack import SlackService
from schedules.clock import FixedClock
from storage.models import Channel
from tests.bot.mail.conftest import RecordingHandler, SmtpServer
from tests.bot.slack.conftest import ANA, ANA_EMAIL, SIGNING_SECRET
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.schedules.helpers import add_contact, load_shipped_states

# Wednesday 31 March 2027, past 9:00 in Dublin and Paris: the 30-day stage of the 2026 reports.
MORNING = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)
LUC_EMAIL = "luc.delegue@diplomatie.gouv.fr"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(RecordingHandler())
    server.start()
    yield server
    server.stop()


async def test_the_whole_bot_sends_by_slack_and_smtp(
    database_url: str, fake_slack: FakeSlack, smtp: SmtpServer
) -> None:
    fake_slack.add_user(ANA, ANA_EMAIL, "ana", tz="Europe/Dublin")
    settings = Settings(
        database_url=database_url,
        smtp_url=f"smtp://127.0.0.1:{smtp.port}",
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        lmtp_port=0,
        secret_key="a-test-secret-key-long-enough-to-sign-reply-tokens",
    )
    app = await create_app(settings, clock=FixedClock(MORNING), http_port=0)
    await load_shipped_states(app.store, only=["IRL", "FRA"])
    await add_contact(app.store, "IRL", "Ana", channel=Channel.SLACK, slack_user_id=ANA)
    await add_contact(app.store, "FRA", "Luc", email=LUC_EMAIL, language="fr")

    await app.start()
    try:
        assert app.service(SlackService).port
        assert app.service(MailService).bound_port
        _planned, sent = await app.sweep.run()
    finally:
        await app.stop()

    assert sorted(o.channel for o in sent.sent) == [Channel.EMAIL, Channel.SLACK]
    [dm] = fake_slack.messages(ANA)
    assert dm["text"].startswith("Dear Ana,")
    [mail] = smtp.handler.received
    assert mail.rcpt_tos == [LUC_EMAIL]
    assert mail.message["Subject"].startswith("Rappel")


async def test_a_bot_without_slack_or_incoming_mail_starts_only_its_timetable(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, outbox_dir=tmp_path / "outbox")

    app = await create_app(settings, clock=FixedClock(MORNING))

    assert app.services == (app.timetable,)
    assert set(app.transports) == {Channel.EMAIL}
    with pytest.raises(LookupError, match="SlackService"):
        app.service(SlackService)
    await app.start()
    assert app.timetable.scheduler.running
    await app.stop()
    assert not app.timetable.scheduler.running
