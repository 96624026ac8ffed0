"""Text as Block Kit carries it: Slack's limits, mrkdwn escaping, clipping to a limit, and the
small text objects (plain, mrkdwn, section, context) every other builder is made of.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.replies import Reply

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_VIEW_TITLE = 24
MAX_ACTIONS = 25
FIELDS_PER_SECTION = 10
# The notification and screen-reader text of a message; the blocks carry the whole of it.
MAX_FALLBACK_TEXT = 3000
# A value longer than this gets the full width instead of one of two columns.
SHORT_FIELD = 120
ELLIPSIS = "…"

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_FORMATTING = re.compile(r"[*_~`]")
ZERO_WIDTH_SPACE = "\u200b"


def escape(text: str) -> str:
    """Make text safe for mrkdwn: no mentions, links or channel pings hidden in it, and shown
    as typed. mrkdwn has no escape for its formatting characters (asterisk, underscore, tilde,
    backquote): a zero-width space after each keeps them from pairing into bold, italics,
    strike-through or code, and a copy of the text keeps the characters themselves.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _FORMATTING.sub("\\g<0>" + ZERO_WIDTH_SPACE, text)


def clip(text: str, limit: int) -> str:
    """Text within ``limit`` characters, ending in "…" when cut (never inside an ``&amp;``)."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - len(ELLIPSIS)])
    return cut.rstrip() + ELLIPSIS


def plain(text: str, limit: int = MAX_SECTION_TEXT) -> Block:
    return {"type": "plain_text", "text": clip(text.strip() or ELLIPSIS, limit), "emoji": True}


def mrkdwn(escaped: str, limit: int = MAX_SECTION_TEXT) -> Block:
    # verbatim: Slack must not turn bare URLs or #channel names a person typed into links.
    return {"type": "mrkdwn", "text": clip(escaped.strip() or ELLIPSIS, limit), "verbatim": True}


def section_block(escaped: str) -> Block:
    return {"type": "section", "text": mrkdwn(escaped)}


def context_block(escaped: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(escaped)]}


def bold(text: str) -> str:
    return f"*{escape(text)}*"


def fallback_text(reply: Reply) -> str:
    """The ``text`` of a message: what notifications and screen readers say."""
    return clip(escape(reply.text or reply.subject), MAX_FALLBACK_TEXT)
