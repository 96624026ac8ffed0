"""The Slack side against the fake Slack: a real Bolt app behind its real HTTP endpoint.

Requests reach the bot the way Slack sends them: signed with the signing secret, over HTTP on
an ephemeral port. Buttons are clicked by finding them in what the bot actually posted, so
the builder and the parser are tested against each other.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from multidict import CIMultiDict
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.settings import Settings
from bot.slack import SlackService, SlackTransport, build_slack_app, slack_web_client
from handlers.conversation import Conversation
from schedules.clock import FixedClock
from schedules.delivery import Outgoing, ReminderItem
from storage.audit import SYSTEM
from storage.contacts import upsert_contact
from storage.db import Store
from storage.models import Channel, Contact, Role
from storage.states import load_states
from storage.treaty_data import TreatyData, load_treaty_data
from tests.fakes.slack_api import APP_ID, BOT_TOKEN, TEAM_ID, FakeSlack
from tests.fakes.socket_mode import event_envelope, slash_command_envelope
from tests.fakes.waiting import waking_on_logs

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = datetime(2027, 4, 20, 7, 0, tzinfo=UTC)  # ten days before the 30 April reports
STATES = ("FRA", "IRL", "LAO", "CHL")

ANA = "U0IRL0001"  # Irish delegate, English
ANA_EMAIL = "ana.delegate@dfa.ie"
LUC = "U0FRA0001"  # French delegate
LUC_EMAIL = "luc.delegue@diplomatie.gouv.fr"
KHAM = "U0LAO0001"  # Lao delegate, answered in English
KHAM_EMAIL = "kham.delegate@mofa.gov.la"
STRANGER = "U0STRANGE"
STRANGER_EMAIL = "someone@example.org"
CHANNEL = "C0GENERAL"  # where slash commands are typed unless a test says otherwise


async def count(store: Store, model: type) -> int:
    async with store.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def signature(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@pytest.fixture
async def slack_store(store: Store) -> Store:
    """A store with a few States Parties (all 112 take a second to load) and two delegates."""
    data = load_treaty_data()
    keep = set(STATES)
    few = TreatyData(
        tuple(s for s in data.states if s.iso3 in keep),
        tuple(e for e in data.history if e.iso3 in keep),
    )
    async with store.transaction() as session:
        await load_states(session, few, SYSTEM, NOW)
        # Ana is known by her Slack id; Luc and Kham only by email, as an import leaves people.
        for email, name, state, slack_id, language in (
            (ANA_EMAIL, "Ana Delegate", "IRL", ANA, None),
            (LUC_EMAIL, "Luc Délégué", "FRA", None, None),
            (KHAM_EMAIL, "Kham Delegate", "LAO", None, "en"),
        ):
            await upsert_contact(
                session,
                SYSTEM,
                NOW,
                email=email,
                name=name,
                role=Role.DELEGATE,
                state_iso3=state,
                channel=Channel.SLACK,
                slack_user_id=slack_id,
                language=language,
            )
    return store


@pytest.fixture
def people(fake_slack: FakeSlack) -> FakeSlack:
    fake_slack.add_user(ANA, ANA_EMAIL, "ana", tz="Europe/Dublin")
    fake_slack.add_user(LUC, LUC_EMAIL, "luc", tz="Europe/Paris", locale="fr-FR")
    fake_slack.add_user(KHAM, KHAM_EMAIL, "kham", tz="Asia/Vientiane")
    fake_slack.add_user(STRANGER, STRANGER_EMAIL, "stranger", locale="es-ES")
    return fake_slack


@pytest.fixture
def settings(fake_slack: FakeSlack) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        timezone="Europe/Zurich",
    )


@pytest.fixture
def fixed_clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def service(
    settings: Settings, slack_store: Store, fixed_clock: FixedClock, people: FakeSlack
) -> AsyncIterator[SlackService]:
    """The bot's Slack endpoint over HTTP on an ephemeral port."""
    conversation = Conversation(slack_store, fixed_clock)
    app = build_slack_app(settings, conversation, slack_store, fixed_clock)
    running = SlackService(app, http_port=0, host="127.0.0.1")
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


class Slack:
    """Sends what Slack sends, signed, to the bot's endpoint; clicks what the bot posted."""

    def __init__(
        self, session: aiohttp.ClientSession, url: str, fake: FakeSlack, client: AsyncWebClient
    ) -> None:
        self.session = session
        self.url = url
        self.fake = fake
        self.client = client  # for what a person's Slack client does (opening a DM)

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        stamp = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature(body, stamp, secret),
            **(headers or {}),
        }
        async with self.session.post(self.url, data=body.encode(), headers=sent) as response:
            return Answer(response.status, CIMultiDict(response.headers), await response.text())

    async def event(self, event: dict[str, Any], **options: Any) -> Answer:
        payload = event_envelope(event)["payload"]
        if "event_id" in options:
            payload["event_id"] = options.pop("event_id")
        return await self.post(json.dumps(payload), "application/json", **options)

    async def command(self, user: str, text: str, *, channel: str = CHANNEL) -> Answer:
        form = slash_command_envelope("/ccm", text, user_id=user, channel_id=channel)
        return await self.post(urlencode(form["payload"]), "application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any]) -> Answer:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def dm(self, user: str, text: str, *, thread_ts: str | None = None) -> str:
        """The person writes in their DM with the bot; returns the message ts."""
        ts = f"{time.time():.6f}"
        event: dict[str, Any] = {
            "type": "message",
            "channel": await self.dm_channel(user),
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        answer = await self.event(event)
        assert answer.status == 200, answer
        return ts

    async def dm_channel(self, user: str) -> str:
        known = self.fake.dm_channel(user)
        if known:
            return known
        opened = await self.client.conversations_open(users=user)
        return str(opened["channel"]["id"])

    async def click(
        self, user: str, message: dict[str, Any], label: str, *, channel: str | None = None
    ) -> Answer:
        """Press the button labelled ``label`` on a message the bot posted.

        An ephemeral message (from ``fake.ephemeral_messages``) is clicked as Slack sends it:
        the container says so and the payload carries no ``message``.
        """
        button, block_id = _find_button(message, label)
        ephemeral = "user" in message and "bot_id" not in message
        channel = channel or message.get("channel") or self.fake.dm_channel(user)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        }
        if message.get("thread_ts"):
            container["thread_ts"] = message["thread_ts"]
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "unused",
            "container": container,
            "trigger_id": f"{int(time.time())}.1.{uuid.uuid4().hex}",
            "team": {"id": TEAM_ID, "domain": "ccm-test"},
            "channel": {"id": channel, "name": "directmessage"},
            **({} if ephemeral else {"message": message}),
            "response_url": f"https://hooks.slack.com/actions/{TEAM_ID}/1/fake",
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": block_id,
                    "text": button["text"],
                    "value": button.get("value", ""),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        answer = await self.interact(payload)
        assert answer.status == 200, answer
        return answer

    async def submit(self, user: str, view: dict[str, Any], values: Mapping[str, str]) -> Answer:
        """Submit a modal the bot opened, with ``values`` typed into it (by block id)."""
        state: dict[str, dict[str, Any]] = {}
        for block in view["blocks"]:
            if block["type"] != "input":
                continue
            element = block["element"]
            given = values.get(block["block_id"])
            state[block["block_id"]] = {element["action_id"]: _element_state(element, given)}
        submitted = {**view, "state": {"values": state}}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "ccm-test"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "unused",
            "trigger_id": f"{int(time.time())}.2.{uuid.uuid4().hex}",
            "view": submitted,
            "response_urls": [],
        }
        return await self.interact(payload)


def _find_button(message: dict[str, Any], label: str) -> tuple[dict[str, Any], str]:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return element, block.get("block_id", "")
    labels = [
        e["text"]["text"]
        for b in message.get("blocks") or []
        for e in b.get("elements") or []
        if e.get("type") == "button"
    ]
    raise AssertionError(f"no button {label!r} on the message; it has {labels}")


def _element_state(element: dict[str, Any], given: str | None) -> dict[str, Any]:
    """An input as Slack submits it: None leaves what the form showed, "" is the person
    emptying it (Slack then sends null), anything else is typed or chosen."""
    kind = element["type"]
    if kind == "static_select":
        if given is None:
            return {"type": kind, "selected_option": element.get("initial_option")}
        options = {o["value"]: o for o in element["options"]}
        return {"type": kind, "selected_option": options[given] if given else None}
    if kind == "datepicker":
        chosen = element.get("initial_date") if given is None else given or None
        return {"type": kind, "selected_date": chosen}
    typed = element.get("initial_value") if given is None else given or None
    return {"type": kind, "value": typed}


@pytest.fixture
async def slack(
    service: SlackService, people: FakeSlack, slack_client: AsyncWebClient
) -> AsyncIterator[Slack]:
    # A test may await a line the bot logs after Slack answered (``fake.wait_for`` over
    # ``caplog.records``): the fake's own notice of that answer comes too early for it.
    with waking_on_logs(people.changes):
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{service.port}/slack/events"
            yield Slack(session, url, people, slack_client)


def reminder_for(
    contact: Contact,
    items: tuple[tuple[str, str, str, date], ...],
    *,
    message_id: int = 1,
    language: str = "en",
) -> Outgoing:
    """What the dispatcher hands a transport: one message, its items, its ledger ids."""
    return Outgoing(
        message_id=message_id,
        purpose="reminder",
        channel=Channel.SLACK,
        local_day=NOW.date(),
        language=language,
        zone="Europe/Zurich",
        contact_id=contact.id,
        name=contact.name,
        email=contact.email,
        slack_user_id=contact.slack_user_id,
        items=tuple(
            ReminderItem(state, name, item, "d14", due, None) for state, name, item, due in items
        ),
        delivery_ids=tuple(range(100, 100 + len(items))),
    )


async def contact(store: Store, email: str) -> Contact:
    async with store.transaction() as session:
        found = await session.scalar(select(Contact).where(Contact.email == email))
    assert found is not None
    return found


@pytest.fixture
def transport(settings: Settings) -> SlackTransport:
    return SlackTransport(slack_web_client(settings))
