"""Block Kit builders: replies, reminders, forms and the Home tab as Slack shows them.

Everything here is a pure function of its arguments. Text a person typed is escaped before it
reaches mrkdwn (``<!channel>`` stays text, ``<http://evil|click>`` stays visible), and
Slack's limits are kept here rather than discovered as ``invalid_blocks`` in production:
long texts end in "…", messages keep to 50 blocks and views to 100.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from bot.slack import ids
from bot.slack.payloads import ModalContext
from handlers.entry_form import (
    ARTICLE_LABELS,
    CATEGORY_LABELS,
    FIELD_LABELS,
    MAX_DESCRIPTION,
    STATUS_LABELS,
    VISIBILITY_LABELS,
)
from handlers.i18n import Translator, _, translator
from handlers.overview import Overview
from handlers.reminders import item_title, timing
from handlers.replies import Choice, Reply
from handlers.understanding.keywords import Intent
from schedules.delivery import ReminderItem
from storage.models import Category, EntryKind, Visibility

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
ENTRIES_PER_PAGE = 10
DESCRIPTION_PREVIEW = 300
ELLIPSIS = "…"

KIND_LABELS = {EntryKind.NEED: _("Need"), EntryKind.OFFER: _("Offer")}

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_FORMATTING = re.compile(r"[*_~`]")
ZERO_WIDTH_SPACE = "\u200b"


# --- text ------------------------------------------------------------------------------------


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


def _md(escaped: str, limit: int = MAX_SECTION_TEXT) -> Block:
    # verbatim: Slack must not turn bare URLs or #channel names a person typed into links.
    return {"type": "mrkdwn", "text": clip(escaped.strip() or ELLIPSIS, limit), "verbatim": True}


def _section(escaped: str) -> Block:
    return {"type": "section", "text": _md(escaped)}


def _context(escaped: str) -> Block:
    return {"type": "context", "elements": [_md(escaped)]}


def _bold(text: str) -> str:
    return f"*{escape(text)}*"


def fallback_text(reply: Reply) -> str:
    """The ``text`` of a message: what notifications and screen readers say."""
    return clip(escape(reply.text or reply.subject), MAX_FALLBACK_TEXT)


# --- replies ---------------------------------------------------------------------------------


def button(choice: Choice) -> Block | None:
    action_id = ids.ANSWER_ACTIONS.get(choice.action)
    if action_id is None:
        return None
    if len(choice.value) > ids.MAX_BUTTON_VALUE:
        # A cut value would point at something else; this is a bug, not a long text.
        raise ValueError(f"button value over {ids.MAX_BUTTON_VALUE} characters: {choice.value!r}")
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain(choice.label, MAX_BUTTON_TEXT),
    }
    if choice.value:
        element["value"] = choice.value
    if choice.action is Intent.CONFIRM:
        element["style"] = "primary"
    elif choice.action is Intent.WITHDRAW:
        element["style"] = "danger"
    return element


def _field_blocks(fields: Iterable[tuple[str, str]]) -> list[Block]:
    blocks: list[Block] = []
    columns: list[Block] = []

    def flush() -> None:
        if columns:
            blocks.append({"type": "section", "fields": list(columns)})
            columns.clear()

    for label, value in fields:
        text = f"{_bold(label)}\n{escape(value)}"
        if len(value) > SHORT_FIELD:
            flush()
            blocks.append(_section(text))
            continue
        columns.append(_md(text, MAX_FIELD_TEXT))
        if len(columns) == FIELDS_PER_SECTION:
            flush()
    flush()
    return blocks


def _fit(body: list[Block], tail: list[Block], t: Translator, limit: int) -> list[Block]:
    """Keep within Slack's block limit: the answers and the footer always stay."""
    if len(body) + len(tail) <= limit:
        return body + tail
    keep = limit - len(tail) - 1
    more = len(body) - keep
    note = _context(escape(t.ngettext("…and {count} more", "…and {count} more", more)))
    return [*body[:keep], note, *tail]


def reply_blocks(reply: Reply, *, limit: int = MAX_MESSAGE_BLOCKS) -> list[Block]:
    """A reply as a message: subject, text, items, fields, then the answers as buttons."""
    body: list[Block] = [{"type": "header", "text": plain(reply.subject, MAX_HEADER_TEXT)}]
    if reply.intro:
        body.append(_section(escape(reply.intro)))
    for section in reply.sections:
        lines = [_bold(section.title), *(escape(line) for line in section.lines)]
        body.append(_section("\n".join(lines)))
    body.extend(_field_blocks(reply.fields))
    tail: list[Block] = []
    buttons = [b for b in (button(choice) for choice in reply.choices) if b is not None]
    if buttons:
        tail.append(
            {"type": "actions", "block_id": ids.ANSWERS_BLOCK, "elements": buttons[:MAX_ACTIONS]}
        )
    if reply.footer:
        tail.append(_context(escape(reply.footer)))
    return _fit(body, tail, translator(reply.language), limit)


def settled_blocks(blocks: Iterable[Block], note: str) -> list[Block] | None:
    """A message's blocks with its answer buttons replaced by ``note``, the rest as it was.

    None when the message has no answer buttons (settled already, or never had any): then
    there is nothing to update.
    """
    settled: list[Block] = []
    replaced = False
    for block in blocks:
        if block.get("type") == "actions" and block.get("block_id") == ids.ANSWERS_BLOCK:
            settled.append({**_context(escape(note)), "block_id": ids.SETTLED_BLOCK})
            replaced = True
        else:
            settled.append(block)
    return settled if replaced else None


def query_button(action_id: str, label: str, value: str, *, primary: bool = False) -> Block:
    """A button of an answer to a records command (More, Share in channel, Show the names)."""
    if len(value) > ids.MAX_BUTTON_VALUE:
        raise ValueError(f"button value over {ids.MAX_BUTTON_VALUE} characters: {value!r}")
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, MAX_BUTTON_TEXT),
        "value": value,
    }
    if primary:
        element["style"] = "primary"
    return element


def answer_blocks(reply: Reply, buttons: list[Block]) -> list[Block]:
    """An answer to a records command: the reply, then its buttons, within 50 blocks."""
    if not buttons:
        return reply_blocks(reply)
    actions = {"type": "actions", "block_id": ids.QUERY_ACTIONS_BLOCK, "elements": buttons}
    return [*reply_blocks(reply, limit=MAX_MESSAGE_BLOCKS - 1), actions]


_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def shared_blocks(reply: Reply, t: Translator, user_id: str, *, note: str = "") -> list[Block]:
    """An answer posted for everyone in a channel, saying who shared it (a mention)."""
    # The mention is the one piece of mrkdwn not escaped: the id must be an id, nothing more.
    mention = f"<@{user_id}>" if _SLACK_USER_ID.fullmatch(user_id) else escape(user_id)
    placeholder = "\x00"
    credit = escape(t.gettext("Shared by {person}.", person=placeholder))
    credit = credit.replace(placeholder, mention)
    if note:
        credit += " " + escape(note)
    return [*reply_blocks(reply, limit=MAX_MESSAGE_BLOCKS - 1), _context(credit)]


# --- forms -----------------------------------------------------------------------------------


def _option(label: str, value: str) -> Block:
    return {"text": plain(label, MAX_OPTION_TEXT), "value": value}


def _select(options: list[Block], selected: str | None) -> Block:
    element: Block = {"type": "static_select", "action_id": ids.INPUT_ACTION, "options": options}
    initial = next((o for o in options if o["value"] == selected), None)
    if initial is not None:
        element["initial_option"] = initial
    return element


def _text_input(initial: str | None, *, multiline: bool = False, max_length: int = 0) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": ids.INPUT_ACTION}
    if multiline:
        element["multiline"] = True
    if max_length:
        element["max_length"] = max_length
    if initial:
        element["initial_value"] = initial[:max_length] if max_length else initial
    return element


def _datepicker(initial: str | None) -> Block:
    element: Block = {"type": "datepicker", "action_id": ids.INPUT_ACTION}
    if initial:
        element["initial_date"] = initial
    return element


def _input(
    block_id: str, label: str, element: Block, *, optional: bool = True, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, MAX_FIELD_TEXT),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, MAX_FIELD_TEXT)
    return block


def _modal(
    t: Translator, callback_id: str, title: str, context: ModalContext, blocks: list[Block]
) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MAX_VIEW_TITLE),
        "submit": plain(t.gettext("Continue"), MAX_VIEW_TITLE),
        "close": plain(t.gettext("Cancel"), MAX_VIEW_TITLE),
        "private_metadata": context.to_json(),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def entry_modal(
    t: Translator,
    kind: EntryKind,
    fields: Mapping[str, str],
    context: ModalContext,
    *,
    intro: str = "",
) -> Block:
    """The need or offer form with every field, prefilled from ``fields``."""

    def label(name: str) -> str:
        return t.gettext(FIELD_LABELS[name])

    blocks: list[Block] = [_context(escape(intro))] if intro else []
    blocks += [
        _input(
            "description",
            label("description"),
            _text_input(fields.get("description"), multiline=True, max_length=MAX_DESCRIPTION),
            optional=False,
        ),
        _input(
            "article",
            label("article"),
            _select(
                [_option(t.gettext(text), value) for value, text in ARTICLE_LABELS.items()],
                fields.get("article"),
            ),
        ),
        _input(
            "category",
            label("category"),
            _select(
                [_option(t.gettext(text), c.value) for c, text in CATEGORY_LABELS.items()],
                fields.get("category") or Category.OTHER.value,
            ),
            optional=False,
        ),
        _input("amount", label("amount"), _text_input(fields.get("amount"))),
        _input("currency", label("currency"), _text_input(fields.get("currency"))),
        _input("period_start", label("period_start"), _datepicker(fields.get("period_start"))),
        _input("period_end", label("period_end"), _datepicker(fields.get("period_end"))),
    ]
    if kind is EntryKind.OFFER:
        blocks.append(_input("focus", label("focus"), _text_input(fields.get("focus"))))
    blocks.append(
        _input(
            "visibility",
            label("visibility"),
            _select(
                [_option(t.gettext(text), v.value) for v, text in VISIBILITY_LABELS.items()],
                fields.get("visibility") or Visibility.STATES_PARTIES.value,
            ),
            optional=False,
        )
    )
    if kind is EntryKind.NEED:
        title = t.gettext("Assistance needed")
    else:
        title = t.gettext("Assistance offered")
    callback = ids.NEED_MODAL if kind is EntryKind.NEED else ids.OFFER_MODAL
    return _modal(t, callback, title, context, blocks)


def report_date_modal(t: Translator, context: ModalContext, initial: str) -> Block:
    """Ask only for the day the report was sent (the rest is in the proposal)."""
    label = t.gettext("Date of submission")
    blocks = [_input(ids.DATE_BLOCK, label, _datepicker(initial), optional=False)]
    return _modal(t, ids.REPORT_DATE_MODAL, label, context, blocks)


def not_me_modal(t: Translator, context: ModalContext) -> Block:
    """Hand the reminders to a colleague, or (left empty) to the ISU."""
    element = _text_input(None)
    element["placeholder"] = plain(t.gettext("colleague@ministry.gov"), 150)
    blocks = [
        _input(
            ids.EMAIL_BLOCK,
            t.gettext("Your colleague's email address"),
            element,
            hint=t.gettext("Leave it empty and the ISU will find the right person."),
        )
    ]
    return _modal(t, ids.NOT_ME_MODAL, t.gettext("Someone else"), context, blocks)


# --- the State at a glance -------------------------------------------------------------------


def _due_line(t: Translator, item: ReminderItem, overview: Overview) -> str:
    when = t.gettext(
        "Deadline: {date} ({timing})",
        date=t.date(item.due),
        timing=timing(t, item, overview.today),
    )
    return f"• {_bold(item_title(t, item))} — {escape(when)}"


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
        blocks.append(_section("\n".join([_bold(t.gettext("Upcoming deadlines")), *due])))
        reports = [
            f"• {escape(item_title(t, _report_item(r.item)))} — "
            + escape(t.gettext("submitted on {date}", date=t.date(r.submitted_on)))
            for r in overview.reports
        ] or [escape(t.gettext("No report recorded yet."))]
        blocks.append(_section("\n".join([_bold(t.gettext("Reports received")), *reports])))
    else:
        blocks.append(
            _section(
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
    heading = _bold(t.gettext("Open needs and offers"))
    if not entries:
        heading += "\n" + escape(t.gettext("No open needs or offers."))
    blocks.append(_section(heading))
    shown = entries[page * ENTRIES_PER_PAGE : (page + 1) * ENTRIES_PER_PAGE]
    for entry in shown:
        kind = escape(t.gettext(KIND_LABELS[entry.kind]))
        status = escape(t.gettext(STATUS_LABELS[entry.status]))
        description = clip(escape(entry.description), DESCRIPTION_PREVIEW)
        blocks.append(_section(f"{_bold(entry.reference)} · {kind} · {status}\n{description}"))
    if pages > 1 and pager:
        blocks.append(
            _context(escape(t.gettext("Page {page} of {pages}", page=page + 1, pages=pages)))
        )
        buttons: list[Block] = []
        if page > 0:
            buttons.append(_page_button(ids.HOME_PREVIOUS_ACTION, t.gettext("Previous"), page - 1))
        if page < pages - 1:
            buttons.append(_page_button(ids.HOME_NEXT_ACTION, t.gettext("Next"), page + 1))
        blocks.append({"type": "actions", "block_id": ids.HOME_PAGER_BLOCK, "elements": buttons})
    elif len(entries) > len(shown):
        more = len(entries) - len(shown)
        blocks.append(_context(escape(t.ngettext("…and {count} more", "…and {count} more", more))))
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
