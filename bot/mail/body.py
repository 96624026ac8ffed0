"""What the person wrote: the new text of a reply, without the quoted reminder.

The quoted reminder contains our own keywords (NEED, SUBMITTED, BESOIN…), so a quote that
leaks into ``ReplyText.text`` would be read as the delegate's answer. Quotes are therefore
removed in layers, each catching what the previous one misses:

1. HTML-only mail: the quote containers clients mark up (Gmail ``gmail_quote``, Apple and
   Thunderbird ``<blockquote type="cite">``, Outlook ``appendonsend``/``divRplyFwdMsg``) are
   dropped before converting to text; any other blockquote becomes ``> `` lines.
2. ``mail-parser-reply`` splits the text at attribution lines and header blocks and removes
   signatures and disclaimers it knows.
3. Narrow post-steps for common patterns it misses (each says why), then every ``>`` line.

Nothing here raises on bad input: a problem is recorded and what can be read is returned.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from html.parser import HTMLParser
from typing import Literal

from mailparser_reply.parser import EmailMessage as _ParsedReply

__all__ = ["ReplyText", "extract_reply", "html_to_text", "new_text", "parse_message"]

REPLY_LANGUAGES = ("en", "fr", "es")


@dataclass(frozen=True, slots=True)
class ReplyText:
    """The decoded reply. ``attachments`` are names for the log only; contents are never kept."""

    text: str
    full_text: str
    attachments: tuple[str, ...] = ()
    was_html: bool = False
    problems: tuple[str, ...] = ()


def parse_message(raw: bytes) -> EmailMessage:
    """Parse a received message the way every function here expects it.

    The standard parser recurses once per MIME level; a hostile message nested a few thousand
    levels deep exhausts the stack. Such a message is kept with its headers and raw body.
    """
    try:
        msg = message_from_bytes(raw, policy=policy.default)
    except RecursionError:
        msg = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)  # guaranteed by policy.default's message_factory
    return msg


# --------------------------------------------------------------------------- text stripping

# mail-parser-reply's Spanish attribution pattern is r"El\s.+\s escribió:" (two whitespace
# characters before "escribió"), so Thunderbird's and Gmail's "El 31/3/27 a las 9:00, CCM
# escribió:" is missed; its French header-block pattern has no "Date :" (new Outlook), and its
# only separator is the English "-----Original Message-----". These patterns cut at the first
# attribution or separator it left behind.
_ATTRIBUTION_RE = re.compile(
    r"""^(?:>\s?)*(?:
        On\s[^\n]{1,300}?\bwrote\s?:
      | Le\s[^\n]{1,300}?\ba\s+[ée]crit\s?:
      | El\s[^\n]{1,300}?\bescribi[óo]\s?:
      | -{2,}\s?(?:Original\s+Message|Message\s+d'origine|Mensaje\s+original
                 |Forwarded\s+message|Message\s+transf[ée]r[ée]|Mensaje\s+reenviado)\s?-{2,}
      | _{10,}
    )\s*$""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
# An Outlook-style header block: a From line followed within two lines by a Sent/Date line.
_HEADER_BLOCK_RE = re.compile(
    r"""^(?:>\s?)*\*?(?:From|De|Von)\s?:\*?[^\n]*\n
        (?:[^\n]*\n){0,2}?
        (?:>\s?)*\*?(?:Sent|Date|Envoy[ée]|Enviado|Fecha)\s?:""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
# mail-parser-reply knows "Sent from my" and "Envoyé depuis", not iOS's French "Envoyé de mon
# iPhone" nor Outlook mobile's French/Spanish footers. Removed as single lines.
_SENT_FROM_RE = re.compile(
    r"""^(?:Sent\s+from\s+my|Sent\s+from\s+Outlook|Get\s+Outlook\s+for
          |Envoy[ée]\s+(?:de|depuis|à\s+partir\s+de)\s+(?:mon|ma|l'|Outlook)
          |Obtenir\s+Outlook\s+pour|T[ée]l[ée]charger\s+Outlook
          |Enviado\s+desde\s+(?:mi|Outlook)|Obtener\s+Outlook\s+para)\b[^\n]*$""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
# It has no French disclaimers at all, and its English/Spanish ones need a "Disclaimer:"-style
# label. Corporate footers start with one of these sentences; cut from there to the end.
_DISCLAIMER_RE = re.compile(
    r"""^(?:
        Ce\s+(?:message|courriel|e-?mail|mail)\b[^\n]{0,80}\b(?:confidentiel|destin[ée]|pi[èe]ces?\s+jointes?)
      | Les\s+informations\s+contenues\s+dans\s+ce
      | Le\s+contenu\s+de\s+ce\s+(?:message|courriel)
      | AVERTISSEMENT\b | AVIS\s+DE\s+CONFIDENTIALIT[ÉE]
      | Este\s+(?:mensaje|correo)\b[^\n]{0,80}\b(?:confidencial|destinatario|anexos|adjuntos)
      | La\s+informaci[óo]n\s+contenida\s+en\s+este
      | AVISO\s+(?:LEGAL|DE\s+CONFIDENCIALIDAD)\b | CONFIDENCIALIDAD\s*:
      | This\s+(?:e-?mail|message|communication)\b[^\n]{0,80}\b(?:confidential|intended|privileged)
      | The\s+information\s+(?:contained\s+)?in\s+this\s+(?:e-?mail|message)
      | CONFIDENTIALITY\s+(?:NOTICE|NOTE)\b
    )""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
# Its signature list has "cordialement" and "Best regards" only at the start of a line, so the
# very common "Bien cordialement," / "Un cordial saludo," / "Sincerely," survive. A closing
# counts only as a whole line, not as the first line, and only when few lines follow it
# (a name, a title, an address): a "Merci" in the middle of a long reply is not a closing.
_CLOSING_RE = re.compile(
    r"""^(?:
        (?:Bien\s+|Tr[èe]s\s+)?cordialement | Bien\s+[àa]\s+(?:vous|toi) | Amiti[ée]s
      | (?:Sinc[èe]res|Meilleures|Mes\s+meilleures)\s+salutations
      | Salutations(?:\s+distingu[ée]es)? | Respectueusement | Avec\s+mes\s+remerciements
      | Merci(?:\s+beaucoup|\s+d'avance|\s+par\s+avance)?
      | (?:Un\s+|Muchos\s+)?saludos?(?:\s+cordiales)? | (?:Un\s+|Reciba\s+un\s+)?cordial\s+saludo
      | Atentamente | Cordialmente | (?:Muchas\s+)?gracias
      | (?:Best|Kind|Warm|With\s+best)\s+(?:regards|wishes) | Regards | Best | Cheers
      | (?:Yours\s+)?sincerely | Yours\s+faithfully | (?:Many\s+)?thanks | Thank\s+you
    )[\s,.!;:-]*$""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
_MAX_SIGNATURE_LINES = 10
_QUOTED_LINE_RE = re.compile(r"^[ \t]*>[^\n]*(?:\n|$)", re.MULTILINE)
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2007\u202f\f\v]+")


def _normalise(text: str) -> str:
    """One space between words, no trailing spaces, at most one blank line, no outer space."""
    text = _INVISIBLE_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _cut_at(text: str, pattern: re.Pattern[str]) -> str:
    match = pattern.search(text)
    return text[: match.start()] if match else text


def _cut_closing(text: str) -> str:
    for match in _CLOSING_RE.finditer(text):
        before, after = text[: match.start()], text[match.end() :]
        if not before.strip():
            continue  # "Thanks!" as the opening line is not a signature
        if len([line for line in after.split("\n") if line.strip()]) <= _MAX_SIGNATURE_LINES:
            return before
    return text


# The newest text is at the top; what lies this far down is quoted history. Scanning it
# costs time (see _LONG_ON_LINE_RE) and cannot change the answer.
MAX_SCAN_CHARS = 100_000
# mail-parser-reply's English attribution pattern (r"On\s(?:.+?\s?.+?)\s?wrote:") backtracks
# in cubic time on a long line starting with "On": 8,000 characters take seconds, 100,000
# take minutes. No attribution line is that long (and _ATTRIBUTION_RE still sees it), so such
# lines are hidden from the library and put back afterwards.
_LONG_ON_LINE_RE = re.compile(r"^[> ]*on[\s.][^\n]{200,}$", re.IGNORECASE | re.MULTILINE)


def _library_reply(text: str) -> str:
    long_lines: list[str] = []

    def shield(match: re.Match[str]) -> str:
        long_lines.append(match.group(0))
        return f"\ue000{len(long_lines) - 1}\ue001"  # private-use characters match no pattern

    shielded = _LONG_ON_LINE_RE.sub(shield, text)
    parsed = _ParsedReply(text=shielded, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True)
    # keep_hyphen_lists: by default any line starting "-word" is taken for a signature and
    # everything after it is dropped, which would eat a delegate's bulleted list of needs.
    replies = parsed.read().replies
    # ``latest_reply`` is the raw fragment (signature included); ``body`` is the cleaned one.
    body: str = replies[0].body if replies else ""
    return re.sub("\ue000(\\d+)\ue001", lambda m: long_lines[int(m.group(1))], body)


def new_text(text: str) -> str:
    """The newest part of a plain-text body: quotes, signature and disclaimers removed."""
    text = _normalise(text[:MAX_SCAN_CHARS])
    if not text:
        return ""
    text = _library_reply(text)
    text = _cut_at(text, _ATTRIBUTION_RE)
    text = _cut_at(text, _HEADER_BLOCK_RE)
    text = _QUOTED_LINE_RE.sub("", text)  # inline (bottom-posted) replies keep only new lines
    text = _cut_at(text, _DISCLAIMER_RE)
    text = _SENT_FROM_RE.sub("", text)
    text = _cut_closing(_normalise(text))
    return _normalise(text)


# --------------------------------------------------------------------------- HTML to text


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


_VOID = _tags("area base br col embed hr img input link meta param source track wbr")
_SKIPPED = _tags("script style head title template noscript object iframe svg math xml select")
_HEAD_CONTENT = _tags("title meta link style script base noscript template xml")
_BLOCKS = _tags(
    """address article aside blockquote center dd details div dl dt fieldset figcaption figure
    footer form h1 h2 h3 h4 h5 h6 header li main nav ol p pre section summary table tbody
    thead tfoot tr ul"""
)
# Containers whose whole subtree is the quoted message.
_QUOTE_CLASSES = frozenset(
    {"gmail_quote", "gmail_attr", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote"}
)
_QUOTE_IDS = frozenset({"mail-editor-reference-message-container"})
# Outlook (web and new desktop) marks where the quote starts, then puts the header block and
# the quoted body after it as siblings: everything from the marker on is quote.
_QUOTE_FROM_HERE_IDS = frozenset({"appendonsend", "divrplyfwdmsg"})
_OUTLOOK_SEPARATOR = "_" * 32
# Hidden preheaders live in these; elements whose end tag may be omitted (p, li, td) are not
# skipped, as a missing end tag would hide the rest of the message.
_HIDEABLE = _tags("div span table font")


class _TextExtractor(HTMLParser):
    def __init__(self, *, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.drop_quotes = drop_quotes
        self.lines: list[str] = []
        self._line: list[str] = []
        self._quote_depth = 0
        self._pre = 0
        self._skip_tag: str | None = None
        self._skip_nesting = 0
        self._stopped = False

    # -- output
    def _break(self, *, force: bool = False) -> None:
        text = "".join(self._line).strip(" ")
        if text or force:
            self.lines.append("> " * self._quote_depth + text if text else "")
        self._line = []

    def text(self) -> str:
        self._break()
        return "\n".join(self.lines)

    # -- skipping
    def _skip(self, tag: str) -> None:
        self._skip_tag, self._skip_nesting = tag, 1

    def _is_quote(self, tag: str, attrs: dict[str, str]) -> bool:
        classes = set(attrs.get("class", "").lower().split())
        ident = attrs.get("id", "").lower()
        return (
            bool(classes & _QUOTE_CLASSES)
            or ident in _QUOTE_IDS
            or (tag == "blockquote" and attrs.get("type", "").lower() == "cite")
        )

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        if self._stopped:
            return
        if self._skip_tag is not None:
            if self._skip_tag == "head" and tag not in _HEAD_CONTENT:
                self._skip_tag = None  # a body tag without </head>: the head has ended
            elif tag == self._skip_tag:
                self._skip_nesting += 1
                return
            else:
                return
        attrs = {name.lower(): (value or "") for name, value in attrs_list}
        if tag in _SKIPPED:
            self._skip(tag)
            return
        if tag in _VOID:
            self._void(tag)
            return
        if tag in _HIDEABLE and "display:none" in attrs.get("style", "").replace(" ", "").lower():
            self._skip(tag)
            return
        if self.drop_quotes:
            if attrs.get("id", "").lower().removeprefix("x_") in _QUOTE_FROM_HERE_IDS:
                self._stopped = True
                return
            if self._is_quote(tag, attrs):
                self._skip(tag)
                return
        if tag in _BLOCKS:
            self._break()
        if tag == "blockquote":
            self._quote_depth += 1
        elif tag == "pre":
            self._pre += 1
        elif tag == "li":
            self._line.append("- ")
        elif tag in ("td", "th") and self._line:
            self._line.append(" ")

    def handle_startendtag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        if self._stopped or self._skip_tag is not None:
            return
        if tag in _VOID:
            self._void(tag)
        elif tag in _BLOCKS:
            self._break()

    def _void(self, tag: str) -> None:
        if tag == "br":
            self._break(force=True)
        elif tag == "hr":
            # The plain-text form of Outlook's reply separator, which the text step cuts at
            # (so does an <hr> inside someone's own text: rare, and less text is the safe side).
            self._break()
            self.lines += ["", _OUTLOOK_SEPARATOR]

    def handle_endtag(self, tag: str) -> None:
        if self._stopped:
            return
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_nesting -= 1
                if self._skip_nesting == 0:
                    self._skip_tag = None
            return
        if tag in _BLOCKS:
            self._break()
        if tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._stopped or self._skip_tag is not None:
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._line.append(first)
            for line in rest:
                self._break(force=True)
                self._line.append(line)
        else:
            self._line.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    """Readable text of an HTML body; no script, style or head content ever comes through.

    With ``drop_quotes`` the containers clients use for the quoted message are left out.
    Other blockquotes are kept as ``> `` lines either way.
    """
    extractor = _TextExtractor(drop_quotes=drop_quotes)
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # html.parser is lenient; this is a last guard, keep what was read
        pass
    return _normalise(extractor.text())


# --------------------------------------------------------------------------- MIME and charsets

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
class _Found:
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


def _decode_text(data: bytes, label: str | None, found: _Found) -> str:
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


def _decoded_part(part: Message, found: _Found) -> str:
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


def _collect(part: Message, found: _Found, depth: int = 0) -> list[_Body]:
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
            options = [_collect(child, found, depth + 1) for child in children]
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
        return [body for child in children for body in _collect(child, found, depth + 1)]
    if part.get_content_maintype() == "multipart":
        # No boundary parameter (or one that never occurs): the parser left the raw text.
        found.problem("malformed MIME: multipart without a usable boundary")
        raw = part.get_payload()
        raw = raw if isinstance(raw, str) else ""
        reparsed = _reparse_with_guessed_boundary(content_type, raw)
        if reparsed is not None:
            return _collect(reparsed, found, depth + 1)
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


def _defects(msg: Message, found: _Found) -> None:
    for part in msg.walk():
        for defect in getattr(part, "defects", []):
            found.problem(f"malformed MIME: {type(defect).__name__}")


def extract_reply(msg: EmailMessage | Message) -> ReplyText:
    """The reply's new text, its whole decoded body, attachment names and what went wrong."""
    found = _Found()
    try:
        bodies = _collect(msg, found)
    except Exception as exc:  # a parser corner we did not foresee: keep the mail flowing
        found.problem(f"unreadable MIME structure: {type(exc).__name__}")
        bodies = []
    _defects(msg, found)
    if not bodies:
        found.problem("no text part")
        return ReplyText(
            text="",
            full_text="",
            attachments=tuple(found.attachments),
            was_html=False,
            problems=tuple(found.problems),
        )
    full_parts: list[str] = []
    reply_parts: list[str] = []
    for body in bodies:
        if body.kind == "html":
            full_parts.append(html_to_text(body.text))
            reply_parts.append(html_to_text(body.text, drop_quotes=True))
        else:
            plain = body.text.replace("\r\n", "\n").replace("\r", "\n")
            full_parts.append(plain)
            reply_parts.append(plain)
    reply_source = "\n\n".join(reply_parts)
    if len(reply_source) > MAX_SCAN_CHARS:
        found.problem(f"only the first {MAX_SCAN_CHARS} characters were searched for the reply")
    return ReplyText(
        text=new_text(reply_source),
        full_text="\n\n".join(part.strip("\n") for part in full_parts).strip(),
        attachments=tuple(found.attachments),
        was_html=any(body.kind == "html" for body in bodies),
        problems=tuple(found.problems),
    )
