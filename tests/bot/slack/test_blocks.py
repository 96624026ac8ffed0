"""Block Kit builders and payload parsing: pure functions, checked against Slack's own limits
(the fake's validators are the ones that refuse what Slack refuses)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.slack import ids
from bot.slack.blocks.forms import entry_modal, not_me_modal, report_date_modal
from bot.slack.blocks.home import home_view, overview_blocks
from bot.slack.blocks.replies import reply_blocks, settled_blocks
from bot.slack.blocks.text import MAX_MESSAGE_BLOCKS, clip, escape
from bot.slack.payloads import Click, Command, DirectMessage, ModalContext, Posted, Submission
from handlers.i18n import translator
from handlers.overview import OpenEntry, Overview
from handlers.replies import Choice, Reply, Section
from handlers.understanding.keywords import Intent
from schedules.dispatch import ReminderItem
from storage.models import EntryKind, EntryStatus
from tests.fakes.slack_api import validate_blocks, validate_view


def valid_message(blocks: list[dict[str, Any]]) -> list[str]:
    return validate_blocks(blocks, pointer="/blocks", max_blocks=MAX_MESSAGE_BLOCKS)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<http://evil.example|Click here>", "&lt;http://evil.example|Click here&gt;"),
        ("<@U0ADMIN> & co", "&lt;@U0ADMIN&gt; &amp; co"),
        ("&lt; already escaped", "&amp;lt; already escaped"),
        (
            "*bold* _it_ ~s~ `code`",
            "*\u200bbold*\u200b _\u200bit_\u200b ~\u200bs~\u200b `\u200bcode`\u200b",
        ),
    ],
)
def test_escape_leaves_no_mention_or_link(typed: str, shown: str) -> None:
    assert escape(typed) == shown


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("a sentence that is too long", 12, "a sentence…"),
        ("fish &amp; chips", 9, "fish…"),  # never half an entity
        ("fish &amp; chips", 12, "fish &amp;…"),
    ],
)
def test_clip_ends_long_texts_gracefully(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected
    assert len(clip(text, limit)) <= limit


def test_long_reply_keeps_within_slack_limits_and_keeps_its_answers() -> None:
    reply = Reply(
        "en",
        "A long reply",
        "x" * 5000,
        sections=tuple(Section(f"Item {i}", ("line",)) for i in range(80)),
        fields=tuple((f"Label {i}", "short") for i in range(12)),
        choices=(Choice(Intent.CONFIRM, "Confirm", "CONFIRM", "12"),),
        footer="The footer",
    )
    blocks = reply_blocks(reply)
    assert len(blocks) == MAX_MESSAGE_BLOCKS
    assert blocks[1]["text"]["text"].endswith("…")
    assert len(blocks[1]["text"]["text"]) <= 3000
    assert blocks[-2]["block_id"] == ids.ANSWERS_BLOCK  # the answers survive the cut
    assert blocks[-3]["elements"][0]["text"].startswith("…and ")
    assert valid_message(blocks) == []


def test_fields_go_in_columns_of_ten_and_long_ones_full_width() -> None:
    fields = (("Description", "d" * 500), *((f"Field {i}", "v") for i in range(12)))
    blocks = reply_blocks(Reply("en", "Subject", "", fields=fields))
    assert "text" in blocks[1]  # the long description: full width
    assert [len(b["fields"]) for b in blocks[2:]] == [10, 2]
    assert valid_message(blocks) == []


def test_a_button_value_over_slacks_limit_is_a_bug_not_a_cut() -> None:
    reply = Reply("en", "S", "i", choices=(Choice(Intent.STOP, "Stop", "STOP", "x" * 2001),))
    with pytest.raises(ValueError, match="2000"):
        reply_blocks(reply)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
@pytest.mark.parametrize("kind", [EntryKind.NEED, EntryKind.OFFER])
def test_entry_modal_is_a_valid_view_in_every_language(language: str, kind: EntryKind) -> None:
    t = translator(language)
    fields = {
        "description": "d" * 4000,
        "article": "5",
        "category": "victim_assistance",
        "amount": "1000",
        "currency": "EUR",
        "period_start": "2027-01-01",
        "visibility": "public",
    }
    view = entry_modal(t, kind, fields, ModalContext(about="FRA:art7-annual-2026"), intro="<b>")
    assert validate_view(view) == []
    by_block = {b.get("block_id"): b for b in view["blocks"]}
    assert by_block["article"]["element"]["initial_option"]["value"] == "5"
    assert by_block["visibility"]["element"]["initial_option"]["value"] == "public"
    assert len(by_block["description"]["element"]["initial_value"]) == 3000
    assert ("focus" in by_block) is (kind is EntryKind.OFFER)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_small_modals_are_valid_views(language: str) -> None:
    t = translator(language)
    context = ModalContext(about="IRL:art7-initial", channel_id="D1", thread_ts="1.2")
    assert validate_view(report_date_modal(t, context, "2027-04-01")) == []
    assert validate_view(not_me_modal(t, context)) == []


def overview(entries: int) -> Overview:
    return Overview(
        state_name="Ireland",
        today=date(2027, 4, 20),
        due=(ReminderItem("IRL", "Ireland", "art7-annual-2026", "", date(2027, 4, 30), None),),
        reports=(),
        entries=tuple(
            OpenEntry(f"N-2027-{i:04d}", EntryKind.NEED, EntryStatus.OPEN, "<!here> " * 100)
            for i in range(1, entries + 1)
        ),
    )


def test_home_pages_through_many_entries() -> None:
    t = translator("en")
    first = overview_blocks(t, overview(25), page=0, pager=True)
    middle = overview_blocks(t, overview(25), page=1, pager=True)
    beyond = overview_blocks(t, overview(25), page=9, pager=True)

    def pager(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [(e["action_id"], e["value"]) for e in blocks[-1]["elements"]]

    assert pager(first) == [(ids.HOME_NEXT_ACTION, "1")]
    assert pager(middle) == [(ids.HOME_PREVIOUS_ACTION, "0"), (ids.HOME_NEXT_ACTION, "2")]
    assert pager(beyond) == [(ids.HOME_PREVIOUS_ACTION, "1")]  # the last page
    for blocks in (first, middle, beyond):
        assert validate_view(home_view(blocks)) == []
    assert "<!here>" not in json.dumps(first)


def test_overview_in_a_message_says_how_many_more() -> None:
    blocks = overview_blocks(translator("en"), overview(12))
    assert blocks[-1]["elements"][0]["text"] == "…and 2 more"
    assert valid_message(blocks) == []


def test_modal_context_travels_as_small_json() -> None:
    context = ModalContext(about="FRA:art4", reference="N-2027-0001", channel_id="D1", draft="7")
    assert ModalContext.from_json(context.to_json()) == context
    assert ModalContext.from_json("not json") == ModalContext()
    assert ModalContext.from_json('["a list"]') == ModalContext()
    with pytest.raises(ValueError, match="3000"):
        ModalContext(about="x" * 3000).to_json()


@pytest.mark.parametrize(
    ("event", "parsed"),
    [
        ({"type": "message", "channel_type": "im", "user": "U1", "text": "hi", "ts": "1.1"}, True),
        ({"channel_type": "im", "user": "U1", "text": "hi", "ts": "1.1", "bot_id": "B1"}, False),
        (
            {"channel_type": "im", "subtype": "message_changed", "ts": "1.1", "message": {}},
            False,
        ),
        ({"channel_type": "im", "subtype": "channel_join", "user": "U1", "ts": "1.1"}, False),
        ({"channel_type": "channel", "user": "U1", "text": "hi", "ts": "1.1"}, False),
        ({"channel_type": "im", "user": "U1", "text": "  ", "ts": "1.1"}, False),
    ],
)
def test_only_a_persons_own_dm_text_is_answered(event: dict[str, Any], parsed: bool) -> None:
    assert (DirectMessage.parse(event) is not None) is parsed


def test_thread_of_a_message() -> None:
    base = {"channel_type": "im", "user": "U1", "text": "hi", "channel": "D1"}
    reply = DirectMessage.parse({**base, "ts": "2.0", "thread_ts": "1.0"})
    parent = DirectMessage.parse({**base, "ts": "1.0", "thread_ts": "1.0"})
    assert reply is not None
    assert reply.thread_ts == "1.0"
    assert parent is not None
    assert parent.thread_ts is None


def test_payloads_parse_what_matters() -> None:
    command = Command.parse({"user_id": "U1", "text": "  Report SUBMITTED 2026 "})
    assert command.words == ("report", "submitted", "2026")
    assert Command.parse({"user_id": "U1", "text": ""}).subcommand == "help"

    click = Click.parse(
        {
            "user": {"id": "U1"},
            "trigger_id": "t",
            "channel": {"id": "D1"},
            "message": {"ts": "5.0", "thread_ts": "1.0"},
            "actions": [{"action_id": ids.ANSWER_ACTIONS[Intent.CONFIRM], "value": "12"}],
        }
    )
    assert (click.intent, click.value, click.thread_ts) == (Intent.CONFIRM, "12", "1.0")

    submission = Submission.parse(
        {
            "user": {"id": "U1"},
            "view": {
                "callback_id": ids.NEED_MODAL,
                "private_metadata": ModalContext(about="FRA:art4").to_json(),
                "state": {
                    "values": {
                        "description": {"value": {"type": "plain_text_input", "value": " x "}},
                        "article": {"value": {"type": "static_select", "selected_option": None}},
                        "period_end": {"value": {"type": "datepicker", "selected_date": None}},
                    }
                },
            },
        }
    )
    assert submission.values == {"description": "x", "article": "", "period_end": ""}
    assert submission.context.about == "FRA:art4"


def test_settling_replaces_only_the_answer_buttons_in_place() -> None:
    reply = Reply(
        "en",
        "Please confirm",
        "I will record <this>.",
        choices=(Choice(Intent.CONFIRM, "Confirm", "CONFIRM", "7"),),
        footer="Nothing is recorded until you confirm.",
    )
    blocks = reply_blocks(reply)

    settled = settled_blocks(blocks, "✓ Confirmed by Ana <Pérez>, 20 April 2027, 08:00")

    assert settled is not None
    assert [b["type"] for b in settled] == ["header", "section", "context", "context"]
    assert settled[2]["block_id"] == ids.SETTLED_BLOCK
    assert settled[2]["elements"][0]["text"] == (
        "✓ Confirmed by Ana &lt;Pérez&gt;, 20 April 2027, 08:00"  # a name is text, not mrkdwn
    )
    assert [settled[i] for i in (0, 1, 3)] == [blocks[i] for i in (0, 1, 3)]
    assert valid_message(settled) == []
    assert settled_blocks(settled, "✓ Withdrawn by Ana") is None  # settled once, not twice
    assert settled_blocks(reply_blocks(replace(reply, choices=())), "✓ …") is None


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (
            {"channel": {"id": "D1"}, "message": {"ts": "5.0", "text": "t", "blocks": []}},
            Posted("D1", "5.0", "t", ()),
        ),
        (
            {"container": {"channel_id": "D1"}, "message": {"ts": "5.0", "blocks": [{}]}},
            Posted("D1", "5.0", "", ({},)),
        ),
        # An ephemeral message comes without "message": there is nothing chat.update can change.
        ({"channel": {"id": "D1"}, "container": {"is_ephemeral": True, "message_ts": "5.0"}}, None),
        ({"message": {"ts": "5.0", "blocks": []}}, None),
        ({"channel": {"id": "D1"}, "message": {"ts": "5.0"}}, None),
    ],
)
def test_the_message_a_button_was_pressed_on(body: dict[str, Any], found: Posted | None) -> None:
    assert Posted.clicked(body) == found


def _reminder(metadata: Any) -> dict[str, Any]:
    return {"ts": "5.0", "blocks": [], "metadata": metadata}


@pytest.mark.parametrize(
    ("message", "items"),
    [
        (
            _reminder({"event_type": ids.REMINDER_EVENT, "event_payload": {"items": ["IRL:art3"]}}),
            ("IRL:art3",),
        ),
        (
            _reminder(
                {
                    "event_type": ids.REMINDER_EVENT,
                    "event_payload": {"items": ["IRL:art7-annual-2026", "IRL:art3"]},
                }
            ),
            ("IRL:art7-annual-2026", "IRL:art3"),
        ),
        # Someone else's metadata, none (read without include_all_metadata), or garbage.
        (_reminder({"event_type": "other", "event_payload": {"items": ["IRL:art3"]}}), ()),
        ({"ts": "5.0", "blocks": []}, ()),
        (_reminder("not an object"), ()),
        (_reminder({"event_type": ids.REMINDER_EVENT, "event_payload": {"items": [7, ""]}}), ()),
    ],
)
def test_a_message_read_back_says_which_reminder_items_it_is_about(
    message: dict[str, Any], items: tuple[str, ...]
) -> None:
    posted = Posted.parse("D1", message)
    assert posted is not None
    assert posted.items == items


def test_a_modal_remembers_the_answer_that_opened_it() -> None:
    context = ModalContext(channel_id="D1", message_ts="5.0", answer=Intent.NOT_ME.value)
    assert ModalContext.from_json(context.to_json()).answered is Intent.NOT_ME
    assert ModalContext(answer="no such answer").answered is None
    assert ModalContext().answered is None
