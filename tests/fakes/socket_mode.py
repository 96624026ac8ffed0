"""The Socket Mode half of the fake Slack: the WebSocket that `apps.connections.open` points at.

slack-sdk's aiohttp `SocketModeClient` asks `apps.connections.open` for a URL, connects, waits for
Slack's `hello`, then receives envelopes and answers each with `{"envelope_id": ...}` (plus a
`payload` when the listener acked with content). Slack retries an envelope that is not acknowledged
within 3 seconds, which is why `ack()` must come first in every listener; `FakeSlack.socket_ack`
lets a test await that acknowledgement instead of sleeping.

The envelope builders below produce the shapes Slack sends over Socket Mode, so tests need not
repeat them.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.waiting import WAIT

LINK_PATH = "/link/"

# Close timeout for the server side of a WebSocket: long enough for a live client to answer the
# close frame, short enough that a vanished client cannot stall the fake's shutdown.
_WS_CLOSE_TIMEOUT = 2.0


class SocketModeServer:
    """Serves Socket Mode WebSockets on the fake's aiohttp application and tracks envelopes."""

    def __init__(self, *, app_id: str) -> None:
        self.app_id = app_id
        self.sent: list[dict[str, Any]] = []
        """Every envelope pushed to the client, in order."""
        self.received: list[dict[str, Any]] = []
        """Every JSON frame the client sent back (acknowledgements), in order."""
        self._tickets: set[str] = set()
        self._connections: list[web.WebSocketResponse] = []
        self._connected = asyncio.Event()
        self._acks: dict[str, dict[str, Any]] = {}
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def routes(self) -> list[web.RouteDef]:
        return [web.get(LINK_PATH, self._handle_websocket)]

    def issue_url(self, ws_base_url: str) -> str:
        """A fresh connection URL, like `wss://wss-primary.slack.com/link/?ticket=...`."""
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return f"{ws_base_url.rstrip('/')}{LINK_PATH}?ticket={ticket}&app_id={self.app_id}"

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def wait_connected(self, timeout: float = WAIT) -> None:  # noqa: ASYNC109
        """Wait until a client has connected and been greeted with `hello`."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no Socket Mode client connected within {timeout}s") from None

    async def send(self, envelope: dict[str, Any], *, timeout: float = WAIT) -> str:  # noqa: ASYNC109
        """Push an envelope to the newest connection; returns its envelope_id."""
        await self.wait_connected(timeout)
        envelope = dict(envelope)
        envelope.setdefault("envelope_id", str(uuid.uuid4()))
        self.sent.append(envelope)
        await self._connections[-1].send_str(json.dumps(envelope))
        return str(envelope["envelope_id"])

    async def ack(self, envelope_id: str, *, timeout: float = WAIT) -> dict[str, Any]:  # noqa: ASYNC109
        """The client's acknowledgement of `envelope_id`, awaited up to `timeout` seconds."""
        if envelope_id in self._acks:
            return self._acks[envelope_id]
        waiter = self._ack_waiters.get(envelope_id)
        if waiter is None:
            waiter = asyncio.get_running_loop().create_future()
            self._ack_waiters[envelope_id] = waiter
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"envelope {envelope_id} was not acknowledged within {timeout}s"
            ) from None

    async def close(self) -> None:
        for ws in list(self._connections):
            await ws.close()
        for waiter in self._ack_waiters.values():
            waiter.cancel()

    async def _handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") not in self._tickets:
            raise web.HTTPUnauthorized(text="invalid ticket")
        ws = web.WebSocketResponse(timeout=_WS_CLOSE_TIMEOUT)
        await ws.prepare(request)
        self._connections.append(ws)
        try:
            await ws.send_str(json.dumps(self._hello()))
            self._connected.set()
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_client_frame(json.loads(msg.data))
        finally:
            self._connections.remove(ws)
            if not self._connections:
                self._connected.clear()
        return ws

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self._connections),
            "debug_info": {
                "host": "applink-fake",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _on_client_frame(self, frame: dict[str, Any]) -> None:
        self.received.append(frame)
        envelope_id = frame.get("envelope_id")
        if not isinstance(envelope_id, str):
            return
        self._acks[envelope_id] = frame
        waiter = self._ack_waiters.pop(envelope_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(frame)


# --- envelope builders -----------------------------------------------------------------------


def slash_command_envelope(
    command: str,
    text: str = "",
    *,
    user_id: str,
    user_name: str = "delegate",
    channel_id: str = "C0CCMTEST",
    channel_name: str = "general",
    team_id: str = "T0CCMTEST",
    api_app_id: str = "A0CCMAPP",
    trigger_id: str | None = None,
    envelope_id: str | None = None,
) -> dict[str, Any]:
    """A `slash_commands` envelope; its payload is the form Slack would POST over HTTP."""
    return {
        "envelope_id": envelope_id or str(uuid.uuid4()),
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "token": "verification-token-unused-in-socket-mode",
            "team_id": team_id,
            "team_domain": "ccm-test",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": f"https://hooks.slack.com/commands/{team_id}/1/fake",
            "trigger_id": trigger_id or f"{int(time.time())}.1.{uuid.uuid4().hex}",
        },
    }


def event_envelope(
    event: dict[str, Any],
    *,
    team_id: str = "T0CCMTEST",
    api_app_id: str = "A0CCMAPP",
    retry_attempt: int = 0,
    envelope_id: str | None = None,
) -> dict[str, Any]:
    """An `events_api` envelope wrapping `event` in an `event_callback`."""
    now = int(time.time())
    return {
        "envelope_id": envelope_id or str(uuid.uuid4()),
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": retry_attempt,
        "retry_reason": "timeout" if retry_attempt else "",
        "payload": {
            "token": "verification-token-unused-in-socket-mode",
            "team_id": team_id,
            "api_app_id": api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": "U0CCMBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        },
    }


def interactive_envelope(
    payload: dict[str, Any], *, envelope_id: str | None = None
) -> dict[str, Any]:
    """An `interactive` envelope (block_actions, view_submission, shortcut, ...)."""
    # Slack only lets the ack carry a response for payload types that can use one.
    accepts_response = payload.get("type") in {"view_submission", "block_suggestion"}
    return {
        "envelope_id": envelope_id or str(uuid.uuid4()),
        "type": "interactive",
        "accepts_response_payload": accepts_response,
        "payload": payload,
    }
