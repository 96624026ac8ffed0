"""Mail hygiene: is this a person, or a robot we must never answer?

Answering an auto-reply or a bounce starts mail loops and tells spam filters we are a robot,
so anything that is not clearly a person is classified as something else. The checks run from
the most reliable signal (a structured RFC 3464 report) to the weakest (a subject prefix).

Deliberately *not* a signal: ``X-Auto-Response-Suppress``. Outlook and Exchange put it on
ordinary messages written by people, so it says nothing about who wrote this one.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_string, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from typing import Literal

from bot.mail.body.reply import extract_reply

__all__ = [
    "BounceVerdict",
    "Classification",
    "Kind",
    "RecipientStatus",
    "classify",
    "is_auto_submitted",
    "verdict_for_status",
]

Kind = Literal["human", "auto_reply", "mailing_list", "bounce"]
BounceVerdict = Literal["hard", "soft", "spam_block", "unknown"]


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """One recipient of a bounce report (RFC 3464 per-recipient fields)."""

    recipient: str
    action: str  # failed | delayed | delivered | relayed | expanded | "" (plain-text bounce)
    status: str  # enhanced status code, e.g. "5.1.1"; "" when none could be found
    diagnostic: str
    verdict: BounceVerdict


@dataclass(frozen=True, slots=True)
class Classification:
    """What a message is, and the signal that decided it (for the log)."""

    kind: Kind
    reason: str
    verdict: BounceVerdict | None = None  # bounces only
    recipients: tuple[RecipientStatus, ...] = ()  # bounces only

    @property
    def is_human(self) -> bool:
        """The only kind the bot may answer."""
        return self.kind == "human"

    @property
    def failed_recipients(self) -> tuple[str, ...]:
        return tuple(r.recipient for r in self.recipients if r.action in ("failed", ""))


# --------------------------------------------------------------------------- helpers


def _header(msg: Message, name: str) -> str:
    """A header as text, "" when absent or unparseable (hostile input must not raise)."""
    try:
        value = msg.get(name)
    except Exception:
        return ""
    return "" if value is None else str(value).strip()


def _local_part(address: str) -> str:
    _, addr = parseaddr(address)
    return addr.rpartition("@")[0].lower() if "@" in addr else addr.lower()


def _parts(msg: Message) -> Iterator[Message]:
    """Every part, without descending into attached messages (a forwarded bounce is not ours)."""
    yield msg
    if msg.get_content_maintype() == "message":
        return
    payload = msg.get_payload()
    if msg.is_multipart() and isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                yield from _parts(child)


def is_auto_submitted(msg: Message) -> bool:
    """RFC 3834: any Auto-Submitted value other than "no" marks a machine-sent message."""
    value = _header(msg, "Auto-Submitted")
    if not value:
        return False
    keyword = re.split(r"[;(\s]", value, maxsplit=1)[0].lower()
    return keyword != "no"


# --------------------------------------------------------------------------- bounce verdicts

_STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE_RE = re.compile(r"\b([45])\d\d\b")

_HARD_TEXT = re.compile(
    r"user\s+unknown|unknown\s+(?:user|recipient|address)|no\s+such\s+(?:user|recipient|mailbox)"
    r"|recipient\s*not\s*found|recipientnotfound|(?:mailbox|address|user)\s+(?:does\s+not|doesn't)"
    r"\s+exist|does\s+not\s+exist|invalid\s+(?:recipient|mailbox|address)|mailbox\s+not\s+found"
    r"|account\s+(?:is\s+)?disabled|unrouteable\s+address|domain\s+not\s+found|host\s+not\s+found"
    r"|utilisateur\s+inconnu|destinataire\s+inconnu|n'existe\s+pas|adresse\s+introuvable"
    r"|usuario\s+desconocido|destinatario\s+desconocido|no\s+existe",
    re.IGNORECASE,
)
_SPAM_TEXT = re.compile(
    r"spam|black\s*list|block\s*list|deny\s*list|\bblocked\b|\bpolicy\b|reputation|spamhaus"
    r"|not\s+authori[sz]ed|\bdmarc\b|\bspf\b|\bdkim\b|rejected\s+for\s+content",
    re.IGNORECASE,
)
_SOFT_TEXT = re.compile(
    r"mailbox\s+(?:is\s+)?full|over\s*quota|quota\s+exceeded|insufficient\s+(?:storage|space)"
    r"|bo[îi]te\s+(?:aux\s+lettres\s+)?pleine|buz[óo]n\s+lleno|temporar|try\s+again\s+later"
    r"|timed?\s*out|deferred|delayed",
    re.IGNORECASE,
)
# RFC 3463 subject.detail codes that mean "this address is wrong" when the class is 5.
_HARD_CODES = frozenset(
    {"1.0", "1.1", "1.2", "1.3", "1.4", "1.6", "1.10", "2.1", "4.1", "4.4", "4.310"}
)
# 5.1.7 and 5.1.8 are about *our* sender address: a rejection of us, not of theirs.
_SENDER_REJECTED_CODES = frozenset({"1.7", "1.8"})


def _verdict_from_text(text: str) -> BounceVerdict | None:
    if _HARD_TEXT.search(text):
        return "hard"
    if _SPAM_TEXT.search(text):
        return "spam_block"
    if _SOFT_TEXT.search(text):
        return "soft"
    return None


def verdict_for_status(status: str, diagnostic: str = "") -> BounceVerdict:
    """Judge one failure from its RFC 3463 code, falling back to the server's words.

    "hard": the address is wrong, stop using it. "soft": try again later. "spam_block": the
    receiving server refused *us* (policy, reputation); the address may be fine. "unknown":
    nothing conclusive; do not mark the address bad.
    """
    match = _STATUS_RE.search(status) or _STATUS_RE.search(diagnostic)
    if match:
        klass, subject, detail = match.groups()
        code = f"{subject}.{detail}"
        if klass == "4":
            return "soft"
        if klass == "5":
            if subject == "7" or code in _SENDER_REJECTED_CODES:
                return "spam_block"
            if code in _HARD_CODES or (subject == "1" and code != "1.5"):
                return "hard"
            if subject in ("2", "3", "4", "6"):
                return "soft"
            # 5.0.0 and 5.5.x say "something failed": the words decide.
    from_text = _verdict_from_text(diagnostic)
    if from_text is not None:
        return from_text
    smtp = _SMTP_CODE_RE.search(diagnostic)
    if (match and match.group(1) == "4") or (smtp and smtp.group(1) == "4"):
        return "soft"
    return "unknown"


def _overall(recipients: tuple[RecipientStatus, ...]) -> BounceVerdict:
    failed = [r for r in recipients if r.action in ("failed", "")] or list(recipients)
    verdicts = {r.verdict for r in failed}
    for verdict in ("hard", "spam_block", "soft"):
        if verdict in verdicts:
            return verdict
    return "unknown"


# --------------------------------------------------------------------------- RFC 3464 reports


def _status_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status part.

    The parser splits them itself, except when the part is base64-encoded (rare, but seen):
    it then leaves header-less blocks holding the encoded text, which we decode and split.
    """
    payload = part.get_payload()
    blocks = [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
    if _header(part, "Content-Transfer-Encoding").lower() != "base64":
        return blocks
    encoded = "".join(str(b.get_payload()) for b in blocks) if blocks else str(payload)
    try:
        text = base64.b64decode("".join(encoded.split()) + "==").decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return []
    chunks = re.split(r"\r?\n[ \t]*\r?\n", text.strip())
    return [message_from_string(chunk + "\n", policy=policy.default) for chunk in chunks if chunk]


def _address_field(value: str) -> str:
    """ "rfc822; jane@example.org" → "jane@example.org"."""
    _, _, address = value.partition(";")
    return (address or value).strip().strip("<>").strip()


def _dsn_recipients(part: Message) -> tuple[RecipientStatus, ...]:
    recipients: list[RecipientStatus] = []
    for block in _status_blocks(part)[1:]:  # the first block is per-message
        final = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
        if not final:
            continue
        action = _header(block, "Action").lower()
        status = _header(block, "Status")
        diagnostic = re.sub(r"\s+", " ", _header(block, "Diagnostic-Code"))
        verdict = "soft" if action == "delayed" else verdict_for_status(status, diagnostic)
        recipients.append(
            RecipientStatus(_address_field(final), action, status, diagnostic, verdict)
        )
    return tuple(recipients)


# --------------------------------------------------------------------------- plain-text bounces

# Exchange / Office 365 non-delivery reports, in the languages of our delegates.
_NDR_SUBJECT_RE = re.compile(r"\s*(?:undeliverable|non\s+remis|no\s+se\s+puede\s+entregar)\b", re.I)
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "mailer_daemon", "mail-daemon", "postmaster"})
_BOUNCE_SUBJECT_RE = re.compile(
    r"""^\s*(?:
        undeliverable | undelivered\s+mail | undeliverable\s+mail | mail\s+delivery\s+fail
      | delivery\s+status\s+notification\s+\(?(?:failure|delay) | delivery\s+(?:has\s+)?fail
      | delivery\s+failure | returned\s+mail | failure\s+notice | mail\s+system\s+error
      | message\s+not\s+delivered | non\s+remis | non\s+distribuable
      | [ée]chec\s+de\s+(?:la\s+)?remise
      | message\s+non\s+remis | no\s+se\s+puede\s+entregar | no\s+entregad[oa]
      | mensaje\s+no\s+entregado | error\s+de\s+entrega | unzustellbar
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Where the returned copy of the original message starts in plain-text bounces (Exim, qmail,
# Sendmail, Exchange); our own reminder text below it must not be read as the diagnosis.
_RETURNED_COPY_RE = re.compile(
    r"""^(?:-+\s*(?:This\s+is\s+a\s+copy|Below\s+this\s+line|Original\s+message
                  |The\s+original\s+message|Returned\s+message|Message\s+d'origine)
          | Original\s+message\s+headers | Received:\s | Return-Path:\s | Message-ID:\s )""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
_DELAYED_TEXT = re.compile(r"\bdelayed\b|will\s+(?:keep\s+)?(?:re)?try", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_MAX_PLAIN_RECIPIENTS = 10


def _plain_bounce(msg: Message) -> tuple[RecipientStatus, ...]:
    """Best effort for bounces without a delivery-status part."""
    text = extract_reply(msg).full_text
    match = _RETURNED_COPY_RE.search(text)
    diagnosis = text[: match.start()] if match else text
    code = _STATUS_RE.search(diagnosis)
    diag_line = ""
    if code:
        start = diagnosis.rfind("\n", 0, code.start()) + 1
        end = diagnosis.find("\n", code.end())
        diag_line = diagnosis[start : end if end >= 0 else None].strip()
    status = code.group(0) if code else ""
    verdict = verdict_for_status(status, diag_line or diagnosis)
    if verdict == "unknown" and diag_line:
        verdict = verdict_for_status("", diagnosis)
    delayed = verdict == "soft" and _DELAYED_TEXT.search(diagnosis) is not None
    action = "delayed" if delayed else ""  # "" = failed, as far as the words tell

    ignored = {
        addr.lower() for _, addr in getaddresses([_header(msg, "From"), _header(msg, "To")]) if addr
    }
    failed: list[str] = []
    for value in _header(msg, "X-Failed-Recipients").split(","):
        if value.strip():
            failed.append(value.strip())
    if not failed:
        for found in _EMAIL_RE.findall(diagnosis):
            address = found.strip(".")
            if (
                address.lower() not in ignored
                and address.partition("@")[0].lower() not in _BOUNCE_SENDERS
                and address.lower() not in (a.lower() for a in failed)
            ):
                failed.append(address)
    return tuple(
        RecipientStatus(address, action, status, diag_line, verdict)
        for address in failed[:_MAX_PLAIN_RECIPIENTS]
    )


def _looks_like_plain_bounce(msg: Message, mail_from: str | None) -> str | None:
    senders = [_header(msg, "From"), _header(msg, "Sender")]
    if mail_from:
        senders.append(mail_from)
    if any(_local_part(s) in _BOUNCE_SENDERS for s in senders if s):
        return "sent by a mail server (mailer-daemon/postmaster)"
    if "X-Failed-Recipients" in msg:
        return "X-Failed-Recipients header"
    if _BOUNCE_SUBJECT_RE.search(_header(msg, "Subject")):
        return "delivery failure subject"
    return None


# --------------------------------------------------------------------------- auto-replies

_AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply")
_AUTO_REPLY_SUBJECT_RE = re.compile(
    r"""^\s*(?:\[[^\]]*\]\s*)?(?:
        automatic\s+reply | auto[\s-]?reply | auto[\s-]?response | out\s+of\s+(?:the\s+)?office
      | r[ée]ponse\s+automatique | r[ée]ponse\s+auto\b | absen(?:ce|t)\s+du\s+bureau
      | message\s+d'absence | respuesta\s+autom[áa]tica | fuera\s+de\s+(?:la\s+)?oficina
      | mensaje\s+de\s+ausencia | ausente\s+de\s+la\s+oficina
      | automatische\s+antwort | abwesenheitsnotiz
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
_NO_REPLY_RE = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply)(?:[-_.+].*)?$")


def _null_sender(msg: Message, mail_from: str | None) -> bool:
    if mail_from is not None:
        return mail_from.strip().strip("<>").strip() == ""
    return _header(msg, "Return-Path").replace(" ", "") == "<>"


def _report_type(msg: Message) -> str:
    try:
        value = msg.get_param("report-type")
    except Exception:
        return ""
    return value.lower() if isinstance(value, str) else ""


# --------------------------------------------------------------------------- entry point


def classify(msg: EmailMessage | Message, *, mail_from: str | None = None) -> Classification:
    """Decide who wrote ``msg``. ``mail_from`` is the LMTP envelope sender when known
    ("" for the null sender ``<>``); otherwise the Return-Path header is used."""
    parts = list(_parts(msg))

    status_part = next(
        (p for p in parts if p.get_content_type() == "message/delivery-status"), None
    )
    if status_part is not None:
        recipients = _dsn_recipients(status_part)
        actions = {r.action for r in recipients}
        if recipients and not actions & {"failed", "delayed"}:
            return Classification(
                "auto_reply", f"delivery notification ({', '.join(sorted(actions))})"
            )
        exchange = "X-MS-Exchange-Message-Is-Ndr" in msg or bool(
            _NDR_SUBJECT_RE.match(_header(msg, "Subject"))
        )
        source = "Exchange NDR" if exchange else "RFC 3464 delivery report"
        return Classification("bounce", source, _overall(recipients), recipients)

    if msg.get_content_type() == "multipart/report":
        kind = _report_type(msg) or "unknown"
        return Classification("auto_reply", f"multipart/report ({kind})")  # read receipts, ARF

    bounce_reason = _looks_like_plain_bounce(msg, mail_from)
    if bounce_reason is not None:
        recipients = _plain_bounce(msg)
        return Classification("bounce", bounce_reason, _overall(recipients), recipients)

    if is_auto_submitted(msg):
        return Classification("auto_reply", f"Auto-Submitted: {_header(msg, 'Auto-Submitted')}")
    for name in _AUTO_REPLY_HEADERS:
        if name in msg:
            return Classification("auto_reply", f"{name} header")

    precedence = _header(msg, "Precedence").lower()
    if "List-Id" in msg:
        return Classification("mailing_list", "List-Id header")
    if precedence == "list":
        return Classification("mailing_list", "Precedence: list")
    if precedence in ("bulk", "junk", "auto_reply"):
        return Classification("auto_reply", f"Precedence: {precedence}")

    if _AUTO_REPLY_SUBJECT_RE.search(_header(msg, "Subject")):
        return Classification("auto_reply", "auto-reply subject")
    if _null_sender(msg, mail_from):
        # RFC 3834 asks responders to send from the null sender; no person's client does.
        return Classification("auto_reply", "null envelope sender")
    if _NO_REPLY_RE.match(_local_part(_header(msg, "From"))):
        return Classification("auto_reply", "no-reply sender")
    return Classification("human", "no robot signal")
