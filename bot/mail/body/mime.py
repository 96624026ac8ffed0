"""The text parts of a received message in reading order, decoded whatever their charset
label says (byte-order marks, mislabelled 8-bit text, format=flowed, a missing multipart
boundary); every other leaf is an attachment, known by its name only."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Literal

from bot.mail.body.html_text import html_to_text

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Codecs Python has that are not text charsets a mail could honestly be written in.
_REFUSED_CODECS = frozenset(
    {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "mbcs", "oem"}
)
_Kind = Literal["plain", "html"]


@dataclass(slots=True)
class _Body:
    kind: _Kind
    text: str


@dataclass(slots=True)
class Found:
    attachments: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def _utf16_without_bom(data: bytes) -> str:
    # RFC 2781 says big-endian, but Windows writes little-endian: look where the zeros are.
    even_zeros = data[0::2].count(0)
    odd_zeros = data[1::2].count(0)
    return data.decode("utf-16-le" if odd_zeros > even_zeros else "utf-16-be", errors="replace")


def _codec(label: str) -> str | None:
    """Python's name for a MIME charset label, or None if it is not a usable text charset."""
    try:
        info = codecs.lookup(label.strip().strip("\"'"))
    except LookupError:
        return None
    # Python marks bytes-to-bytes codecs ("base64", "zlib", "rot13") as not text encodings.
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED_CODECS:
        return None
    return info.name


_UTF8_MULTIBYTE_RE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _guess(data: bytes) -> str:
    """Unlabelled or mislabelled 8-bit text is utf-8 or windows-1252 in practice.

    Utf-8 with a few broken bytes still shows utf-8 sequences: keep it, with replacement
    characters. Without any, it is a Western 8-bit charset: windows-1252, which browsers also
    use for "iso-8859-1" (curly quotes and € live in 0x80-0x9f), then latin-1, which always works.
    """
    text = _strict(data, "utf-8")
    if text is not None:
        return text
    if _UTF8_MULTIBYTE_RE.search(data):
        return data.decode("utf-8", errors="replace")
    return _strict(data, "cp1252") or data.decode("latin-1")


def _decode_text(data: bytes, label: str | None, found: Found) -> str:
    """Bytes to text, trusting a byte-order mark over the label and never raising."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    name = _codec(label) if label else None
    if label and name is None:
        found.problem(f"unknown charset {label!r}")
    if name == "utf-16":  # with a BOM it was handled above
        return _utf16_without_bom(data)
    if name in (None, "ascii", "iso8859-1"):
        return _guess(data)
    text = _strict(data, name)
    if text is not None:
        return text
    found.problem(f"undecodable charset {label!r}")
    if name == "utf-8":
        return _guess(data)
    # A multibyte charset (iso-2022-jp, gb2312…) with a damaged byte: keep the rest readable.
    return _strict(data, "utf-8") or data.decode(name, errors="replace")


def _unflow(text: str, *, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed soft line breaks (Thunderbird, Apple Mail)."""
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        stripped = line.lstrip(">")
        depth = len(line) - len(stripped)
        if stripped.startswith(" "):
            stripped = stripped[1:]  # space-stuffing
        if pending is not None and depth != pending_depth:
            out.append(">" * pending_depth + (" " if pending_depth else "") + pending)
            pending = None
        flowed = stripped.endswith(" ") and stripped != "-- "
        if flowed and delsp:
            stripped = stripped[:-1]
        pending = stripped if pending is None else pending + stripped
        pending_depth = depth
        if not flowed:
            out.append(">" * depth + (" " if depth else "") + pending)
            pending = None
    if pending is not None:
        out.append(">" * pending_depth + (" " if pending_depth else "") + pending)
    return "\n".join(out)


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # a mangled RFC 2231 parameter
        name = None
    return name.strip() if name and name.strip() else f"({part.get_content_type()})"


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:
        return ""
    return value.strip().lower() if isinstance(value, str) else ""


def _decoded_part(part: Message, found: Found) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        found.problem("undecodable transfer encoding")
        return ""
    if not isinstance(payload, bytes):
        return ""
    return _decode_text(payload, _param(part, "charset") or None, found)


def _is_body_candidate(part: Message) -> bool:
    if part.get_content_type() not in ("text/plain", "text/html"):
        return False
    try:
        return part.get_content_disposition() != "attachment" and not part.get_filename()
    except Exception:
        return False


_BOUNDARY_LINE_RE = re.compile(r"^--(\S{1,200}?)[ \t]*\r?\n(?=Content-)", re.MULTILINE | re.I)


def _reparse_with_guessed_boundary(content_type: str, raw: str) -> Message | None:
    """Read a multipart whose boundary parameter is missing, using the first delimiter line
    that is followed by part headers."""
    match = _BOUNDARY_LINE_RE.search(raw)
    if match is None:
        return None
    head = f'Content-Type: {content_type}; boundary="{match.group(1)}"\n\n'
    # surrogateescape: a message parsed from bytes keeps undecodable bytes as surrogates.
    reparsed = message_from_bytes(
        (head + raw).encode("utf-8", "surrogateescape"), policy=policy.default
    )
    return reparsed if reparsed.is_multipart() else None


def _has_text(body: _Body) -> bool:
    text = html_to_text(body.text) if body.kind == "html" else body.text
    return bool(text.strip())


def collect(part: Message, found: Found, depth: int = 0) -> list[_Body]:
    """Text bodies in reading order; every other leaf is recorded as an attachment."""
    if depth > 30:
        found.problem("MIME nesting too deep")
        return []
    content_type = part.get_content_type()
    if part.get_content_maintype() == "message":
        # An attached or forwarded message (its payload looks multipart to the parser): its
        # text is not what this person wrote now.
        found.attachments.append(_filename(part))
        return []
    if part.is_multipart():
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if content_type == "multipart/alternative":
            options = [collect(child, found, depth + 1) for child in children]
            # Alternatives come simplest first; prefer plain text the sender's client wrote,
            # unless it is empty (some clients send an empty plain part).
            for wanted in ("plain", "html"):
                for bodies in options:
                    if (
                        bodies
                        and all(b.kind == wanted for b in bodies)
                        and any(_has_text(b) for b in bodies)
                    ):
                        return bodies
            return next((bodies for bodies in options if bodies), [])
        return [body for child in children for body in collect(child, found, depth + 1)]
    if part.get_content_maintype() == "multipart":
        # No boundary parameter (or one that never occurs): the parser left the raw text.
        found.problem("malformed MIME: multipart without a usable boundary")
        raw = part.get_payload()
        raw = raw if isinstance(raw, str) else ""
        reparsed = _reparse_with_guessed_boundary(content_type, raw)
        if reparsed is not None:
            return collect(reparsed, found, depth + 1)
        return [_Body("plain", raw)]
    if _is_body_candidate(part):
        text = _decoded_part(part, found)
        if content_type == "text/html":
            return [_Body("html", text)]
        if _param(part, "format") == "flowed":
            text = _unflow(text, delsp=_param(part, "delsp") == "yes")
        return [_Body("plain", text)]
    found.attachments.append(_filename(part))
    return []


def defects(msg: Message, found: Found) -> None:
    for part in msg.walk():
        for defect in getattr(part, "defects", []):
            found.problem(f"malformed MIME: {type(defect).__name__}")
