"""The LMTP server the mail system delivers replies to (Postfix ``lmtp:`` transport).

LMTP differs from SMTP where it matters to us: after DATA the server answers once *per
recipient* (RFC 2033 §4.2), and a 250 means the message is in our hands, not merely queued.
So a message is handed to ``accept`` (which stores and commits it) before the 250 goes out;
if storing fails the answer is a 451 and the mail system keeps the message and retries.

The server runs in the application's own event loop (not aiosmtpd's Controller thread), so
``accept`` can use the application's async database engine directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import Envelope, Session

__all__ = ["DEFAULT_DATA_SIZE_LIMIT", "LmtpServer", "ReceivedMail"]

log = logging.getLogger(__name__)

DEFAULT_DATA_SIZE_LIMIT = 10 * 1024 * 1024

ACCEPTED = "250 2.0.0 Message accepted"
NOT_STORED = "451 4.3.0 Message could not be stored, try again later"
# aiosmtpd's own words for a message over ``data_size_limit``; replaced by a clearer status.
_AIOSMTPD_TOO_BIG = "552 Error: Too much mail data"


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    """One message as delivered: envelope sender ("" for the null sender), recipients, bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes


Accept = Callable[[ReceivedMail], Awaitable[None]]
"""Stores a message durably (committed) or raises; called before the message is acknowledged."""


class _PerRecipientLMTP(LMTP):
    """aiosmtpd's LMTP protocol, answering DATA once per recipient, refusals included.

    aiosmtpd sends a single reply after DATA, also when it refuses an oversized message
    itself; an LMTP client waiting for one reply per recipient would then hang. Every reply
    sent after the 354 of a DATA command is therefore repeated for each recipient.
    """

    def __init__(
        self,
        handler: Any,
        *,
        size_limit: int,
        connections: set[_PerRecipientLMTP],
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, data_size_limit=size_limit, **kwargs)
        self._connections = connections
        self._too_big = f"552 5.3.4 Message too big: the limit is {_size(size_limit)}"
        self._recipients_in_data = 0
        self._after_354 = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._connections.add(self)

    def connection_lost(self, error: Exception | None) -> None:
        self._connections.discard(self)
        super().connection_lost(error)

    async def smtp_DATA(self, arg: str) -> None:
        self._recipients_in_data = len(self.envelope.rcpt_tos) if self.envelope else 0
        self._after_354 = False
        try:
            await super().smtp_DATA(arg)
        finally:
            self._recipients_in_data = 0
            self._after_354 = False

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and self._recipients_in_data:
            if status.startswith("354"):
                self._after_354 = True
            elif self._after_354:
                if status == _AIOSMTPD_TOO_BIG:
                    status = self._too_big
                status = "\r\n".join([status] * self._recipients_in_data)
        await super().push(status)


def _size(limit: int) -> str:
    return f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit} bytes"


class _Handler:
    """aiosmtpd hooks: hand each message to ``accept``, say 250 only once it is stored."""

    def __init__(self, accept: Accept) -> None:
        self._accept = accept
        self._storing: set[asyncio.Task[None]] = set()

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        # Every address is taken: the mail system routes only our addresses here, and a
        # reply's key may be in its headers rather than in the address (catch-all mailbox).
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content
        if not isinstance(content, bytes):  # pragma: no cover - aiosmtpd always sets bytes
            return NOT_STORED
        mail = ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), content)
        # Shielded: a client that hangs up mid-store must not cancel a half-done commit. The
        # mail system retries what it got no 250 for; the duplicate is recognised later.
        task = asyncio.ensure_future(self._accept(mail))
        self._storing.add(task)
        task.add_done_callback(self._stored)
        try:
            await asyncio.shield(task)
        except Exception:
            return NOT_STORED  # logged by _stored
        return ACCEPTED

    def _stored(self, task: asyncio.Task[None]) -> None:
        self._storing.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is not None:
            log.error("could not store a received message; answered 451", exc_info=error)


class LmtpServer:
    """An LMTP listener on ``host:port`` (port 0: any free port, see ``bound_port``)."""

    def __init__(
        self,
        accept: Accept,
        *,
        host: str,
        port: int,
        hostname: str,
        data_size_limit: int = DEFAULT_DATA_SIZE_LIMIT,
        timeout: float = 300,
    ) -> None:
        self.host = host
        self.port = port
        self.hostname = hostname
        self.data_size_limit = data_size_limit
        self.timeout = timeout
        self._handler = _Handler(accept)
        self._server: asyncio.Server | None = None
        self._connections: set[_PerRecipientLMTP] = set()

    @property
    def bound_port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the LMTP server is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        log.info("LMTP server listening on %s:%s", self.host, self.bound_port)

    def _protocol(self) -> _PerRecipientLMTP:
        protocol = _PerRecipientLMTP(
            self._handler,
            size_limit=self.data_size_limit,
            # Addresses may be internationalised; the content is kept as bytes regardless.
            enable_SMTPUTF8=True,
            hostname=self.hostname,  # not socket.getfqdn(): no DNS lookup per connection
            timeout=self.timeout,
            connections=self._connections,
            loop=asyncio.get_running_loop(),
        )
        return protocol

    async def stop(self) -> None:
        """Stop listening, close open sessions, and let messages being stored finish."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for protocol in list(self._connections):
            if protocol.transport is not None:
                protocol.transport.close()
        await server.wait_closed()
        if self._handler._storing:
            await asyncio.wait(self._handler._storing, timeout=30)
