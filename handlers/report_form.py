"""The form that asks the day a report was sent: what it reopens and what it accepts.

A form's error is shown before the form closes, so the form checks what the core would refuse
(``report_submitted.propose``) before the core is asked.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.i18n import Translator
from storage.items import report_item_id
from storage.models import ReportKind


def draft_about(payload: dict[str, Any]) -> str:
    """The reminder ("ISO3:item") a report's draft answers, to reopen its date form."""
    kind = ReportKind(payload.get("kind") or ReportKind.ANNUAL.value)
    item = report_item_id(kind, int(payload.get("year") or 0))
    return f"{payload['state']}:{item}"


def checked_submission_date(t: Translator, text: str, today: date) -> date | str:
    """The day a report was sent, as the form gives it, or what to fix."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return t.gettext("Write the date as YYYY-MM-DD.")
    if day > today:
        return t.gettext(
            "The date {date} is still to come. Tell me the day the report was sent.",
            date=t.date(day),
        )
    return day
