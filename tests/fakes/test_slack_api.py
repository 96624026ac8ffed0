"""The fake Slack Web API answers the real slack-sdk client the way Slack does."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import APP_TOKEN, BOT_ID, BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlack
from tests.fakes.waiting import WAIT

pytest_plugins = ["tests.fakes.fixtures"]  # fake_slack, slack_client

ANA = "U0ANA0001"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str, action_id: str = "snooze") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id}


def modal(title: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "need",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": blocks if blocks is not None else [section("Which need?")],
    }


async def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


# --- authentication --------------------------------------------------------------------------


async def test_auth_test_answers_with_the_bot_identity(slack_client: AsyncWebClient) -> None:
    response = await slack_client.auth_test()

    assert response["ok"] is True
    assert response["team_id"] == TEAM_ID
    assert response["user_id"] == BOT_USER_ID
    assert response["bot_id"] == BOT_ID
    assert response["url"].endswith("/")


@pytest.mark.parametrize(
    ("token", "error"),
    [("xoxb-wrong", "invalid_auth"), (None, "not_authed"), (APP_TOKEN, "not_allowed_token_type")],
)
async def test_bad_token_is_refused(fake_slack: FakeSlack, token: str | None, error: str) -> None:
    client = AsyncWebClient(token=token, base_url=fake_slack.url)

    failure = await slack_error(client.auth_test())

    assert failure.response.status_code == 200
    assert failure.response["error"] == error


async def test_token_is_accepted_as_a_form_field(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(token=None, base_url=fake_slack.url)
    blocks = '[{"type": "section", "text": {"type": "mrkdwn", "text": "*due*"}}]'

    response = await client.api_call(
        "chat.postMessage",
        data={"token": BOT_TOKEN, "channel": "C0GENERAL", "text": "due", "blocks": blocks},
    )

    assert response["ok"] is True
    assert fake_slack.calls_to("chat.postMessage")[0]["blocks"][0]["type"] == "section"
    assert "token" not in fake_slack.calls_to("chat.postMessage")[0]


async def test_app_token_opens_socket_mode_connections_and_bot_token_does_not(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    opened = await slack_client.apps_connections_open(app_token=APP_TOKEN)
    refused = await slack_error(slack_client.apps_connections_open(app_token=BOT_TOKEN))

    assert opened["url"].startswith("ws://127.0.0.1:")
    assert refused.response["error"] == "not_allowed_token_type"


async def test_unknown_method_is_reported(slack_client: AsyncWebClient) -> None:
    failure = await slack_error(slack_client.api_call("chat.postMesage"))

    assert failure.response["error"] == "unknown_method"


# --- faults ------------------------------------------------------------------------------------


async def test_rate_limit_is_retried_by_slack_sdk_handler(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    # Retry-After: 0 keeps the test fast; the handler still sleeps its random jitter (< 1 s).
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    slack_client.retry_handlers.append(AsyncRateLimitErrorRetryHandler())

    response = await slack_client.chat_postMessage(channel="C0GENERAL", text="hello")

    assert response["ok"] is True
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert [m["text"] for m in fake_slack.messages("C0GENERAL")] == ["hello"]


async def test_rate_limit_without_handler_raises_with_retry_after(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=2)

    failure = await slack_error(slack_client.chat_postMessage(channel="C0GENERAL", text="hi"))

    assert failure.response.status_code == 429
    assert failure.response["error"] == "ratelimited"
    assert failure.response.headers["Retry-After"] == "2"
    assert fake_slack.messages("C0GENERAL") == []


@pytest.mark.parametrize("status", [500, 503])
async def test_server_error_raises(
    fake_slack: FakeSlack, slack_client: AsyncWebClient, status: int
) -> None:
    fake_slack.fail_next("users.info", status=status)

    failure = await slack_error(slack_client.users_info(user=BOT_USER_ID))

    assert failure.response.status_code == status


async def test_failures_are_consumed_one_call_at_a_time(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.fail_next("auth.test", status=200, error="account_inactive", times=2)

    errors = [(await slack_error(slack_client.auth_test())).response["error"] for _ in range(2)]
    third = await slack_client.auth_test()

    assert errors == ["account_inactive", "account_inactive"]
    assert third["ok"] is True


async def test_dropped_connection_raises_without_retry_handler(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url, retry_handlers=[])
    fake_slack.drop_next("chat.postMessage")

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.chat_postMessage(channel="C0GENERAL", text="lost")

    assert fake_slack.messages("C0GENERAL") == []


async def test_dropped_connection_is_retried_by_connection_error_handler(
    fake_slack: FakeSlack,
) -> None:
    retry = AsyncConnectionErrorRetryHandler(
        interval_calculator=FixedValueRetryIntervalCalculator(fixed_internal=0)
    )
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url, retry_handlers=[retry])
    fake_slack.drop_next("chat.postMessage")

    response = await client.chat_postMessage(channel="C0GENERAL", text="again")

    assert response["ok"] is True
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert [m["text"] for m in fake_slack.messages("C0GENERAL")] == ["again"]


# --- Block Kit validation --------------------------------------------------------------------


async def test_valid_blocks_at_slack_limits_are_accepted(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        section("s" * 3000),
        {"type": "actions", "elements": [button("b" * 75, action_id="a" * 255)]},
        *[{"type": "divider"}] * 47,
    ]

    response = await slack_client.chat_postMessage(channel="C0GENERAL", text="t", blocks=blocks)

    assert response["message"]["blocks"] == blocks
    assert fake_slack.invalid_payloads == []


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        (
            [section("s" * 3001)],
            "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            [{"type": "divider"}] * 51,
            "no more than 50 items allowed [json-pointer:/blocks]",
        ),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            [{"type": "actions", "elements": [button("b" * 76)]}],
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            [{"type": "actions", "elements": [button("ok", action_id="a" * 256)]}],
            "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
        ),
        (
            [{**section("Due"), "colour": "red"}],
            "invalid additional property: colour [json-pointer:/blocks/0]",
        ),
        (
            [{"type": "section", "text": "a bare string"}],
            "must provide an object [json-pointer:/blocks/0/text]",
        ),
        (
            [{"type": "context", "elements": []}],
            "must provide at least 1 item [json-pointer:/blocks/0/elements]",
        ),
        (
            [{"type": "sectoin", "text": {"type": "mrkdwn", "text": "x"}}],
            "unsupported type: sectoin [json-pointer:/blocks/0/type]",
        ),
    ],
    ids=[
        "section-text",
        "51-blocks",
        "header",
        "button-text",
        "action-id",
        "unknown-property",
        "bare-string",
        "empty-elements",
        "unknown-type",
    ],
)
async def test_invalid_blocks_are_rejected_like_slack(
    fake_slack: FakeSlack, slack_client: AsyncWebClient, blocks: list[Any], expected: str
) -> None:
    failure = await slack_error(
        slack_client.chat_postMessage(channel="C0GENERAL", text="t", blocks=blocks)
    )

    assert failure.response["error"] == "invalid_blocks"
    assert failure.response["errors"] == [expected]
    assert failure.response["response_metadata"]["messages"] == [f"[ERROR] {expected}"]
    assert [p.method for p in fake_slack.invalid_payloads] == ["chat.postMessage"]
    assert fake_slack.messages("C0GENERAL") == []


async def test_update_and_ephemeral_validate_blocks_too(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana")
    posted = await slack_client.chat_postMessage(channel="C0GENERAL", text="v1")
    too_long = [section("s" * 3001)]

    update = await slack_error(
        slack_client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="t", blocks=too_long)
    )
    ephemeral = await slack_error(
        slack_client.chat_postEphemeral(channel="C0GENERAL", user=ANA, text="t", blocks=too_long)
    )

    assert update.response["error"] == ephemeral.response["error"] == "invalid_blocks"
    assert [p.method for p in fake_slack.invalid_payloads] == ["chat.update", "chat.postEphemeral"]


async def test_message_without_text_or_blocks_is_refused(slack_client: AsyncWebClient) -> None:
    # Through api_call: chat_postMessage itself warns about the missing text first.
    failure = await slack_error(
        slack_client.api_call("chat.postMessage", json={"channel": "C0GENERAL"})
    )

    assert failure.response["error"] == "no_text"


# --- messages --------------------------------------------------------------------------------


async def test_message_timestamps_are_unique_and_increasing(slack_client: AsyncWebClient) -> None:
    stamps = [
        (await slack_client.chat_postMessage(channel="C0GENERAL", text=str(i)))["ts"]
        for i in range(3)
    ]

    assert len(set(stamps)) == 3
    assert stamps == sorted(stamps, key=float)
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


async def test_chat_update_replaces_the_message(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    posted = await slack_client.chat_postMessage(channel="C0GENERAL", text="Report due")

    updated = await slack_client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="Done")
    missing = await slack_error(slack_client.chat_update(channel="C0GENERAL", ts="1.2", text="x"))

    assert updated["ts"] == posted["ts"]
    assert [m["text"] for m in fake_slack.messages("C0GENERAL")] == ["Done"]
    assert missing.response["error"] == "message_not_found"


async def test_chat_update_answers_with_slacks_shape_and_keeps_what_it_is_not_given(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    metadata = {"event_type": "reminder_sent", "event_payload": {"report_id": 42}}
    posted = await slack_client.chat_postMessage(
        channel="C0GENERAL", text="Due", blocks=[section("Due")], metadata=metadata
    )

    updated = await slack_client.chat_update(
        channel="C0GENERAL", ts=posted["ts"], text="Done", blocks=[section("Done")]
    )
    (kept,) = fake_slack.messages("C0GENERAL")
    await slack_client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="x", metadata={})
    (dropped,) = fake_slack.messages("C0GENERAL")

    assert (updated["ok"], updated["channel"], updated["ts"]) == (True, "C0GENERAL", posted["ts"])
    assert updated["text"] == "Done"
    assert updated["message"]["blocks"] == [section("Done")]
    assert updated["message"]["bot_id"] == BOT_ID
    assert kept["metadata"] == metadata  # left out of the update: kept
    assert "metadata" not in dropped  # {} removes it
    assert "blocks" not in dropped  # text without blocks replaces them


async def test_chat_update_refuses_what_slack_refuses(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana")
    posted = await slack_client.chat_postMessage(channel=ANA, text="Please confirm")
    dm = fake_slack.dm_channel(ANA)
    theirs = fake_slack.post_as_user(ANA, ANA, "We submitted it")
    stranger = AsyncWebClient(token="xoxb-wrong", base_url=fake_slack.url)

    by_user_id = await slack_error(slack_client.chat_update(channel=ANA, ts=posted["ts"], text="x"))
    not_ours = await slack_error(slack_client.chat_update(channel=dm, ts=theirs, text="x"))
    gone = await slack_error(slack_client.chat_update(channel=dm, ts="1700000000.9", text="x"))
    unauthed = await slack_error(stranger.chat_update(channel=dm, ts=posted["ts"], text="x"))

    assert by_user_id.response["error"] == "channel_not_found"  # a DM by its D… id only
    assert not_ours.response["error"] == "cant_update_message"
    assert gone.response["error"] == "message_not_found"
    assert unauthed.response["error"] == "invalid_auth"
    assert [m["text"] for m in fake_slack.messages(ANA)] == ["Please confirm", "We submitted it"]


async def test_replies_put_the_parent_first_then_the_replies_in_range(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    metadata = {"event_type": "reminder_sent", "event_payload": {"report_id": 42}}
    parent = await slack_client.chat_postMessage(channel="C0GENERAL", text="p", metadata=metadata)
    stamps = []
    for text in ("r0", "r1", "r2"):
        reply = await slack_client.chat_postMessage(
            channel="C0GENERAL", text=text, thread_ts=parent["ts"]
        )
        stamps.append(reply["ts"])

    thread = await slack_client.conversations_replies(channel="C0GENERAL", ts=parent["ts"])
    one = await slack_client.conversations_replies(
        channel="C0GENERAL",
        ts=parent["ts"],
        oldest=stamps[1],
        latest=stamps[1],
        inclusive=True,
        include_all_metadata=True,
    )
    missing = await slack_error(
        slack_client.conversations_replies(channel="C0GENERAL", ts="1700000000.9")
    )

    assert [m["text"] for m in thread["messages"]] == ["p", "r0", "r1", "r2"]
    assert thread["messages"][0]["reply_count"] == 3
    assert "metadata" not in thread["messages"][0]
    assert [m["ts"] for m in one["messages"]] == [parent["ts"], stamps[1]]
    assert one["messages"][0]["metadata"] == metadata
    assert missing.response["error"] == "thread_not_found"


async def test_ephemeral_message_returns_message_ts(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana")

    response = await slack_client.chat_postEphemeral(channel="C0GENERAL", user=ANA, text="psst")

    assert response["message_ts"] == fake_slack.ephemeral_messages[0]["ts"]
    assert fake_slack.ephemeral_messages[0]["user"] == ANA
    assert fake_slack.messages("C0GENERAL") == []


async def test_metadata_round_trips_through_history_only_when_asked(
    slack_client: AsyncWebClient,
) -> None:
    metadata = {"event_type": "reminder_sent", "event_payload": {"report_id": 42}}
    await slack_client.chat_postMessage(channel="C0GENERAL", text="Due", metadata=metadata)

    plain = await slack_client.conversations_history(channel="C0GENERAL")
    full = await slack_client.conversations_history(channel="C0GENERAL", include_all_metadata=True)

    assert "metadata" not in plain["messages"][0]
    assert full["messages"][0]["metadata"] == metadata


async def test_malformed_metadata_is_refused(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    failure = await slack_error(
        slack_client.chat_postMessage(channel="C0GENERAL", text="x", metadata={"event_type": "e"})
    )

    assert failure.response["error"] == "invalid_metadata_schema"
    assert len(fake_slack.invalid_payloads) == 1


async def test_history_is_newest_first_and_honours_range_and_limit(
    slack_client: AsyncWebClient,
) -> None:
    stamps = [
        (await slack_client.chat_postMessage(channel="C0GENERAL", text=f"m{i}"))["ts"]
        for i in range(5)
    ]

    everything = await slack_client.conversations_history(channel="C0GENERAL")
    middle = await slack_client.conversations_history(
        channel="C0GENERAL", oldest=stamps[0], latest=stamps[4]
    )
    inclusive = await slack_client.conversations_history(
        channel="C0GENERAL", oldest=stamps[0], latest=stamps[4], inclusive=True
    )
    first_page = await slack_client.conversations_history(channel="C0GENERAL", limit=2)
    next_page = await slack_client.conversations_history(
        channel="C0GENERAL", limit=2, cursor=first_page["response_metadata"]["next_cursor"]
    )

    def texts(response: Any) -> list[str]:
        return [m["text"] for m in response["messages"]]

    assert texts(everything) == ["m4", "m3", "m2", "m1", "m0"]
    assert texts(middle) == ["m3", "m2", "m1"]
    assert texts(inclusive) == ["m4", "m3", "m2", "m1", "m0"]
    assert (texts(first_page), first_page["has_more"]) == (["m4", "m3"], True)
    assert texts(next_page) == ["m2", "m1"]


# --- users and DMs ---------------------------------------------------------------------------


async def test_users_info_returns_slack_user_shape(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana", real_name="Ana Gómez", locale="es-ES")

    without_locale = await slack_client.users_info(user=ANA)
    with_locale = await slack_client.users_info(user=ANA, include_locale=True)
    unknown = await slack_error(slack_client.users_info(user="U0NOBODY"))

    user = with_locale["user"]
    assert (user["id"], user["name"], user["deleted"], user["tz"]) == (
        ANA,
        "ana",
        False,
        "Europe/Zurich",
    )
    assert user["profile"]["email"] == "ana@example.org"
    assert user["profile"]["real_name"] == "Ana Gómez"
    assert user["locale"] == "es-ES"
    assert "locale" not in without_locale["user"]
    assert unknown.response["error"] == "user_not_found"


async def test_lookup_by_email_skips_deactivated_users(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "Ana@Example.org", "ana")
    fake_slack.add_user("U0GONE001", "gone@example.org", "gone", deleted=True)

    found = await slack_client.users_lookupByEmail(email="ana@example.org")
    gone = await slack_error(slack_client.users_lookupByEmail(email="gone@example.org"))

    assert found["user"]["id"] == ANA
    assert gone.response["error"] == "users_not_found"


async def test_conversations_open_returns_a_stable_dm(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana")

    first = await slack_client.conversations_open(users=ANA)
    second = await slack_client.conversations_open(users=[ANA])
    await slack_client.chat_postMessage(channel=first["channel"]["id"], text="hello")

    assert first["channel"]["id"].startswith("D")
    assert second["channel"]["id"] == first["channel"]["id"]
    assert second["already_open"] is True
    assert fake_slack.messages(ANA)[0]["text"] == "hello"


async def test_posting_to_a_user_id_lands_in_their_dm(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana")

    response = await slack_client.chat_postMessage(channel=ANA, text="hello")

    assert response["channel"] == fake_slack.dm_channel(ANA)


@pytest.mark.parametrize(
    ("user_id", "error"), [("U0NOBODY", "user_not_found"), (BOT_USER_ID, "cannot_dm_bot")]
)
async def test_conversations_open_refuses_unknown_users_and_the_bot(
    slack_client: AsyncWebClient, user_id: str, error: str
) -> None:
    failure = await slack_error(slack_client.conversations_open(users=user_id))

    assert failure.response["error"] == error


async def test_deactivated_user_cannot_be_opened_but_old_dm_still_accepts_posts(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana")
    dm = (await slack_client.conversations_open(users=ANA))["channel"]["id"]
    fake_slack.deactivate_user(ANA)

    reopen = await slack_error(slack_client.conversations_open(users=ANA))
    posted = await slack_client.chat_postMessage(channel=dm, text="still delivered")

    assert reopen.response["error"] == "user_disabled"
    assert posted["ok"] is True


async def test_deactivated_user_dm_error_is_configurable(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana")
    dm = (await slack_client.conversations_open(users=ANA))["channel"]["id"]
    fake_slack.deactivate_user(ANA, dm_error="user_disabled")

    failure = await slack_error(slack_client.chat_postMessage(channel=dm, text="lost"))

    assert failure.response["error"] == "user_disabled"
    assert fake_slack.messages(dm) == []


# --- views -----------------------------------------------------------------------------------


async def test_views_open_then_update_with_hash(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    opened = await slack_client.views_open(trigger_id="123.456.abc", view=modal("Offer help"))
    view = opened["view"]

    updated = await slack_client.views_update(
        view_id=view["id"], hash=view["hash"], view=modal("Offer help", [section("Thanks")])
    )
    stale = await slack_error(
        slack_client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Again"))
    )

    assert view["id"].startswith("V")
    assert view["title"]["text"] == "Offer help"
    assert view["state"] == {"values": {}}
    assert updated["view"]["id"] == view["id"]
    assert updated["view"]["blocks"] == [section("Thanks")]
    assert stale.response["error"] == "hash_conflict"
    assert fake_slack.invalid_payloads == []


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (modal("t" * 25), "must be less than 25 characters [json-pointer:/view/title/text]"),
        (
            modal("Need", [{"type": "divider"}] * 101),
            "no more than 100 items allowed [json-pointer:/view/blocks]",
        ),
        (
            {**modal("Need"), "callbak_id": "x"},
            "invalid additional property: callbak_id [json-pointer:/view]",
        ),
    ],
    ids=["title-25", "101-blocks", "unknown-property"],
)
async def test_invalid_view_is_rejected_like_slack(
    fake_slack: FakeSlack, slack_client: AsyncWebClient, view: dict[str, Any], expected: str
) -> None:
    failure = await slack_error(slack_client.views_open(trigger_id="1.2.3", view=view))

    # Slack answers views.* with invalid_arguments, the detail only in response_metadata.
    assert failure.response["error"] == "invalid_arguments"
    assert failure.response["response_metadata"]["messages"] == [f"[ERROR] {expected}"]
    assert [p.method for p in fake_slack.invalid_payloads] == ["views.open"]


async def test_modal_title_of_24_characters_is_accepted(slack_client: AsyncWebClient) -> None:
    response = await slack_client.views_open(trigger_id="1.2.3", view=modal("t" * 24))

    assert response["ok"] is True


async def test_views_publish_keeps_one_home_view_per_user(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana")
    home = {"type": "home", "blocks": [section("Your reports")]}

    first = await slack_client.views_publish(user_id=ANA, view=home)
    second = await slack_client.views_publish(user_id=ANA, view=home)

    assert second["view"]["id"] == first["view"]["id"]
    assert fake_slack.home_views[ANA]["blocks"] == [section("Your reports")]


# --- files -----------------------------------------------------------------------------------


async def test_files_upload_v2_runs_the_three_step_flow(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    response = await slack_client.files_upload_v2(
        channel="C0GENERAL", content="a,b\n1,2\n", filename="needs.csv", title="Needs"
    )

    file_id = response["file"]["id"]
    assert response["files"] == [response["file"]]
    assert response["file"]["title"] == "Needs"
    assert fake_slack.files[file_id].content == b"a,b\n1,2\n"
    assert fake_slack.files[file_id].filename == "needs.csv"
    assert fake_slack.calls_to("files.getUploadURLExternal")[0]["length"] == "8"
    assert fake_slack.messages("C0GENERAL")[0]["files"][0]["id"] == file_id


async def test_completing_an_upload_that_never_happened_fails(
    slack_client: AsyncWebClient,
) -> None:
    issued = await slack_client.files_getUploadURLExternal(filename="x.csv", length=3)

    failure = await slack_error(
        slack_client.files_completeUploadExternal(files=[{"id": issued["file_id"], "title": "x"}])
    )

    assert failure.response["error"] == "file_not_found"


# --- waiting for what the bot posts ------------------------------------------------------------


async def test_a_waiting_test_wakes_on_the_message_it_waits_for_and_no_other(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana")
    waiting = asyncio.create_task(fake_slack.message(ANA, "Report recorded"))
    await slack_client.chat_postMessage(channel=ANA, text="Please confirm")
    assert not waiting.done()
    await slack_client.chat_postMessage(
        channel=ANA, text="fallback", blocks=[section("*Report recorded*")]
    )
    found = await asyncio.wait_for(waiting, WAIT)
    assert found["text"] == "fallback"  # found by what its blocks say, not by its place


async def test_a_wait_that_never_ends_fails_saying_what_it_waited_for(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    fake_slack.add_user(ANA, "ana@example.org", "ana")
    await slack_client.chat_postEphemeral(channel=ANA, user=ANA, text="Something else")
    with pytest.raises(AssertionError, match="a whisper to U0ANA0001 matching 'Nothing to'"):
        await fake_slack.whisper(ANA, "Nothing to", timeout=0.05)
