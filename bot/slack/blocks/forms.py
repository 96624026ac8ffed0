"""Modals: the need or offer form with every field, the report's date of submission, and
"someone else" handing the reminders to a colleague.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.slack import ids
from bot.slack.blocks.text import (
    MAX_FIELD_TEXT,
    MAX_OPTION_TEXT,
    MAX_VIEW_BLOCKS,
    MAX_VIEW_TITLE,
    Block,
    context_block,
    escape,
    plain,
)
from bot.slack.payloads import ModalContext
from handlers.entry_form import (
    ARTICLE_LABELS,
    CATEGORY_LABELS,
    FIELD_LABELS,
    MAX_DESCRIPTION,
    VISIBILITY_LABELS,
)
from handlers.i18n import Translator
from storage.models import Category, EntryKind, Visibility


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

    blocks: list[Block] = [context_block(escape(intro))] if intro else []
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
