"""Builds the Slack side of the bot: the Web API client, the Bolt app and how Slack reaches it.

Nothing is built at import time. ``build_slack_app`` wires listeners to an app; ``SlackService``
connects it, by Socket Mode (outbound WebSocket, no public URL: ``SLACK_APP_TOKEN``) or by HTTP
(``ccm-bot run --http PORT [--host ADDRESS]`` serving POST /slack/events, every request's
signature checked on its raw bytes before anything reads them).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings, SettingsError
from bot.slack import listeners
from bot.slack.dedupe import skip_redelivered_events
from handlers.conversation import Conversation
from schedules.clock import Clock
from storage.db import Store

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# Where ``--http`` listens unless told otherwise: this host only, behind a reverse proxy.
DEFAULT_HOST = "127.0.0.1"
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
    deps = listeners.Deps(
        conversation, store, clock, fallback_zone=settings.timezone, policy=settings.reminders
    )
    listeners.register(app, deps)
    return app


@dataclass
class SlackService:
    """Slack's way in: Socket Mode, an HTTP endpoint, or neither (sending reminders only)."""

    app: AsyncApp
    app_token: str | None = None
    http_port: int | None = None
    host: str = DEFAULT_HOST
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
        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, signed_events(self.app))
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.http_port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("Slack events served on %s:%s%s", self.host, self.port, EVENTS_PATH)


Handler = Callable[[web.Request], Awaitable[web.Response]]


def signed_events(app: AsyncApp) -> Handler:
    """The endpoint Slack posts to. Bolt would parse the body before checking its signature
    (a 500 and a traceback for any garbage), so the signature is checked here first: unsigned
    is 401, signed but not a Slack payload is 400, each in one log line."""
    # The secret the app verifies with too (Bolt keeps it unexposed): the two cannot disagree.
    verifier = SignatureVerifier(app._signing_secret)

    async def events(request: web.Request) -> web.Response:
        raw = await request.read()
        if not _signed(verifier, raw, request.headers):
            log.warning("refused a Slack request without a valid signature from %s", request.remote)
            return web.Response(status=401)
        bolt_request = _bolt_request(raw, request)
        if bolt_request is None:
            log.warning(
                "refused a signed Slack request that is not a Slack payload (%s, %d bytes)",
                request.content_type,
                len(raw),
            )
            return web.Response(status=400)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    return events


def _signed(verifier: SignatureVerifier, raw: bytes, headers: Mapping[str, str]) -> bool:
    try:
        return verifier.is_valid(
            raw, headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature")
        )
    except ValueError:  # a timestamp that is not a number, a body that is not UTF-8
        return False


def _bolt_request(raw: bytes, request: web.Request) -> AsyncBoltRequest | None:
    """Bolt's request, or None when the body is not a payload Bolt can read."""
    try:
        parsed = AsyncBoltRequest(
            body=raw.decode(),
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
    except Exception:  # Bolt's parsing raises whatever the shape trips over
        return None
    return parsed if isinstance(parsed.body, dict) else None


def slack_service(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    conversation: Conversation | None = None,
    http_port: int | None = None,
    host: str = DEFAULT_HOST,
) -> SlackService:
    """Build the app from the settings, to be connected the way the settings say."""
    if http_port is not None and not settings.slack_signing_secret:
        raise SettingsError(
            "SLACK_SIGNING_SECRET is needed to serve Slack over HTTP (--http): copy it from "
            "the app's Basic Information page"
        )
    conversation = conversation or Conversation(store, clock, settings.reminders.snooze_days)
    return SlackService(
        build_slack_app(settings, conversation, store, clock),
        app_token=settings.slack_app_token,
        http_port=http_port,
        host=host,
    )


async def start_slack(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    conversation: Conversation | None = None,
    http_port: int | None = None,
    host: str = DEFAULT_HOST,
) -> SlackService:
    """Build the app from the settings and connect it the way the settings say."""
    service = slack_service(
        settings, store, clock, conversation=conversation, http_port=http_port, host=host
    )
    await service.start()
    return service
