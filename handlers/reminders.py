"""What a reminder says: the due items, by when, what the ISU needs, and how to answer.

The reminder is composed once, in the reader's language and zone, as a channel-neutral reply;
Slack adds buttons for its choices and email lists them as reply keywords.
"""

from __future__ import annotations

from datetime import date

from handlers.i18n import Translator, _, translator
from handlers.replies import Choice, Reply, Section
from handlers.understanding.keywords import KEYWORDS, Intent
from schedules.delivery import Outgoing, ReminderItem
from schedules.policy import DAY, ESCALATE
from storage.items import report_of_item
from storage.models import ReportKind

ANSWERS = (
    (Intent.REPORT_SUBMITTED, _("Report submitted")),
    (Intent.NEED, _("We need assistance")),
    (Intent.OFFER, _("We can offer assistance")),
    (Intent.SNOOZE, _("Remind me later")),
    (Intent.NOT_ME, _("Not the right person")),
    (Intent.STOP, _("Stop these reminders")),
)


def item_title(t: Translator, item: ReminderItem) -> str:
    """The name of a due item, e.g. "Article 7 annual report covering 2026"."""
    report = report_of_item(item.item)
    if report is not None and report[0] is ReportKind.INITIAL:
        return t.gettext("Initial Article 7 transparency report")
    if report is not None:
        return t.gettext("Article 7 annual transparency report covering {year}", year=report[1])
    if item.item == "art3":
        return t.gettext("Article 3 deadline: destruction of stockpiled cluster munitions")
    if item.item == "art4":
        return t.gettext("Article 4 deadline: clearance of contaminated areas")
    return item.title or item.item


def what_is_needed(t: Translator, item: ReminderItem) -> str:
    if item.item.startswith("art7-"):
        return t.gettext(
            "The ISU needs your report, including any assistance you need or can offer."
        )
    if item.item in ("art3", "art4"):
        return t.gettext(
            "If the deadline cannot be met, an extension request must be submitted well before "
            "it; tell us what assistance would help."
        )
    return t.gettext("Please tell us if you need anything to be ready.")


def timing(t: Translator, item: ReminderItem, today: date) -> str:
    days = (item.due - today).days
    if days > 0:
        return t.ngettext("due in {count} day", "due in {count} days", days)
    if days == 0 or item.stage == DAY:
        return t.gettext("due today")
    return t.ngettext("overdue by {count} day", "overdue by {count} days", -days)


def answer_choices(t: Translator, value: str) -> tuple[Choice, ...]:
    return tuple(
        Choice(action, t.gettext(label), KEYWORDS[t.language][action][0], value)
        for action, label in ANSWERS
    )


def compose_reminder(outgoing: Outgoing, today: date) -> Reply:
    """The reminder for one person: every item due for them today, in one message."""
    t = translator(outgoing.language)
    if outgoing.purpose == "escalation":
        return compose_escalation(outgoing, today)
    states = sorted({item.state_name for item in outgoing.items})
    sections = tuple(
        Section(
            f"{item_title(t, item)} — {item.state_name}",
            (
                t.gettext(
                    "Deadline: {date} ({timing})",
                    date=t.date(item.due),
                    timing=timing(t, item, today),
                ),
                what_is_needed(t, item),
            ),
        )
        for item in outgoing.items
    )
    first = outgoing.items[0]
    subject = (
        t.gettext("Reminder: {title} — {state}", title=item_title(t, first), state=states[0])
        if len(outgoing.items) == 1
        else t.ngettext(
            "Reminder: {count} items due for {states}",
            "Reminder: {count} items due for {states}",
            len(outgoing.items),
            states=", ".join(states),
        )
    )
    return Reply(
        language=t.language,
        subject=subject,
        intro=t.gettext("Dear {name},", name=outgoing.name)
        + "\n\n"
        + t.gettext("This is a reminder from the CCM Implementation Support Unit."),
        sections=sections,
        choices=answer_choices(t, f"{first.state}:{first.item}"),
        footer=t.gettext("You can answer in one step, in English, French or Spanish."),
    )


def compose_escalation(outgoing: Outgoing, today: date) -> Reply:
    """Tell a coordinator which States did not answer after the last reminder."""
    t = translator(outgoing.language)
    sections = tuple(
        Section(
            f"{item.state_name}: {item_title(t, item)}",
            (
                t.gettext(
                    "Deadline: {date} ({timing})",
                    date=t.date(item.due),
                    timing=timing(t, item, today),
                ),
                t.gettext("No answer after the last reminder; a word from a coordinator may help."),
            ),
        )
        for item in outgoing.items
    )
    return Reply(
        language=t.language,
        subject=t.ngettext(
            "Escalation: {count} State has not reported",
            "Escalation: {count} States have not reported",
            len({i.state for i in outgoing.items}),
        ),
        intro=t.gettext("Dear {name},", name=outgoing.name),
        sections=sections,
    )


__all__ = ["ESCALATE", "compose_escalation", "compose_reminder", "item_title"]
