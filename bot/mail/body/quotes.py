"""The newest part of a plain-text body: quotes, signatures and disclaimers stripped, first by
``mail-parser-reply``, then by narrow patterns for what it misses in English, French and
Spanish (each says why), then every ``>`` line."""

from __future__ import annotations

import re

from mailparser_reply.parser import EmailMessage as _ParsedReply

REPLY_LANGUAGES = ("en", "fr", "es")

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


def normalise(text: str) -> str:
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
    text = normalise(text[:MAX_SCAN_CHARS])
    if not text:
        return ""
    text = _library_reply(text)
    text = _cut_at(text, _ATTRIBUTION_RE)
    text = _cut_at(text, _HEADER_BLOCK_RE)
    text = _QUOTED_LINE_RE.sub("", text)  # inline (bottom-posted) replies keep only new lines
    text = _cut_at(text, _DISCLAIMER_RE)
    text = _SENT_FROM_RE.sub("", text)
    text = _cut_closing(normalise(text))
    return normalise(text)
