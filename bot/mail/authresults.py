"""Authentication-Results (RFC 8601): what our own mail server found of SPF, DKIM and DMARC.

Anyone can write this header, so only our MTA's is read, as Mailman does with its
``trusted_authserv_ids``: the topmost Authentication-Results field (the last one added, by the
server that handed us the message) and only when its authserv-id is one of CCM_AUTHSERV_ID.
A field lower down was there before our server saw the message, and may be the sender's own
invention. With CCM_AUTHSERV_ID unset nothing is read: the bot cannot tell whose header it is.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from email.message import Message

__all__ = ["AuthResults", "read_auth_results"]

_COMMENT = re.compile(r"\([^()]*\)")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)(?:\s*/\s*\d+)?\s*=\s*([a-z0-9_-]+)", re.IGNORECASE)
_RESULT_LENGTH = 16  # the longest RFC 8601 result is "temperror"; a longer one is cut


@dataclass(frozen=True, slots=True)
class AuthResults:
    """One result per method (``pass``, ``fail``, ``none``…); None when our MTA said nothing."""

    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None


def _without_comments(value: str) -> str:
    value = _QUOTED.sub('""', value)  # a quoted reason may hold ";" or "("
    while True:  # comments nest: remove the innermost until none is left
        stripped = _COMMENT.sub(" ", value)
        if stripped == value:
            return stripped
        value = stripped


def _parse(value: str, trusted: Collection[str]) -> AuthResults:
    authserv, *results = _without_comments(value).split(";")
    words = authserv.split()
    if not words or words[0].lower() not in trusted:
        return AuthResults()
    found: dict[str, list[str]] = {}
    for result in results:
        match = _RESULT.match(result)
        if match:
            method, outcome = match.group(1).lower(), match.group(2).lower()
            found.setdefault(method, []).append(outcome[:_RESULT_LENGTH])
    dkim = found.get("dkim", [])
    return AuthResults(
        spf=next(iter(found.get("spf", [])), None),
        # One pass among several signatures authenticates the message.
        dkim="pass" if "pass" in dkim else next(iter(dkim), None),
        dmarc=next(iter(found.get("dmarc", [])), None),
    )


def read_auth_results(msg: Message, trusted: Collection[str]) -> AuthResults:
    """The results of our own MTA, from the topmost Authentication-Results field only."""
    if not trusted:
        return AuthResults()
    try:
        fields = msg.get_all("Authentication-Results", [])
        topmost = str(fields[0]) if fields else ""
    except Exception:  # a hostile header must not stop processing
        return AuthResults()
    return _parse(topmost, trusted) if topmost else AuthResults()
