"""A record for the Coordinators only, attacked by a delegate of its own State through Slack.

Every request is a correctly signed Slack request to the real Bolt endpoint: the delegate lists
their State (``/ccm my``), opens the Home tab, clicks *Edit* with the secret reference, submits a
form carrying it with visibility ``public``, and withdraws it by typing. Each must answer as for
a reference that does not exist and leave the record, and its audit log, as they were; then a
delegate of another State still sees nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import func, select

from bot.slack import ids
from bot.slack.payloads import ModalContext
from handlers.understanding.keywords import Intent
from storage.audit import SYSTEM, Actor
from storage.contacts import upsert_contact
from storage.db import Store
from storage.models import (
    AuditEntry,
    Category,
    Entry,
    EntryKind,
    EntryStatus,
    Role,
    Via,
    Visibility,
)
from storage.records import add_entry
from tests.bot.slack.conftest import ANA, LUC, NOW, Slack
from tests.bot.slack.test_edit_form import newest_view, subject
from tests.bot.slack.test_queries import whispers
from tests.fakes.slack_api import FakeSlack

SECRET = "Survey of the northern border, names of the informants attached"
SHARED = "Clearance of the Shannon airfield"
ISU_EMAIL = "isu@cluster-munitions.ch"


async def _entries(store: Store) -> tuple[str, str]:
    """A need of Ireland for the Coordinators only, and one shared with the States Parties,
    both logged by the ISU as an import leaves them; their references."""
    async with store.transaction() as session:
        isu, _ = await upsert_contact(
            session, SYSTEM, NOW, email=ISU_EMAIL, name="ISU Officer", role=Role.ISU
        )
        made = []
        for description, visibility in (
            (SECRET, Visibility.COORDINATORS),
            (SHARED, Visibility.STATES_PARTIES),
        ):
            entry = await add_entry(
                session,
                Actor("ISU Officer", Via.IMPORT, isu.id),
                NOW,
                kind=EntryKind.NEED,
                state_iso3="IRL",
                article=4,
                category=Category.SURVEY_CLEARANCE,
                description=description,
                visibility=visibility,
                via=Via.IMPORT,
                logged_by_id=isu.id,
            )
            made.append(entry.reference)
    return made[0], made[1]


async def _stored(store: Store, reference: str) -> tuple[Visibility, EntryStatus, str, int]:
    async with store.transaction() as session:
        entry = await session.scalar(select(Entry).where(Entry.reference == reference))
        assert entry is not None
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity == "entries", AuditEntry.entity_id == str(entry.id))
        )
        return entry.visibility, entry.status, entry.description, int(audited or 0)


def _button(reference: str) -> dict[str, Any]:
    """A message with an *Edit* button carrying ``reference``, as a forged or stale one would."""
    return {
        "ts": f"{time.time():.6f}",
        "blocks": [
            {
                "type": "actions",
                "block_id": ids.ANSWERS_BLOCK,
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.ANSWER_ACTIONS[Intent.EDIT],
                        "text": {"type": "plain_text", "text": "Edit"},
                        "value": reference,
                    }
                ],
            }
        ],
    }


async def test_my_and_the_home_tab_leave_out_what_is_for_the_coordinators(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    secret, shared = await _entries(slack_store)
    await slack.command(ANA, "my")
    (overview,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    shown = json.dumps(overview["blocks"], ensure_ascii=False)
    assert shared in shown  # the State's shared need is listed …
    assert secret not in shown  # … its secret one is not, nor its text
    assert SECRET not in shown

    channel = await slack.dm_channel(ANA)
    await slack.event({"type": "app_home_opened", "user": ANA, "channel": channel, "tab": "home"})
    home = json.dumps((await fake_slack.wait_for(lambda: fake_slack.home_views.get(ANA)))["blocks"])
    assert shared in home
    assert secret not in home
    assert "northern border" not in home


async def test_edit_of_a_secret_reference_answers_as_an_unknown_one(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    secret, _ = await _entries(slack_store)
    before = await _stored(slack_store, secret)
    await slack.click(ANA, _button(secret), "Edit")
    (refused,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    await slack.click(ANA, _button("N-2027-0999"), "Edit")
    unknown = (await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:]))[0]
    assert subject(refused) == subject(unknown) == "Unknown reference"
    assert json.dumps(refused["blocks"]).replace(secret, "REF") == json.dumps(
        unknown["blocks"]
    ).replace("N-2027-0999", "REF")
    assert fake_slack.calls_to("views.open") == []  # no form, prefilled or not
    assert await _stored(slack_store, secret) == before


async def test_a_form_carrying_a_secret_reference_changes_nothing(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    """The Edit form of the State's shared need, submitted with the secret reference in its
    context and visibility public: the record stays for the Coordinators only."""
    secret, shared = await _entries(slack_store)
    before = await _stored(slack_store, secret)
    await slack.click(ANA, _button(shared), "Edit")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    form = newest_view(fake_slack)
    tampered = {
        **form,
        "private_metadata": ModalContext(reference=secret, answer=Intent.EDIT.value).to_json(),
    }
    answer = await slack.submit(ANA, tampered, {"visibility": "public", "description": "Open"})
    assert answer.status == 200
    assert await _stored(slack_store, secret) == before

    # Peru's delegate, or here France's, sees the shared need and nothing of the secret one.
    await slack.command(LUC, "needs")
    (listing,) = await fake_slack.wait_for(lambda: whispers(fake_slack, LUC))
    assert shared in json.dumps(listing["blocks"])
    assert secret not in json.dumps(listing["blocks"])


async def test_a_delegate_may_not_widen_who_sees_their_states_record(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    _, shared = await _entries(slack_store)
    before = await _stored(slack_store, shared)
    await slack.click(ANA, _button(shared), "Edit")
    await fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))
    form = newest_view(fake_slack)
    answer = await slack.submit(ANA, form, {"visibility": "public"})
    assert answer.status == 200
    assert answer.json() == {
        "response_action": "errors",
        "errors": {
            "visibility": "Only the Coordinators and the ISU can change who may see a record."
        },
    }
    assert await _stored(slack_store, shared) == before

    # The rest of the record is hers to change, who may see it left as it was.
    answer = await slack.submit(ANA, form, {"description": "Clearance of the airfield"})
    assert (answer.status, answer.text) == (200, "")
    visibility, _, description, audited = await _stored(slack_store, shared)
    assert (visibility, description, audited) == (
        Visibility.STATES_PARTIES,
        "Clearance of the airfield",
        before[3] + 1,
    )


async def test_withdraw_typed_with_a_secret_reference_answers_as_an_unknown_one(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    secret, _ = await _entries(slack_store)
    before = await _stored(slack_store, secret)
    await slack.dm(ANA, f"WITHDRAW {secret}")
    (refused,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    await slack.dm(ANA, "WITHDRAW N-2027-0999")
    unknown = (await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:]))[0]
    assert json.dumps(refused["blocks"]).replace(secret, "REF") == json.dumps(
        unknown["blocks"]
    ).replace("N-2027-0999", "REF")
    assert await _stored(slack_store, secret) == before


async def test_a_second_withdraw_writes_no_second_audit_row(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    _, shared = await _entries(slack_store)
    await slack.dm(ANA, f"WITHDRAW {shared}")
    (first,) = await fake_slack.wait_for(lambda: fake_slack.messages(ANA))
    await slack.dm(ANA, f"WITHDRAW {shared}")
    again = (await fake_slack.wait_for(lambda: fake_slack.messages(ANA)[1:]))[0]
    assert subject(first) == subject(again) == "Withdrawn"
    assert f"{shared} was already withdrawn." in json.dumps(again["blocks"])
    _, status, _, audited = await _stored(slack_store, shared)
    assert (status, audited) == (EntryStatus.WITHDRAWN, 2)  # created, withdrawn: once
