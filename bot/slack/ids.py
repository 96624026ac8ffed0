"""Block Kit ids: written by the builders, read by the listeners, defined once here.

An id that drifts between the two sides fails silently on Slack (the click reaches no listener),
so neither side spells one out itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from handlers.entry_form import FORM_FIELDS
from handlers.understanding.keywords import Intent

COMMAND = "/ccm"

# Buttons: one action id per answer, the same on reminders, proposals and confirmations.
ANSWER_ACTIONS: Mapping[Intent, str] = MappingProxyType(
    {
        Intent.REPORT_SUBMITTED: "ccm_report_submitted",
        Intent.NEED: "ccm_need",
        Intent.OFFER: "ccm_offer",
        Intent.SNOOZE: "ccm_snooze",
        Intent.NOT_ME: "ccm_not_me",
        Intent.STOP: "ccm_stop",
        Intent.CONFIRM: "ccm_confirm",
        Intent.CANCEL: "ccm_cancel",
        Intent.EDIT: "ccm_edit",
        Intent.WITHDRAW: "ccm_withdraw",
    }
)
INTENT_OF_ACTION: Mapping[str, Intent] = MappingProxyType(
    {action: intent for intent, action in ANSWER_ACTIONS.items()}
)
ANSWERS_BLOCK = "ccm_answers"
# What takes the answers' place once one of them is handled: who answered, how and when.
SETTLED_BLOCK = "ccm_settled"
# Paging the Home tab's list of needs and offers; the button value is the page to show.
HOME_PREVIOUS_ACTION = "ccm_home_previous"
HOME_NEXT_ACTION = "ccm_home_next"
HOME_PAGER_BLOCK = "ccm_home_pager"
# Answers to the records commands (/ccm needs, /ccm stats…), shown to one person: the value of
# each button is the question to ask again (handlers.questions.Ask as JSON).
QUERY_MORE_ACTION = "ccm_query_more"
QUERY_NAMES_ACTION = "ccm_query_names"
QUERY_SHARE_ACTION = "ccm_query_share"
QUERY_ACTIONS_BLOCK = "ccm_query_actions"

# Modals (their callback ids) and their input blocks. The block id of an input is the name of
# the field it fills, so a validation error on "amount" is shown next to the amount.
NEED_MODAL = "ccm_need_modal"
OFFER_MODAL = "ccm_offer_modal"
REPORT_DATE_MODAL = "ccm_report_date_modal"
NOT_ME_MODAL = "ccm_not_me_modal"
INPUT_ACTION = "value"  # the action id of every input element
ENTRY_FIELDS = FORM_FIELDS
DATE_BLOCK = "on"
EMAIL_BLOCK = "email"

# Message metadata on every reminder: how a thread reply and find_sent know what it was.
REMINDER_EVENT = "ccm_reminder"

# Slack's limits on what travels with an interaction.
MAX_BUTTON_VALUE = 2000
MAX_PRIVATE_METADATA = 3000
