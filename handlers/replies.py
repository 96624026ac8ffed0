"""Channel-neutral answers: what the bot says, which Slack renders as Block Kit and email as text.

A reply is already in its reader's language; the renderers only lay it out. The same reply on
either channel is how one delegate gets the same conversation on Slack and by email.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.understanding.keywords import Intent


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
