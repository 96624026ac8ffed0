"""Builds the Slack side of the bot: the Web API client, the Bolt app and how Slack reaches it.

Nothing is built at import time. ``build_slack_app`` wires listeners to an app; ``SlackService``
connects it, by Socket Mode (outbound WebSocket, no public URL: ``SLACK_APP_TOKEN``) or by HTTP
(``ccm-bot run --http PORT`` serving POST /slack/events, every request's signature checked).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings, SettingsError
from bot.slack.dedupe import skip_redelivered_events
from bot.slack.listeners import SlackBot
from handlers.conversation import Conversation
from schedules.clock import Clock
from storage.db import Store

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
RATE_LIMIT_RETRIES = 3
CONNECTION_RETRIES = 2


def slack_web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: 429s wait for Retry-After, dropped connections are retried."""
    if not settings.slack_bot_token:
        raise SettingsError("SLACK_BOT_TOKEN is needed to talk to Slack")
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,  # validated to end with "/", which slack-sdk needs
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


def build_slack_app(
    settings: Settings, conversation: Conversation, store: Store, clock: Clock
) -> AsyncApp:
    """A Bolt app with every ccm-bot listener, its redelivery filter and its error handler."""
    app = AsyncApp(
        name="ccm-bot",
        client=slack_web_client(settings),
        # Always verified over HTTP; Socket Mode requests come over our own authenticated
        # WebSocket and Bolt skips the check for them.
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=True,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    app.middleware(skip_redelivered_events(store, clock))
    SlackBot(conversation, store, clock, fallback_zone=settings.timezone).register(app)
    return app


@dataclass
class SlackService:
    """Slack's way in: Socket Mode, an HTTP endpoint, or neither (sending reminders only)."""

    app: AsyncApp
    app_token: str | None = None
    http_port: int | None = None
    host: str = "0.0.0.0"
    port: int | None = None  # the bound HTTP port (useful with http_port=0)
    _socket: AsyncSocketModeHandler | None = field(default=None, repr=False)
    _runner: web.AppRunner | None = field(default=None, repr=False)

    @property
    def mode(self) -> str:
        if self.http_port is not None:
            return "http"
        return "socket" if self.app_token else "send-only"

    async def start(self) -> None:
        if self.mode == "http":
            await self._serve_http()
        elif self.mode == "socket":
            assert self.app_token is not None
            self._socket = AsyncSocketModeHandler(self.app, app_token=self.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve_http(self) -> None:
        async def events(request: web.Request) -> web.Response:
            response = await self.app.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(response)

        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, events)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.http_port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("Slack events served on %s:%s%s", self.host, self.port, EVENTS_PATH)


async def start_slack(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    conversation: Conversation | None = None,
    http_port: int | None = None,
    host: str = "0.0.0.0",
) -> SlackService:
    """Build the app from the settings and connect it the way the settings say."""
    if http_port is not None and not settings.slack_signing_secret:
        raise SettingsError(
            "SLACK_SIGNING_SECRET is needed to serve Slack over HTTP (--http): copy it from "
            "the app's Basic Information page"
        )
    conversation = conversation or Conversation(store, clock, settings.reminders.snooze_days)
    service = SlackService(
        build_slack_app(settings, conversation, store, clock),
        app_token=settings.slack_app_token,
        http_port=http_port,
        host=host,
    )
    await service.start()
    return service
