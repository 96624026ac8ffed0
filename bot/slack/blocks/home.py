"""The State at a glance, as the Home tab and the overview command show it: upcoming deadlines,
reports received, and open needs and offers a page at a time.
"""

from __future__ import annotations

from datetime import date

from bot.slack import ids
from bot.slack.blocks.text import (
    MAX_BUTTON_TEXT,
    MAX_HEADER_TEXT,
    MAX_VIEW_BLOCKS,
    Block,
    bold,
    clip,
    context_block,
    escape,
    plain,
    section_block,
)
from handlers.entry_form import STATUS_LABELS
from handlers.i18n import Translator, _
from handlers.overview import Overview
from handlers.reminders import item_title, timing
from schedules.delivery import ReminderItem
from storage.models import EntryKind

ENTRIES_PER_PAGE = 10
DESCRIPTION_PREVIEW = 300

KIND_LABELS = {EntryKind.NEED: _("Need"), EntryKind.OFFER: _("Offer")}


def _due_line(t: Translator, item: ReminderItem, overview: Overview) -> str:
    when = t.gettext(
        "Deadline: {date} ({timing})",
        date=t.date(item.due),
        timing=timing(t, item, overview.today),
    )
    return f"• {bold(item_title(t, item))} — {escape(when)}"


def overview_blocks(
    t: Translator, overview: Overview, *, page: int = 0, pager: bool = False
) -> list[Block]:
    """Deadlines, reports and open needs and offers; the entries a page at a time."""
    blocks: list[Block] = []
    if overview.state_name:
        blocks.append({"type": "header", "text": plain(overview.state_name, MAX_HEADER_TEXT)})
        due = [_due_line(t, item, overview) for item in overview.due] or [
            escape(t.gettext("Nothing is due in the coming months."))
        ]
        blocks.append(section_block("\n".join([bold(t.gettext("Upcoming deadlines")), *due])))
        reports = [
            f"• {escape(item_title(t, _report_item(r.item)))} — "
            + escape(t.gettext("submitted on {date}", date=t.date(r.submitted_on)))
            for r in overview.reports
        ] or [escape(t.gettext("No report recorded yet."))]
        blocks.append(section_block("\n".join([bold(t.gettext("Reports received")), *reports])))
    else:
        blocks.append(
            section_block(
                escape(
                    t.gettext(
                        "Reports are recorded for a State, and you are not registered for one. "
                        "The ISU can add you as a delegate."
                    )
                )
            )
        )
    blocks.append({"type": "divider"})
    entries = overview.entries
    pages = max(1, -(-len(entries) // ENTRIES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    heading = bold(t.gettext("Open needs and offers"))
    if not entries:
        heading += "\n" + escape(t.gettext("No open needs or offers."))
    blocks.append(section_block(heading))
    shown = entries[page * ENTRIES_PER_PAGE : (page + 1) * ENTRIES_PER_PAGE]
    for entry in shown:
        kind = escape(t.gettext(KIND_LABELS[entry.kind]))
        status = escape(t.gettext(STATUS_LABELS[entry.status]))
        description = clip(escape(entry.description), DESCRIPTION_PREVIEW)
        blocks.append(section_block(f"{bold(entry.reference)} · {kind} · {status}\n{description}"))
    if pages > 1 and pager:
        blocks.append(
            context_block(escape(t.gettext("Page {page} of {pages}", page=page + 1, pages=pages)))
        )
        buttons: list[Block] = []
        if page > 0:
            buttons.append(_page_button(ids.HOME_PREVIOUS_ACTION, t.gettext("Previous"), page - 1))
        if page < pages - 1:
            buttons.append(_page_button(ids.HOME_NEXT_ACTION, t.gettext("Next"), page + 1))
        blocks.append({"type": "actions", "block_id": ids.HOME_PAGER_BLOCK, "elements": buttons})
    elif len(entries) > len(shown):
        more = len(entries) - len(shown)
        note = t.ngettext("…and {count} more", "…and {count} more", more)
        blocks.append(context_block(escape(note)))
    return blocks


def _report_item(item: str) -> ReminderItem:
    # item_title only reads the item id; the other fields do not matter for a name.
    return ReminderItem("", "", item, "", date.min, None)


def _page_button(action_id: str, label: str, page: int) -> Block:
    return {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, MAX_BUTTON_TEXT),
        "value": str(page),
    }


def home_view(blocks: list[Block]) -> Block:
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}
