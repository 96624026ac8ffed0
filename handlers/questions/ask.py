"""A question as it travels: who asks it (`Asker`), and what to ask again (`Ask`).

What a person asked travels with the answer's choices (*More*, *Show the names*, *Share*) as an
``Ask``, so a click asks the store again: nothing is kept between clicks, and every click sees
what its clicker may see at that moment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.i18n import Translator
from handlers.replies import Reply
from handlers.turns import Speaker
from storage.models import Role
from storage.visibility import STRANGER, Viewer

# The subcommands of /ccm that ask the records, and the topics an Ask may carry.
TOPICS = ("needs", "offers", "state", "overdue", "deadlines", "stats")
# The words of a question read at most (parse_question reads 500 characters); more would only
# weigh on a choice's value.
MAX_WORDS = 500
# The longest value a choice may carry: Slack's limit on a button value, the narrowest channel.
MAX_CHOICE_VALUE = 2000


def viewer_of(speaker: Speaker | None) -> Viewer:
    """Who is asking, for the visibility rules; None is someone the bot does not know."""
    return STRANGER if speaker is None else speaker.viewer


def channel_audience(viewer: Viewer) -> Viewer:
    """Whom a shared answer is for: whoever is in the channel. It shows what any delegate may
    see (a partner's share only what is public): nothing for the Coordinators only, no
    contacts, no reminders and no names behind the figures, whoever pressed *Share*."""
    return Viewer(Role.PARTNER if viewer.role is Role.PARTNER else Role.DELEGATE)


def clip_words(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_WORDS:
        return text
    return text[: MAX_WORDS + 1].rsplit(" ", 1)[0]


@dataclass(frozen=True)
class Ask:
    """One records question: the topic, the words after it, which page, and whether the
    names behind the figures are wanted. Carried in choice values as compact JSON."""

    topic: str
    words: str = ""
    offset: int = 0
    names: bool = False

    def to_value(self) -> str:
        data: dict[str, object] = {"t": self.topic, "w": self.words}
        if self.offset:
            data["o"] = self.offset
        if self.names:
            data["n"] = 1
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(value) > MAX_CHOICE_VALUE:
            # clip_words keeps the words far under the limit: a longer value is a bug.
            raise ValueError(f"choice value over {MAX_CHOICE_VALUE} characters: {value!r}")
        return value

    @classmethod
    def from_value(cls, value: str) -> Ask | None:
        """The question a choice carries; None for anything else."""
        try:
            data = json.loads(value)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("t") not in TOPICS:
            return None
        words, offset = data.get("w", ""), data.get("o", 0)
        if not isinstance(words, str) or type(offset) is not int or offset < 0:
            return None
        return cls(data["t"], clip_words(words), offset, data.get("n") == 1)


@dataclass(frozen=True)
class Asker:
    """Who is asking, as the answers need it: what they may see, their language, day and zone.

    ``pages`` is True where an answer's choices are buttons that ask again (Slack): *More*,
    *Show the names*, *Share*. Elsewhere (email, the terminal) a long answer says how to narrow
    the question instead.
    """

    viewer: Viewer
    t: Translator
    today: date
    zone: ZoneInfo
    pages: bool = True


def asker_of(speaker: Speaker, now: datetime, *, pages: bool) -> Asker:
    return Asker(speaker.viewer, speaker.t, speaker.today(now), speaker.zone, pages)


@dataclass(frozen=True)
class Answered:
    """An answer, and what its choices would ask next (None: no such choice)."""

    reply: Reply
    more: Ask | None = None
    names: Ask | None = None
