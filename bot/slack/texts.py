"""What only Slack says: the /ccm help, the answer to a stranger, the apology for a failure.

Channel-neutral replies like every other answer, so they render with the same builders.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from handlers.i18n import Translator, _
from handlers.replies import Reply
from handlers.understanding.keywords import Intent
from storage.models import Role

# What a message says in place of its buttons once one was handled. The answers left out
# (need, offer) do not settle a reminder: raising a need leaves its deadline unanswered.
SETTLED_BY: Mapping[Intent, str] = MappingProxyType(
    {
        Intent.CONFIRM: _("Confirmed by {person}, {time}"),
        Intent.EDIT: _("Edited by {person}, {time}"),
        Intent.WITHDRAW: _("Withdrawn by {person}, {time}"),
        Intent.REPORT_SUBMITTED: _("Reported as submitted by {person}, {time}"),
        Intent.SNOOZE: _("Snoozed by {person}, {time}"),
        Intent.NOT_ME: _("Handed over by {person}, {time}"),
        Intent.STOP: _("Reminders stopped by {person}, {time}"),
    }
)


def command_help(t: Translator, role: Role | None = None) -> Reply:
    """The commands, those of the records as the person's role allows them."""
    coordinator = role in (Role.COORDINATOR, Role.ISU)
    exports = "needs|offers|reports|contacts" if coordinator else "needs|offers|reports"
    fields = [
        ("/ccm need", t.gettext("Tell the ISU what assistance your State needs.")),
        ("/ccm offer", t.gettext("Tell the ISU what assistance you can offer.")),
        (
            "/ccm report submitted [YEAR]",
            t.gettext(
                "Your Article 7 report was sent (the one covering last year, unless you "
                "name the year)."
            ),
        ),
        ("/ccm my", t.gettext("Your State's deadlines, reports, needs and offers.")),
        (
            "/ccm needs [WORDS], /ccm offers [WORDS]",
            t.gettext(
                "Needs or offers, filtered in your own words, e.g. /ccm needs article 4 "
                "africa open, /ccm offers training spanish."
            ),
        ),
        ("/ccm state NAME", t.gettext("One State on one screen.")),
        ("/ccm overdue [YEAR]", t.gettext("States whose Article 7 report is missing.")),
        ("/ccm deadlines [MONTHS]", t.gettext("Treaty deadlines ahead, soonest first.")),
        ("/ccm stats [YEAR]", t.gettext("The yearly figures of the reports and assistance.")),
        (
            f"/ccm export {exports} [csv|xlsx]",
            t.gettext(
                "A file in the columns the import reads, sent to you in our direct messages."
            ),
        ),
        ("/ccm digest on|off", t.gettext("Receive the weekly digest by email, or stop it.")),
        ("/ccm help", t.gettext("This list.")),
    ]
    if coordinator:
        who = t.gettext(
            "You see every record. Answers are shown to you alone; Share in channel posts "
            "one for everyone there, without records for the Coordinators only, contacts, "
            "reminders or the States behind the figures. Write me a question here too, e.g. "
            "“who needs help with clearance in Africa?”."
        )
    elif role is Role.DELEGATE:
        who = t.gettext(
            "You see the needs and offers shared with the States Parties, and your own "
            "State's contacts and reminders. The States behind the figures, other States' "
            "reminders and the contacts export are for the Coordinators and the ISU."
        )
    else:
        who = t.gettext(
            "You see the public needs and offers. The States behind the figures, "
            "reminders and contacts are for the Coordinators and the ISU."
        )
    return Reply(
        t.language,
        t.gettext("What I can do"),
        t.gettext("Type one of these commands, or write to me here in your own words:"),
        fields=tuple(fields),
        footer=" ".join(
            (t.gettext("You can answer in one step, in English, French or Spanish."), who)
        ),
    )


def stranger_reply(t: Translator) -> Reply:
    """For a Slack user who is not (or no longer) a contact: nothing is stored for them."""
    return Reply(
        t.language,
        t.gettext("Access needed"),
        t.gettext(
            "I do not know you yet, so I cannot record anything for you. Please ask the CCM "
            "Implementation Support Unit (ISU) to add you as your State's contact."
        ),
    )


def trouble_reply(t: Translator) -> Reply:
    return Reply(
        t.language,
        t.gettext("Something went wrong"),
        t.gettext(
            "Sorry, something went wrong on my side. Please try again in a few minutes; if it "
            "keeps happening, tell the ISU."
        ),
    )


def invalid_email(t: Translator) -> str:
    return t.gettext(
        "Write an email address, e.g. {example}.", example=t.gettext("colleague@ministry.gov")
    )


def records_refused(t: Translator) -> Reply:
    return Reply(
        t.language,
        t.gettext("Your question"),
        t.gettext("Only the Coordinators and the ISU can see this."),
    )


def export_usage(t: Translator) -> Reply:
    return Reply(
        t.language,
        t.gettext("Export"),
        t.gettext(
            "Write what to export and, if you like, the format, for example: {example}",
            example="/ccm export needs xlsx",
        ),
    )


def export_sent(t: Translator, count: int, *, held_back: bool) -> str:
    text = t.ngettext(
        "{count} row, in the columns the import reads.",
        "{count} rows, in the columns the import reads.",
        count,
    )
    if held_back:
        text += " " + t.gettext("Records for the Coordinators only are not included.")
    return text


def export_elsewhere(t: Translator) -> Reply:
    return Reply(
        t.language,
        t.gettext("Export"),
        t.gettext("The file is in our direct messages: exports are never posted in a channel."),
    )


def digest_usage(t: Translator) -> Reply:
    return Reply(
        t.language,
        t.gettext("Weekly digest"),
        t.gettext("Write /ccm digest on or /ccm digest off."),
    )


def invite_me(t: Translator) -> Reply:
    return Reply(
        t.language,
        t.gettext("Not shared"),
        t.gettext(
            "I cannot post in this conversation. Invite me first (/invite @ccm-bot), then "
            "press Share in channel again."
        ),
    )


def settled_note(
    t: Translator, answer: Intent, person: str, now: datetime, zone: ZoneInfo
) -> str | None:
    """What replaces the buttons, e.g. "✓ Confirmed by Ana Pérez, 20 April 2027, 08:00 …",
    in the reader's language and zone; None for an answer that settles nothing."""
    template = SETTLED_BY.get(answer)
    if template is None:
        return None
    return "✓ " + t.gettext(template, person=person, time=t.time(now, zone))
