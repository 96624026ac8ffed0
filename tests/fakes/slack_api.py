"""A local fake of the Slack Web API that the real slack-sdk client can talk to.

Slack cannot be reached from the test machines, and mocking `AsyncWebClient` would skip the parts
that break in production: URL building, form versus JSON encoding, retry handlers, error mapping.
So this is an aiohttp server on an ephemeral port that answers the methods ccm-bot uses with
Slack's response shapes and error names, records every call, validates Block Kit payloads the way
Slack rejects them, and can be told to rate-limit, fail or drop a connection.

    async with FakeSlack() as fake:
        fake.add_user("U1", "ana@example.org", "ana")
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.url)
        await client.chat_postMessage(channel="U1", text="hi")
        assert fake.messages("U1")[0]["text"] == "hi"
        assert fake.invalid_payloads == []

A bot answers after Slack got its ack, so a test awaits what it needs rather than looking at
once: `await fake.message("U1", "Report recorded")` (or `fake.whisper`, `fake.wait_for(check)`)
re-checks after every call the fake answers, and finds a message by what it says, since two
listeners may answer in either order.

Where Slack's documented behaviour is surprising the fake follows Slack, not intuition:
`users.info` returns `locale` only with `include_locale`; `users.lookupByEmail` does not find
deactivated users; posting into an existing DM with a deactivated user succeeds (Slack staff in
python-slack-sdk#1156) unless `deactivate_user(..., dm_error=...)` says otherwise; invalid views are
rejected with `invalid_arguments` (messages only in `response_metadata`), invalid message blocks
with `invalid_blocks` and an `errors` list; `chat.update` changes only the bot's own messages
(`cant_update_message` otherwise), wants a DM by its D… id and keeps the message's metadata unless
given `{}`; `conversations.replies` always puts the thread's parent first.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple, NoReturn, Self, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.fakes.socket_mode import SocketModeServer
from tests.fakes.waiting import WAIT, Changes

T = TypeVar("T")
Matching = str | Callable[[dict[str, Any]], bool]

BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"
TEAM_ID = "T0CCMTEST"
TEAM_NAME = "CCM Test"
TEAM_URL = "https://ccm-test.slack.com/"
BOT_USER_ID = "U0CCMBOT"
BOT_USER_NAME = "ccm-bot"
BOT_ID = "B0CCMBOT"
APP_ID = "A0CCMAPP"

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_VIEW_TITLE = 24

# Parameters slack-sdk JSON-encodes when it sends a form instead of a JSON body.
_JSON_ENCODED_PARAMS = ("blocks", "attachments", "metadata", "view", "files")


class Call(NamedTuple):
    """One Web API call as the fake received it (the token is not part of params)."""

    method: str
    params: dict[str, Any]


@dataclass
class FakeUser:
    id: str
    email: str
    name: str
    real_name: str
    tz: str = "Europe/Zurich"
    locale: str = "en-US"
    deleted: bool = False
    is_bot: bool = False
    dm_error: str | None = None

    def to_slack(self, *, include_locale: bool) -> dict[str, Any]:
        now = datetime.now(UTC).astimezone(ZoneInfo(self.tz))
        offset = now.utcoffset()
        user: dict[str, Any] = {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": now.tzname(),
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "profile": {
                "real_name": self.real_name,
                "real_name_normalized": self.real_name,
                "display_name": self.name,
                "display_name_normalized": self.name,
                "email": self.email,
                "team": TEAM_ID,
            },
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class InvalidPayload:
    """A request Slack would have rejected because of what the bot sent."""

    method: str
    errors: list[str]
    params: dict[str, Any]


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    title: str | None = None
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)


@dataclass
class _Fault:
    drop: bool
    status: int
    retry_after: int | None
    error: str | None
    remaining: int
    # Not Slack's JSON: what a proxy or load balancer in front of Slack answers instead.
    body: str | None = None
    content_type: str = "text/plain"

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class _SlackError(Exception):
    """Raised by a method implementation to answer `{"ok": false, "error": ...}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.body: dict[str, Any] = {"ok": False, "error": error, **extra}


def _flag(params: dict[str, Any], key: str) -> bool:
    return params.get(key) in (True, 1, "1", "true")


def _ts_value(ts: Any) -> Decimal:
    try:
        return Decimal(str(ts))
    except ArithmeticError:
        raise _SlackError("invalid_ts_latest") from None


class FakeSlack:
    """A Slack workspace with one bot, served over HTTP on 127.0.0.1."""

    def __init__(
        self,
        *,
        bot_tokens: Iterable[str] = (BOT_TOKEN,),
        app_tokens: Iterable[str] = (APP_TOKEN,),
    ) -> None:
        self.bot_tokens = set(bot_tokens)
        self.app_tokens = set(app_tokens)
        self.calls: list[Call] = []
        self.invalid_payloads: list[InvalidPayload] = []
        self.internal_errors: list[Exception] = []
        self.ephemeral_messages: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.files: dict[str, UploadedFile] = {}
        self.socket = SocketModeServer(app_id=APP_ID)
        self.changes = Changes()  # notified after every call answered and file uploaded
        self._users: dict[str, FakeUser] = {}
        self._channels: dict[str, list[dict[str, Any]]] = {}
        self._dm_by_user: dict[str, str] = {}
        self._dm_user: dict[str, str] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._ids = itertools.count(1)
        self._ts_counter = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "apps.connections.open": self._apps_connections_open,
        }
        self._users[BOT_USER_ID] = FakeUser(
            BOT_USER_ID, "", BOT_USER_NAME, "CCM bot", is_bot=True, tz="UTC"
        )

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> str:
        """Start serving; returns the Web API base URL (with the trailing slash slack-sdk needs)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_routes(self.socket.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host}:{port}/api/"
        return self._url

    async def stop(self) -> None:
        await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.internal_errors:
            raise RuntimeError("the fake Slack crashed") from self.internal_errors[0]

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The Web API base URL, for `AsyncWebClient(base_url=...)`."""
        if self._url is None:
            raise RuntimeError("FakeSlack is not started")
        return self._url

    @property
    def _origin(self) -> str:
        return self.url.removesuffix("api/")

    # --- workspace set-up --------------------------------------------------------------------

    def add_user(
        self,
        id: str,
        email: str,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "Europe/Zurich",
        locale: str = "en-US",
        deleted: bool = False,
    ) -> FakeUser:
        ZoneInfo(tz)  # fail here, not mid-request, on a zone Slack would never report
        user = FakeUser(id, email, name, real_name or name, tz=tz, locale=locale, deleted=deleted)
        self._users[id] = user
        return user

    def post_as_user(
        self, user_id: str, channel: str, text: str, *, thread_ts: str | None = None
    ) -> str:
        """A person's own message in a conversation (their DM with the bot when ``channel`` is
        their id), as their Slack client would post it; returns its ts."""
        user = self._user(user_id)
        channel_id = self._open_dm(channel) if channel[:1] in ("U", "W") else channel
        self._channels.setdefault(channel_id, [])
        ts = self._next_ts()
        message: dict[str, Any] = {
            "user": user.id,
            "type": "message",
            "ts": ts,
            "team": TEAM_ID,
            "text": text,
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
        self._channels[channel_id].append(message)
        self.changes.notify()
        return ts

    def deactivate_user(self, user_id: str, *, dm_error: str | None = None) -> None:
        """Mark a user deleted: conversations.open then answers `user_disabled`.

        Slack still accepts posts into a DM opened before the deactivation; pass `dm_error`
        (e.g. "user_disabled", "channel_not_found") to make such posts fail instead.
        """
        user = self._users[user_id]
        user.deleted = True
        user.dm_error = dm_error

    # --- fault injection ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to `method` fail.

        429 answers `ratelimited` with a Retry-After header (2 seconds unless told); 5xx answers
        with that status, `error` (default "internal_error") and Retry-After when given; 200
        answers `{"ok": false, "error": error}`.
        """
        if status == 200 and error is None:
            raise ValueError("a 200 failure needs an error name")
        if status not in (200, 429) and status < 500:
            raise ValueError(f"Slack fails with 200, 429 or 5xx, not {status}")
        fault = _Fault(False, status, retry_after, error, times)
        self._faults.setdefault(method, deque()).append(fault)

    def garble_next(
        self,
        method: str,
        *,
        status: int = 503,
        body: str = "upstream connect error or disconnect/reset before headers",
        content_type: str = "text/plain",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls to `method` with a body that is not Slack's JSON.

        What reaches a bot when something stands between it and Slack: a proxy's text/plain
        503, a load balancer's HTML page (sometimes labelled application/json), an empty body.
        """
        fault = _Fault(False, status, retry_after, None, times, body, content_type)
        self._faults.setdefault(method, deque()).append(fault)

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """Close the connection without answering the next `times` calls to `method`."""
        self._faults.setdefault(method, deque()).append(_Fault(True, 0, 0, None, times))

    # --- inspection --------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """The params of every call to `method`, oldest first (failed calls included)."""
        return [call.params for call in self.calls if call.method == method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages in a channel (or the DM with a user id), oldest first, with metadata."""
        channel_id = self._dm_by_user.get(channel, channel)
        return copy.deepcopy(self._channels.get(channel_id, []))

    def dm_channel(self, user_id: str) -> str | None:
        """The DM channel id opened with a user, if any."""
        return self._dm_by_user.get(user_id)

    def whispers(self, user: str) -> list[dict[str, Any]]:
        """What the bot showed ``user`` alone (chat.postEphemeral), oldest first."""
        return [m for m in self.ephemeral_messages if m["user"] == user]

    # --- waiting -----------------------------------------------------------------------------
    # The bot answers after Slack got its ack, and two listeners may answer in either order:
    # a test awaits what it needs (re-checked after every call the fake answers) and picks a
    # message by what it says, not by where it landed.

    async def wait_for(
        self,
        check: Callable[[], T | Literal[False] | None],
        *,
        timeout: float = WAIT,  # noqa: ASYNC109
    ) -> T:
        """``check()``'s first truthy result, evaluated now and after every call answered."""
        return await self.changes.wait_for(check, timeout=timeout)

    async def message(
        self,
        channel: str,
        matching: Matching,
        *,
        timeout: float = WAIT,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The first message in ``channel`` (or the DM with a user id) that ``matching`` fits,
        once there: a predicate, or a text it shows (see `said`)."""
        fits = _matcher(matching)
        found = await self.changes.wait_for(
            lambda: [m for m in self.messages(channel) if fits(m)][:1],
            timeout=timeout,
            what=f"a message in {channel} matching {matching!r}",
        )
        return found[0]

    async def whisper(
        self,
        user: str,
        matching: Matching,
        *,
        timeout: float = WAIT,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The first ephemeral message shown to ``user`` that ``matching`` fits, once there."""
        fits = _matcher(matching)
        found = await self.changes.wait_for(
            lambda: [m for m in self.whispers(user) if fits(m)][:1],
            timeout=timeout,
            what=f"a whisper to {user} matching {matching!r}",
        )
        return copy.deepcopy(found[0])

    # --- Socket Mode -------------------------------------------------------------------------
    # These take a timeout (ruff ASYNC109) on purpose: a client that never connects or never
    # acknowledges must fail the test with a clear message, not hang it.

    async def socket_send(self, envelope: dict[str, Any], *, timeout: float = WAIT) -> str:  # noqa: ASYNC109
        """Push an envelope to the connected Socket Mode client; returns its envelope_id."""
        return await self.socket.send(envelope, timeout=timeout)

    async def socket_ack(self, envelope_id: str, timeout: float = WAIT) -> dict[str, Any]:  # noqa: ASYNC109
        """Await the client's acknowledgement of an envelope (the JSON it sent back)."""
        return await self.socket.ack(envelope_id, timeout=timeout)

    async def socket_connected(self, timeout: float = WAIT) -> None:  # noqa: ASYNC109
        await self.socket.wait_connected(timeout)

    # --- HTTP plumbing -----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._answer_api(request)
        finally:
            self.changes.notify()  # what the call changed is in place: wake the waiting tests

    async def _answer_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _read_params(request)
        token = _bearer_token(request) or params.pop("token", None)
        self.calls.append(Call(method, params))

        fault = self._take_fault(method)
        if fault is not None:
            if fault.drop:
                # The client sees the server hang up mid-request (aiohttp ServerDisconnectedError).
                if request.transport is not None:
                    request.transport.close()
                return web.Response()
            if fault.body is not None:
                return web.Response(
                    status=fault.status,
                    body=fault.body.encode(),
                    headers={"Content-Type": fault.content_type, **fault.headers},
                )
            if fault.status == 429:
                retry_after = 2 if fault.retry_after is None else fault.retry_after
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(retry_after)},
                )
            if fault.status >= 500:
                body = {"ok": False, "error": fault.error or "internal_error"}
                return web.json_response(body, status=fault.status, headers=fault.headers)

        implementation = self._methods.get(method)
        if implementation is None:
            return web.json_response({"ok": False, "error": "unknown_method", "req_method": method})
        try:
            self._authenticate(method, token)
            if fault is not None and fault.error is not None:
                raise _SlackError(fault.error)
            body = implementation(params)
        except _SlackError as exc:
            body = exc.body
        except Exception as exc:
            # A bug in the fake must not pass for a Slack 500: stop() re-raises it.
            self.internal_errors.append(exc)
            raise
        return web.json_response(body)

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    def _authenticate(self, method: str, token: str | None) -> None:
        if not token:
            raise _SlackError("not_authed")
        wants_app_token = method == "apps.connections.open"
        if token in self.app_tokens:
            if not wants_app_token:
                raise _SlackError("not_allowed_token_type")
        elif token in self.bot_tokens:
            if wants_app_token:
                raise _SlackError("not_allowed_token_type")
        else:
            raise _SlackError("invalid_auth")

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        upload = self.files.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="file not found")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            parts = [v for v in form.values() if isinstance(v, web.FileField)]
            content = parts[0].file.read() if parts else b""
        else:
            content = await request.read()
        upload.content = content
        self.changes.notify()
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    # --- helpers shared by methods -----------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _next_ts(self) -> str:
        micros = 1_700_000_000_000_000 + 100 * next(self._ts_counter)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _user(self, user_id: Any) -> FakeUser:
        user = self._users.get(str(user_id or ""))
        if user is None:
            raise _SlackError("user_not_found")
        return user

    def _open_dm(self, user_id: str) -> str:
        channel = self._dm_by_user.get(user_id)
        if channel is None:
            channel = self._next_id("D")
            self._dm_by_user[user_id] = channel
            self._dm_user[channel] = user_id
            self._channels[channel] = []
        return channel

    def _postable_channel(self, value: Any) -> str:
        """Resolve `channel` for posting: a channel id, a DM id, or a user id (opens the DM)."""
        channel = str(value or "")
        if channel[:1] in ("U", "W"):
            user = self._users.get(channel)
            if user is None or user.is_bot:
                raise _SlackError("channel_not_found")
            channel = self._open_dm(channel)
        elif channel[:1] == "D":
            if channel not in self._dm_user:
                raise _SlackError("channel_not_found")
        elif channel[:1] not in ("C", "G"):
            raise _SlackError("channel_not_found")
        dm_user = self._users.get(self._dm_user.get(channel, ""))
        if dm_user is not None and dm_user.deleted and dm_user.dm_error:
            raise _SlackError(dm_user.dm_error)
        self._channels.setdefault(channel, [])
        return channel

    def _reject(
        self, method: str, params: dict[str, Any], problems: list[str], **body: Any
    ) -> NoReturn:
        self.invalid_payloads.append(InvalidPayload(method, problems, copy.deepcopy(params)))
        raise _SlackError(
            body.pop("error"),
            **body,
            response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
        )

    def _message_content(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Validated text/blocks/metadata of a message, as Slack stores them."""
        text = params.get("text")
        blocks = params.get("blocks")
        attachments = params.get("attachments")
        if blocks is not None and not isinstance(blocks, list):
            self._reject(method, params, ["blocks must be an array"], error="invalid_blocks_format")
        if not text and not blocks and not attachments:
            self._reject(method, params, ["no text, blocks or attachments"], error="no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            self._reject(method, params, ["text is too long"], error="msg_too_long")
        if blocks:
            errors = validate_blocks(blocks, pointer="/blocks", max_blocks=MAX_MESSAGE_BLOCKS)
            if errors:
                self._reject(method, params, errors, error="invalid_blocks", errors=errors)
        content: dict[str, Any] = {"text": text or ""}
        if blocks:
            content["blocks"] = copy.deepcopy(blocks)
        if attachments:
            content["attachments"] = copy.deepcopy(attachments)
        metadata = params.get("metadata")
        if metadata is not None:
            if not isinstance(metadata, dict):
                self._reject(
                    method, params, ["metadata must be an object"], error="invalid_metadata_format"
                )
            if not isinstance(metadata.get("event_type"), str) or not isinstance(
                metadata.get("event_payload"), dict
            ):
                errors = ["metadata needs event_type (string) and event_payload (object)"]
                self._reject(method, params, errors, error="invalid_metadata_schema")
            content["metadata"] = {
                "event_type": metadata["event_type"],
                "event_payload": copy.deepcopy(metadata["event_payload"]),
            }
        return content

    def _bot_message(self, ts: str, content: dict[str, Any]) -> dict[str, Any]:
        return {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": ts,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": APP_ID,
                "name": BOT_USER_NAME,
                "deleted": False,
                "team_id": TEAM_ID,
            },
            **content,
        }

    def _find_message(self, channel: str, ts: Any) -> dict[str, Any]:
        for message in self._channels.get(channel, []):
            if message["ts"] == ts:
                return message
        raise _SlackError("message_not_found")

    # --- methods -----------------------------------------------------------------------------

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": TEAM_URL,
            "team": TEAM_NAME,
            "user": BOT_USER_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        ws_origin = "ws" + self._origin.removeprefix("http")
        return {"ok": True, "url": self.socket.issue_url(ws_origin)}

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._postable_channel(params.get("channel"))
        content = self._message_content("chat.postMessage", params)
        ts = self._next_ts()
        message = self._bot_message(ts, content)
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
            if _flag(params, "reply_broadcast"):
                message["subtype"] = "thread_broadcast"
        self._channels[channel].append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        # A DM is updated by its D… id: Slack answers channel_not_found for the user's U… id.
        channel = str(params.get("channel") or "")
        if channel not in self._channels:
            raise _SlackError("channel_not_found")
        message = self._find_message(channel, params.get("ts"))
        if message.get("bot_id") != BOT_ID:
            raise _SlackError("cant_update_message")  # only the bot's own messages
        drop_metadata = params.get("metadata") == {}  # {} removes it; leaving it out keeps it
        if drop_metadata:
            params = {k: v for k, v in params.items() if k != "metadata"}
        content = self._message_content("chat.update", params)
        if "blocks" not in content:
            message.pop("blocks", None)
        if drop_metadata:
            message.pop("metadata", None)
        message.update(content)
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._postable_channel(params.get("channel"))
        user = self._user(params.get("user"))
        content = self._message_content("chat.postEphemeral", params)
        ts = self._next_ts()
        self.ephemeral_messages.append({"channel": channel, "user": user.id, "ts": ts, **content})
        return {"ok": True, "message_ts": ts}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = params.get("users")
        if isinstance(users, str):
            users = [u for u in users.split(",") if u]
        if not users:
            if params.get("channel") in self._channels:
                return {"ok": True, "channel": {"id": params["channel"]}}
            raise _SlackError("users_list_not_supplied")
        for user_id in users:
            user = self._user(user_id)
            if user.is_bot:
                raise _SlackError("cannot_dm_bot")
            if user.deleted:
                raise _SlackError("user_disabled")
        if len(users) > 1:
            channel = self._next_id("G")
            self._channels[channel] = []
            return {"ok": True, "channel": {"id": channel}}
        already_open = users[0] in self._dm_by_user
        channel = self._open_dm(users[0])
        body: dict[str, Any] = {"ok": True, "channel": {"id": channel}}
        if already_open:
            body.update(no_op=True, already_open=True)
        if _flag(params, "return_im"):
            body["channel"].update(is_im=True, user=users[0], created=1_700_000_000)
        return body

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if channel not in self._channels and channel[:1] not in ("C", "G"):
            raise _SlackError("channel_not_found")
        oldest = _ts_value(params.get("oldest") or 0)
        latest = _ts_value(params["latest"]) if params.get("latest") else None
        inclusive = _flag(params, "inclusive")
        limit = min(int(params.get("limit") or 100), 999)
        with_metadata = _flag(params, "include_all_metadata")

        def in_range(message: dict[str, Any]) -> bool:
            ts = Decimal(message["ts"])
            above = ts >= oldest if inclusive else ts > oldest
            below = latest is None or (ts <= latest if inclusive else ts < latest)
            return above and below

        def top_level(message: dict[str, Any]) -> bool:
            thread_ts = message.get("thread_ts")
            return (
                thread_ts in (None, message["ts"]) or message.get("subtype") == "thread_broadcast"
            )

        found = [
            m for m in reversed(self._channels.get(channel, [])) if top_level(m) and in_range(m)
        ]
        cursor = params.get("cursor")
        if cursor:
            start_ts = base64.b64decode(str(cursor)).decode().removeprefix("next_ts:")
            found = [m for m in found if Decimal(m["ts"]) <= Decimal(start_ts)]
        page, rest = found[:limit], found[limit:]
        messages = copy.deepcopy(page)
        if not with_metadata:
            for message in messages:
                message.pop("metadata", None)
        body: dict[str, Any] = {
            "ok": True,
            "messages": messages,
            "has_more": bool(rest),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if rest:
            next_cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode()
            body["response_metadata"] = {"next_cursor": next_cursor}
        return body

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """A thread, oldest first: its parent always first, then the replies in the range."""
        channel = str(params.get("channel") or "")
        if channel not in self._channels:
            raise _SlackError("channel_not_found")
        ts = str(params.get("ts") or "")
        if not ts:
            raise _SlackError("invalid_arguments")
        messages = self._channels[channel]
        parent = next((m for m in messages if m["ts"] == ts), None)
        if parent is None:
            raise _SlackError("thread_not_found")
        oldest = _ts_value(params.get("oldest") or 0)
        latest = _ts_value(params["latest"]) if params.get("latest") else None
        inclusive = _flag(params, "inclusive")
        limit = min(int(params.get("limit") or 1000), 1000)

        def in_range(message: dict[str, Any]) -> bool:
            at = Decimal(message["ts"])
            above = at >= oldest if inclusive else at > oldest
            below = latest is None or (at <= latest if inclusive else at < latest)
            return above and below

        replies = [m for m in messages if m.get("thread_ts") == ts and m["ts"] != ts]
        head = copy.deepcopy(parent)
        if replies:
            head.update(
                thread_ts=ts,
                reply_count=len(replies),
                reply_users=sorted({m["user"] for m in replies}),
                latest_reply=replies[-1]["ts"],
            )
        found = [head, *(copy.deepcopy(m) for m in replies if in_range(m))]
        page = found[:limit]
        if not _flag(params, "include_all_metadata"):
            for message in page:
                message.pop("metadata", None)
        return {"ok": True, "messages": page, "has_more": len(found) > limit}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._user(params.get("user"))
        return {"ok": True, "user": user.to_slack(include_locale=_flag(params, "include_locale"))}

    def _users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email") or "").lower()
        for user in self._users.values():
            if user.email.lower() == email and email and not user.deleted:
                return {"ok": True, "user": user.to_slack(include_locale=False)}
        raise _SlackError("users_not_found")

    def _valid_view(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        errors = validate_view(view)
        if errors:
            self._reject(method, params, errors, error="invalid_arguments")
        assert isinstance(view, dict)
        return view

    def _store_view(
        self, view: dict[str, Any], *, view_id: str | None = None, root_id: str | None = None
    ) -> dict[str, Any]:
        view_id = view_id or self._next_id("V")
        previous = self.views.get(view_id, {})
        stored = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view["type"],
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "clear_on_close": False,
            "notify_on_close": False,
            "external_id": "",
            **copy.deepcopy(view),
            "hash": f"{int(time.time())}.{next(self._ids):08x}",
            "root_view_id": previous.get("root_view_id") or root_id or view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        self.views[view_id] = stored
        return copy.deepcopy(stored)

    def _require_trigger(self, params: dict[str, Any]) -> None:
        if not (params.get("trigger_id") or params.get("interactivity_pointer")):
            raise _SlackError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]},
            )

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        self._require_trigger(params)
        view = self._valid_view("views.open", params)
        return {"ok": True, "view": self._store_view(view)}

    def _views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        self._require_trigger(params)
        view = self._valid_view("views.push", params)
        return {"ok": True, "view": self._store_view(view)}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        if not view_id and external_id:
            matches = [v["id"] for v in self.views.values() if v.get("external_id") == external_id]
            view_id = matches[0] if matches else None
        if view_id not in self.views:
            raise _SlackError("not_found")
        view = self._valid_view("views.update", params)
        expected_hash = params.get("hash")
        if expected_hash and expected_hash != self.views[str(view_id)]["hash"]:
            raise _SlackError("hash_conflict")
        return {"ok": True, "view": self._store_view(view, view_id=str(view_id))}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._user(params.get("user_id"))
        view = self._valid_view("views.publish", params)
        if view.get("type") != "home":
            errors = ["must be a valid enum value [json-pointer:/view/type]"]
            self._reject("views.publish", params, errors, error="invalid_arguments")
        current = self.home_views.get(user.id)
        published = self._store_view(view, view_id=current["id"] if current else None)
        self.home_views[user.id] = published
        return {"ok": True, "view": published}

    def _files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = params.get("filename")
        length = params.get("length")
        if not filename or length is None or not str(length).isdigit():
            raise _SlackError("invalid_arguments")
        file_id = self._next_id("F")
        self.files[file_id] = UploadedFile(file_id, str(filename), int(length))
        return {"ok": True, "upload_url": f"{self._origin}upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        requested = params.get("files")
        if not isinstance(requested, list) or not requested:
            raise _SlackError("invalid_arguments")
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        if params.get("channel_id"):
            channels.append(str(params["channel_id"]))
        channels = [self._postable_channel(c) for c in channels]
        completed = []
        for item in requested:
            upload = self.files.get(str(item.get("id")))
            if upload is None or upload.content is None:
                raise _SlackError("file_not_found")
            upload.title = item.get("title") or upload.filename
            upload.channels = channels
            completed.append(self._file_object(upload))
        for channel in channels:
            content: dict[str, Any] = {"text": params.get("initial_comment") or ""}
            content.update(files=copy.deepcopy(completed), upload=True, display_as_bot=False)
            message = self._bot_message(self._next_ts(), content)
            if params.get("thread_ts"):
                message["thread_ts"] = str(params["thread_ts"])
            self._channels[channel].append(message)
        return {"ok": True, "files": completed}

    def _file_object(self, upload: UploadedFile) -> dict[str, Any]:
        return {
            "id": upload.id,
            "created": 1_700_000_000,
            "timestamp": 1_700_000_000,
            "name": upload.filename,
            "title": upload.title,
            "mimetype": "",
            "filetype": "",
            "user": BOT_USER_ID,
            "size": len(upload.content or b""),
            "mode": "hosted",
            "is_external": False,
            "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{upload.id}/{upload.filename}",
            "permalink": f"{TEAM_URL}files/{BOT_USER_ID}/{upload.id}/{upload.filename}",
        }


def said(message: dict[str, Any]) -> str:
    """Everything a message shows a person: its text and every text in its blocks."""
    texts = [str(message.get("text") or "")]
    for node, _pointer in _walk_objects(message.get("blocks") or [], ""):
        if isinstance(node.get("text"), str):
            texts.append(node["text"])
    return "\n".join(texts)


def _matcher(matching: Matching) -> Callable[[dict[str, Any]], bool]:
    if isinstance(matching, str):
        return lambda message: matching in said(message)
    return matching


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string and body the way Slack does: slack-sdk sends both, depending on method."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in _JSON_ENCODED_PARAMS:
        value = params.get(key)
        if isinstance(value, str):
            # Undecodable values stay strings; the method answers with Slack's *_format error.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


# --- Block Kit validation --------------------------------------------------------------------


def validate_blocks(blocks: Any, *, pointer: str, max_blocks: int) -> list[str]:
    """Slack-style error strings for a list of blocks; empty when Slack would accept them."""
    if not isinstance(blocks, list):
        return [f"must provide an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    for index, block in enumerate(blocks):
        errors.extend(_validate_block(block, f"{pointer}/{index}"))
    return errors


def validate_view(view: Any) -> list[str]:
    """Slack-style error strings for a modal or Home tab view."""
    if not isinstance(view, dict):
        return ["must provide an object [json-pointer:/view]"]
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        return ["must be a valid enum value [json-pointer:/view/type]"]
    errors: list[str] = []
    if view_type == "modal" and "title" not in view:
        errors.append("missing required field: title [json-pointer:/view]")
    for key, limit in (
        ("title", MAX_VIEW_TITLE),
        ("submit", MAX_VIEW_TITLE),
        ("close", MAX_VIEW_TITLE),
    ):
        if key in view:
            errors.extend(_plain_text_errors(view[key], f"/view/{key}", limit))
    if "blocks" not in view:
        errors.append("missing required field: blocks [json-pointer:/view]")
    else:
        errors.extend(
            validate_blocks(view["blocks"], pointer="/view/blocks", max_blocks=MAX_VIEW_BLOCKS)
        )
    if errors:
        return errors
    try:
        accepted = View(**copy.deepcopy(view)).to_dict()
    except (SlackObjectFormationError, TypeError, AttributeError, ValueError) as exc:
        return [f"{exc} [json-pointer:/view]"]
    # Only unknown keys and the text objects: a view echoed back from a response carries id,
    # hash, state and empty strings that Slack tolerates.
    known = set(View(type=view_type).attributes) | {"app_installed_team_id"}
    errors = [
        f"invalid additional property: {key} [json-pointer:/view]"
        for key in view
        if key not in known
    ]
    texts = {key: view[key] for key in ("title", "submit", "close") if key in view}
    return errors + _schema_drift(texts, accepted, "/view")


def _validate_block(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    errors = _limit_errors(block, pointer)
    if errors:
        return errors
    try:
        parsed = Block.parse(copy.deepcopy(block))
    except (TypeError, AttributeError, ValueError, KeyError):
        return [f"failed to match all allowed schemas [json-pointer:{pointer}]"]
    if parsed is None:
        return [f"unsupported type: {block.get('type')} [json-pointer:{pointer}/type]"]
    errors = []
    try:
        parsed.validate_json()
        # Serialising validates the nested elements and shows what the model kept.
        accepted = parsed.get_non_null_attributes()
    except SlackObjectFormationError as exc:
        errors.append(f"{exc} [json-pointer:{pointer}]")
        with contextlib.suppress(SlackObjectFormationError):
            accepted = parsed.get_non_null_attributes()
    except (TypeError, AttributeError, ValueError):
        return [f"failed to match all allowed schemas [json-pointer:{pointer}]"]
    return errors + _schema_drift(block, accepted, pointer)


def _limit_errors(block: dict[str, Any], pointer: str) -> list[str]:
    """The limits Slack enforces that bots hit most, with the JSON pointer Slack reports."""
    errors: list[str] = []
    block_type = block.get("type")
    if block_type == "section":
        if isinstance(block.get("text"), dict):
            errors.extend(_text_length_errors(block["text"], f"{pointer}/text", MAX_SECTION_TEXT))
        for index, item in enumerate(block.get("fields") or []):
            errors.extend(
                _text_length_errors(item, f"{pointer}/fields/{index}", MAX_SECTION_FIELD_TEXT)
            )
    elif block_type == "header":
        errors.extend(_plain_text_errors(block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT))
    if isinstance(block.get("block_id"), str) and len(block["block_id"]) > MAX_BLOCK_ID:
        errors.append(_too_long(MAX_BLOCK_ID, f"{pointer}/block_id"))
    for element, element_pointer in _walk_objects(block, pointer):
        action_id = element.get("action_id")
        if isinstance(action_id, str) and len(action_id) > MAX_ACTION_ID:
            errors.append(_too_long(MAX_ACTION_ID, f"{element_pointer}/action_id"))
        if element.get("type") == "button":
            errors.extend(
                _plain_text_errors(element.get("text"), f"{element_pointer}/text", MAX_BUTTON_TEXT)
            )
    return errors


def _walk_objects(node: Any, pointer: str) -> Iterable[tuple[dict[str, Any], str]]:
    if isinstance(node, dict):
        yield node, pointer
        for key, value in node.items():
            yield from _walk_objects(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk_objects(value, f"{pointer}/{index}")


def _plain_text_errors(text: Any, pointer: str, limit: int) -> list[str]:
    if not isinstance(text, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    if text.get("type") != "plain_text":
        return [f"must be a valid enum value [json-pointer:{pointer}/type]"]
    return _text_length_errors(text, pointer, limit)


def _text_length_errors(text: Any, pointer: str, limit: int) -> list[str]:
    if isinstance(text, dict) and isinstance(text.get("text"), str) and len(text["text"]) > limit:
        return [_too_long(limit, f"{pointer}/text")]
    return []


def _too_long(limit: int, pointer: str) -> str:
    return f"must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _schema_drift(sent: Any, accepted: Any, pointer: str) -> list[str]:
    """What slack-sdk's models silently dropped or coerced, which Slack itself rejects.

    The models ignore unknown keys and turn a bare string into a text object; Slack answers
    `invalid additional property` and `must provide an object` instead.
    """
    if isinstance(sent, dict):
        if not isinstance(accepted, dict):
            return [f"failed to match all allowed schemas [json-pointer:{pointer}]"]
        errors: list[str] = []
        for key, value in sent.items():
            if key in accepted:
                errors.extend(_schema_drift(value, accepted[key], f"{pointer}/{key}"))
            elif value == "" and key == "text":
                errors.append(f"must be more than 0 characters [json-pointer:{pointer}/{key}]")
            elif value == []:
                errors.append(f"must provide at least 1 item [json-pointer:{pointer}/{key}]")
            elif value not in (None, ""):
                errors.append(f"invalid additional property: {key} [json-pointer:{pointer}]")
        return errors
    if isinstance(sent, list) and isinstance(accepted, list) and len(sent) == len(accepted):
        errors = []
        for index, (item, accepted_item) in enumerate(zip(sent, accepted, strict=True)):
            errors.extend(_schema_drift(item, accepted_item, f"{pointer}/{index}"))
        return errors
    if isinstance(accepted, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    return []
