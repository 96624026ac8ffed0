"""Email transports: an outbox folder of ``.eml`` files, or an SMTP server.

Both implement ``schedules.delivery.Transport`` for reminders, rendering the reply the
dispatcher composed (``ReminderEmails``), and ``MessageSender`` for mail already rendered
(answers, ISU notices, digests): every email the bot sends goes out through ``send_message``.
The external id they return is the message's Message-ID, which ``render_email`` derives from
the message's key and day: the same message rendered twice has the same Message-ID, so a resend
after a crash is recognised as a duplicate (by the outbox here, by receiving servers and
clients for SMTP), and ``find_sent`` knows it without rendering anything.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib

from bot.mail.compose import keyed_message_id, render_email
from bot.settings import Settings, SmtpTarget
from handlers.replies import Reply
from schedules.delivery import DeliveryError, Outgoing

__all__ = ["MessageSender", "OutboxTransport", "ReminderEmails", "SmtpTransport"]

log = logging.getLogger(__name__)


class MessageSender(Protocol):
    """Sends a complete email (an answer, a notice to the ISU, a digest); its Message-ID."""

    async def send_message(self, msg: EmailMessage) -> str: ...


@dataclass(frozen=True)
class ReminderEmails:
    """How a reminder becomes an email: the sender and the key its Message-ID is signed with."""

    sender: str
    key: bytes
    reply_domain: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderEmails:
        return cls(settings.mail_from, settings.signing_key, settings.reply_domain)

    def message_id(self, outgoing: Outgoing) -> str:
        return keyed_message_id(
            outgoing.message_id,
            key=self.key,
            reply_domain=self.reply_domain,
            issued=outgoing.local_day,
        )

    def render(self, outgoing: Outgoing, reply: Reply, to: str) -> EmailMessage:
        return render_email(
            reply,
            to=to,
            sender=self.sender,
            message_key=outgoing.message_id,
            key=self.key,
            reply_domain=self.reply_domain,
            issued=outgoing.local_day,
        )


# CRLF line endings: the form of a message on the wire and of .eml files mail clients open.
_WIRE = policy.SMTP
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._@-]")


def _recipient(outgoing: Outgoing) -> str:
    """The address to send to; a message without a usable one can never be delivered."""
    address = (outgoing.email or "").strip()
    _name, parsed = parseaddr(address)
    if not address or parsed != address or "@" not in address or any(c.isspace() for c in address):
        raise DeliveryError(
            f"contact {outgoing.contact_id} has no usable email address", permanent=True
        )
    return address


def _message_id(msg: EmailMessage) -> str:
    message_id = msg.get("Message-ID")
    if not message_id:
        raise ValueError("a sent email needs a Message-ID (render_email sets one)")
    return str(message_id).strip()


class OutboxTransport:
    """Writes each message as ``<outbox>/<message-id>.eml``, for development and for a relay
    that picks files up. The file's existence is the record that the message went out."""

    def __init__(self, outbox_dir: Path, emails: ReminderEmails) -> None:
        self.outbox_dir = Path(outbox_dir)
        self.emails = emails

    def path_for(self, message_id: str) -> Path:
        """``<token@domain>`` → ``<outbox>/token@domain.eml``."""
        name = _UNSAFE_FILENAME.sub("_", message_id.strip().strip("<>"))
        return self.outbox_dir / f"{name}.eml"

    async def send(self, outgoing: Outgoing, reply: Reply) -> str:
        return await self.send_message(self.emails.render(outgoing, reply, _recipient(outgoing)))

    async def send_message(self, msg: EmailMessage) -> str:
        """Write a complete message (an answer to a reply, a notice to the ISU)."""
        message_id = _message_id(msg)
        await asyncio.to_thread(self._write, self.path_for(message_id), msg.as_bytes(policy=_WIRE))
        return message_id

    async def find_sent(self, outgoing: Outgoing) -> str | None:
        if not outgoing.email:
            return None
        message_id = self.emails.message_id(outgoing)
        exists = await asyncio.to_thread(self.path_for(message_id).is_file)
        return message_id if exists else None

    def _write(self, path: Path, data: bytes) -> None:
        """Whole file or nothing: a crash mid-write must not leave a file find_sent trusts."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


class SmtpTransport:
    """Sends through one SMTP connection, opened on first use and kept for later sends.

    Sends are serialised on the connection. A connection the server closed while idle is
    noticed with a NOOP before reuse and replaced, never by resending: once DATA has gone out
    a retry could deliver twice, so a failure mid-send is reported as transient and the
    dispatcher's retry (same Message-ID) is what sends again.
    """

    def __init__(
        self,
        target: SmtpTarget,
        emails: ReminderEmails,
        *,
        timeout: float = 30,
        envelope_from: str | None = None,
    ) -> None:
        self.target = target
        self.emails = emails
        self.timeout = timeout
        # The bounce address; the From address unless given.
        self.envelope_from = envelope_from
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def find_sent(self, outgoing: Outgoing) -> str | None:
        """Always None: SMTP cannot tell. A resend keeps its Message-ID, so receiving
        servers and clients can drop the duplicate."""
        return None

    async def send(self, outgoing: Outgoing, reply: Reply) -> str:
        recipient = _recipient(outgoing)
        return await self._deliver(self.emails.render(outgoing, reply, recipient), recipient)

    async def send_message(self, msg: EmailMessage) -> str:
        """Send a complete message to its one ``To`` address (an answer, a notice to the ISU)."""
        addresses = [address for _name, address in getaddresses(msg.get_all("To", []))]
        if len(addresses) != 1 or "@" not in addresses[0]:
            raise DeliveryError(f"expected one To address, got {addresses!r}", permanent=True)
        return await self._deliver(msg, addresses[0])

    async def _deliver(self, msg: EmailMessage, recipient: str) -> str:
        message_id = _message_id(msg)
        sender = self.envelope_from or parseaddr(str(msg.get("From", "")))[1]
        async with self._lock:
            try:
                client = await self._connected()
                await client.send_message(msg, sender=sender, recipients=[recipient])
            except aiosmtplib.SMTPRecipientsRefused as exc:
                raise _refused(recipient, exc) from exc
            except aiosmtplib.SMTPDataError as exc:
                # 5xx after DATA: this message is refused as it is (spam, size, policy).
                raise DeliveryError(
                    f"message refused by the mail server: {exc.code} {exc.message}",
                    permanent=exc.code >= 500,
                ) from exc
            except aiosmtplib.SMTPSenderRefused as exc:
                # Our own From refused: a configuration problem, not the recipient's.
                raise DeliveryError(
                    f"sender {exc.sender} refused by the mail server: {exc.code} {exc.message}"
                ) from exc
            except aiosmtplib.SMTPResponseException as exc:
                self._drop()
                raise DeliveryError(f"mail server error: {exc.code} {exc.message}") from exc
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                self._drop()
                raise DeliveryError(
                    f"mail server {self.target.host}:{self.target.port} unavailable: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        log.debug("sent %s to %s", message_id, recipient)
        return message_id

    async def close(self) -> None:
        """Say goodbye to the server (QUIT) and close the connection."""
        async with self._lock:
            client, self._client = self._client, None
            if client is None or not client.is_connected:
                return
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()

    async def _connected(self) -> aiosmtplib.SMTP:
        client = self._client
        if client is not None and client.is_connected:
            try:
                await client.noop()
                return client
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                log.info("SMTP connection to %s lost; reconnecting", self.target.host)
        self._drop()
        client = aiosmtplib.SMTP(
            hostname=self.target.host,
            port=self.target.port,
            username=self.target.username or None,
            password=self.target.password if self.target.username else None,
            use_tls=self.target.use_tls,
            # Explicit, never opportunistic: the operator's URL says whether to upgrade.
            # Implicit TLS (smtps://) already encrypts; aiosmtplib refuses both at once.
            start_tls=self.target.start_tls and not self.target.use_tls,
            timeout=self.timeout,
        )
        try:
            await client.connect()
        except BaseException:
            client.close()
            raise
        self._client = client
        return client

    def _drop(self) -> None:
        """Forget a connection in an unknown state; the next send opens a fresh one."""
        client, self._client = self._client, None
        if client is not None:
            client.close()


def _refused(recipient: str, exc: aiosmtplib.SMTPRecipientsRefused) -> DeliveryError:
    refusal = exc.recipients[0] if exc.recipients else None
    if refusal is None:
        return DeliveryError(f"recipient {recipient} refused")
    return DeliveryError(
        f"recipient {recipient} refused: {refusal.code} {refusal.message}",
        permanent=refusal.code >= 500,
    )
