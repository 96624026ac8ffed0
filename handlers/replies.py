"""Channel-neutral answers: what the bot says, which Slack renders as Block Kit and email as text.

A reply is already in its reader's language; the renderers only lay it out. The same reply on
either channel is how one delegate gets the same conversation on Slack and by email.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.i18n import Translator
from handlers.understanding.keywords import Intent
from storage.models import Via


@dataclass(frozen=True)
class Choice:
    """One answer offered: a button on Slack, a reply keyword by email."""

    action: Intent
    label: str
    keyword: str  # the email keyword in the reader's language, e.g. SOUMIS
    value: str = ""  # what the answer refers to: an item key, a reference


@dataclass(frozen=True)
class Section:
    """A titled block of lines, e.g. one due item of a reminder."""

    title: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Handover:
    """What the ISU is told when a delegate is not the right person: facts, not text, because
    the note is written in the ISU's language (a setting the conversation core does not read)."""

    name: str
    email: str | None
    state: str | None  # ISO3
    colleague: str | None  # the address they suggested, if any

    def render(self, t: Translator) -> str:
        who = (
            self.name
            + (f" <{self.email}>" if self.email else "")
            + (f" ({self.state})" if self.state else "")
        )
        if self.colleague:
            return t.gettext(
                "{who} is not the right person for these reminders and will get no more of them. "
                "They suggest {colleague}: please confirm them as the State's contact.",
                who=who,
                colleague=self.colleague,
            )
        return t.gettext(
            "{who} is not the right person for these reminders and will get no more of them. "
            "They suggested nobody: please find the right person.",
            who=who,
        )


@dataclass(frozen=True)
class AnsweredItem:
    """The reminder item a stored answer settles, and the message the answer was given from
    (a draft's ``message_id``: on Slack the reminder whose button was pressed, by email the
    person's own message), so the channel it came by can show that message answered."""

    item: str  # "ISO3:item", as reminders name it
    via: Via
    message_id: str | None


@dataclass(frozen=True)
class Reply:
    """Everything the bot says in one message."""

    language: str
    subject: str
    intro: str
    sections: tuple[Section, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    choices: tuple[Choice, ...] = ()
    footer: str = ""
    reference: str | None = None
    stored: bool = False  # True when the reply confirms something recorded
    extra: dict[str, str] = field(default_factory=dict)
    # For the ISU once the turn is stored, rendered in the ISU's language where it is sent.
    isu_note: Handover | None = None
    # The reminder item this stored answer settles (a report recorded as submitted).
    answered: AnsweredItem | None = None

    @property
    def text(self) -> str:
        """The reply as plain text, complete on its own (email, notifications, the terminal)."""
        parts = [self.intro]
        for section in self.sections:
            parts.append("\n".join([section.title, *(f"  {line}" for line in section.lines)]))
        if self.fields:
            width = max(len(label) for label, _ in self.fields)
            parts.append(
                "\n".join(f"{label.ljust(width)}  {value}" for label, value in self.fields)
            )
        if self.footer:
            parts.append(self.footer)
        return "\n\n".join(p for p in parts if p)
