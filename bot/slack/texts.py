"""What only Slack says: the /ccm help, the answer to a stranger, the apology for a failure.

Channel-neutral replies like every other answer, so they render with the same builders.
"""

from __future__ import annotations

from handlers.i18n import Translator
from handlers.replies import Reply


def command_help(t: Translator) -> Reply:
    return Reply(
        t.language,
        t.gettext("What I can do"),
        t.gettext("Type one of these commands, or write to me here in your own words:"),
        fields=(
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
            ("/ccm help", t.gettext("This list.")),
        ),
        footer=t.gettext("You can answer in one step, in English, French or Spanish."),
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


def nothing_to_edit(t: Translator) -> Reply:
    return Reply(
        t.language,
        t.gettext("Nothing to confirm"),
        t.gettext(
            "There is nothing waiting for your confirmation (it may have been confirmed "
            "already, or replaced by a newer message)."
        ),
    )


def unknown_reference(t: Translator, reference: str) -> Reply:
    return Reply(
        t.language,
        t.gettext("Unknown reference"),
        t.gettext("I found no need or offer with the reference {reference}.", reference=reference),
    )


def invalid_email(t: Translator) -> str:
    return t.gettext(
        "Write an email address, e.g. {example}.", example=t.gettext("colleague@ministry.gov")
    )
