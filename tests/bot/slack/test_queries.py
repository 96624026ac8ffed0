"""The records commands and questions on Slack, on the example records of examples/*.csv.

Each test is a transcript through the real HTTP endpoint: the signed /ccm command or DM, what
the bot showed (ephemeral answers, shared posts, uploaded files) and what the store holds.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from bot.slack import ids
from handlers.i18n import translator
from handlers.imports import ImportKind, columns_of
from handlers.questions import Ask, clip_words
from storage import listings
from storage.audit import SYSTEM
from storage.contacts import upsert_contact
from storage.db import Store
from storage.models import (
    Category,
    Channel,
    CustomDeadline,
    Draft,
    Entry,
    EntryKind,
    EntryStatus,
    Role,
    Via,
    Visibility,
)
from storage.records import add_entry
from storage.states import load_states
from storage.treaty_data import load_treaty_data
from tests.bot.slack.conftest import CHANNEL, NOW, STRANGER, STRANGER_EMAIL, Slack, contact
from tests.fakes.slack_api import FakeSlack
from tests.handlers.test_stats import import_examples

# People of examples/contacts.csv who use Slack, and one French-speaking coordinator.
JONAS = "U03DEWEB03"  # coordinator, Germany, English
SOFIA = "U02ISUMAR04"  # ISU, Spanish
CLAIRE = "U04FRDUB01"  # delegate, France, French
CLAIRE_EMAIL = "claire.dubois@diplomatie.gouv.fr.example"
AMELIE = "U06FRCOO05"  # coordinator, France, French
FR = translator("fr")  # labels new to this change are translated when the catalogs are refreshed
AFRICA = ("SEN", "MLI", "NER", "BFA", "GHA", "TGO", "BEN", "NGA", "CMR", "TCD", "MOZ", "ZMB")


@pytest.fixture
async def slack_store(store: Store, tmp_path: Path) -> Store:
    """Every State, the example records (needs and offers recorded in June 2025), and twelve
    open Article 4 needs in Africa shared with the States Parties, with three that
    ``article 4 africa open`` must not list to a delegate: one for the Coordinators only
    (listed to coordinators), one met and one in Asia."""
    async with store.transaction() as session:
        await load_states(session, load_treaty_data(), SYSTEM, datetime(2026, 11, 1, tzinfo=UTC))
    await import_examples(store, tmp_path, entries_at=datetime(2025, 6, 2, tzinfo=UTC))
    async with store.transaction() as session:
        await upsert_contact(
            session,
            SYSTEM,
            NOW,
            email="amelie.roux@diplomatie.gouv.fr.example",
            name="Amélie Roux",
            role=Role.COORDINATOR,
            state_iso3="FRA",
            channel=Channel.SLACK,
            slack_user_id=AMELIE,
            language="fr",
        )
        for day, iso3 in enumerate(AFRICA, start=1):
            await africa_need(session, day, iso3, f"Clearance of strike sites in {iso3}")
        await africa_need(
            session, 20, "SEN", "Casamance survey", visibility=Visibility.COORDINATORS
        )
        await africa_need(session, 21, "MLI", "Already funded", status=EntryStatus.MET)
        await africa_need(session, 22, "LAO", "Xieng Khouang clearance")
        for iso3, title, due in (
            ("LBN", "Extension request due", date(2027, 9, 1)),
            ("SEN", "Intersessional meeting", date(2027, 6, 15)),
            ("CHL", "Too far ahead", date(2030, 1, 1)),
        ):
            session.add(CustomDeadline(state_iso3=iso3, title=title, due=due, created_at=NOW))
    return store


async def africa_need(session: Any, day: int, iso3: str, text: str, **fields: Any) -> None:
    await add_entry(
        session,
        SYSTEM,
        datetime(2027, 3, day, 9, 0, tzinfo=UTC),
        kind=EntryKind.NEED,
        state_iso3=iso3,
        article=4,
        category=Category.SURVEY_CLEARANCE,
        description=text,
        via=Via.IMPORT,
        **({"visibility": Visibility.STATES_PARTIES} | fields),
    )


@pytest.fixture
def people(fake_slack: FakeSlack) -> FakeSlack:
    fake_slack.add_user(JONAS, "jonas.weber@auswaertiges-amt.de.example", "jonas")
    fake_slack.add_user(SOFIA, "s.martinez@ccm-isu.example", "sofia", locale="es-ES")
    fake_slack.add_user(CLAIRE, CLAIRE_EMAIL, "claire", tz="Europe/Paris", locale="fr-FR")
    fake_slack.add_user(AMELIE, "amelie.roux@diplomatie.gouv.fr.example", "amelie")
    fake_slack.add_user(STRANGER, STRANGER_EMAIL, "stranger", locale="es-ES")
    return fake_slack


def whispers(fake: FakeSlack, user: str) -> list[dict[str, Any]]:
    """What the bot showed ``user`` alone (chat.postEphemeral), oldest first."""
    return [m for m in fake.ephemeral_messages if m["user"] == user]


async def whispered(fake: FakeSlack, user: str, *, after: int) -> dict[str, Any]:
    """The next thing shown to ``user`` alone, once ``after`` were shown before it."""
    return (await fake.wait_for(lambda: whispers(fake, user)[after:]))[0]


def shown(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Label → value of the answer's buttons."""
    return {
        element["text"]["text"]: element.get("value", "")
        for block in message["blocks"]
        if block.get("block_id") == ids.QUERY_ACTIONS_BLOCK
        for element in block["elements"]
    }


async def references(store: Store, **where: Any) -> dict[str, str]:
    async with store.transaction() as session:
        rows = await session.scalars(select(Entry).filter_by(**where))
        return {entry.description: entry.reference for entry in rows}


async def test_coordinator_lists_needs_pages_with_more_and_shares_in_the_channel(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    refs = await references(slack_store, kind=EntryKind.NEED)
    await slack.command(JONAS, "needs article 4 africa open")
    (first,) = await fake_slack.wait_for(lambda: whispers(fake_slack, JONAS))
    assert first["channel"] == CHANNEL
    text = shown(first)
    assert "I understood your question as: needs for Article 4 in Africa, open. 13 found." in text
    assert "Showing 1 to 10 of 13." in text
    # Newest first: the coordinators-only need (20 March) heads the list, and says what it is.
    listed = [ref for ref in sorted(refs.values()) if ref in text]
    assert len(listed) == 10
    assert text.index(refs["Casamance survey"]) < text.index(
        refs["Clearance of strike sites in CMR"]
    )
    assert "Coordinators only" in text
    for absent in ("Already funded", "Xieng Khouang clearance", "Clearance of strike sites in SEN"):
        assert refs[absent] not in text  # met, in Asia, and the oldest (on the next page)
    assert set(buttons(first)) == {"More", "Share in channel"}

    await slack.click(JONAS, first, "More")
    second = await whispered(fake_slack, JONAS, after=1)
    assert "Showing 11 to 13 of 13." in shown(second)
    assert refs["Clearance of strike sites in SEN"] in shown(second)
    assert set(buttons(second)) == {"Share in channel"}  # the last page

    await slack.click(JONAS, first, "Share in channel")
    (post,) = await fake_slack.wait_for(lambda: fake_slack.messages(CHANNEL))
    public = shown(post)
    assert f"Shared by <@{JONAS}>." in public
    # The channel is not the coordinators': what any delegate may see, nothing more.
    assert "12 found." in public
    assert refs["Casamance survey"] not in public
    assert refs["Clearance of strike sites in CMR"] in public
    assert "ccm_query" not in public  # a shared answer has no buttons
    assert fake_slack.invalid_payloads == []


async def test_a_long_listing_says_more_than_its_counting_cap(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting stops at a cap (1,000 in use; 12 here), and the answer says "more than"."""
    monkeypatch.setattr(listings, "COUNT_CAP", 12)
    await slack.command(AMELIE, "needs article 4 africa open")
    (first,) = await fake_slack.wait_for(lambda: whispers(fake_slack, AMELIE))
    assert "Plus de 12 résultats." in shown(first)
    assert "Résultats 1 à 10 sur plus de 12." in shown(first)
    await slack.click(AMELIE, first, FR.gettext("More"))
    second = await whispered(fake_slack, AMELIE, after=1)
    assert "Résultats 11 à 13 sur 13." in shown(second)  # past the cap's page: exact again


async def test_delegate_sees_what_her_role_allows_in_her_language(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    refs = await references(slack_store, kind=EntryKind.NEED)
    secret = {refs["Casamance survey"], await coordinators_only_example(slack_store)}
    await slack.command(CLAIRE, "needs")
    (answer,) = await fake_slack.wait_for(lambda: whispers(fake_slack, CLAIRE))
    text = shown(answer)
    assert "J'ai compris votre question ainsi : besoins." in text
    assert "19 résultats." in text  # 21 needs, less the two for the Coordinators only
    more = Ask.from_value(buttons(answer)[FR.gettext("More")])
    assert more == Ask("needs", "", offset=10)
    await slack.click(CLAIRE, answer, FR.gettext("More"))
    second = await whispered(fake_slack, CLAIRE, after=1)
    for ref in secret:
        assert ref not in text
        assert ref not in shown(second)
    assert fake_slack.invalid_payloads == []


async def coordinators_only_example(store: Store) -> str:
    async with store.transaction() as session:
        found = await session.scalar(
            select(Entry.reference).where(
                Entry.state_iso3 == "AFG", Entry.visibility == Visibility.COORDINATORS
            )
        )
    assert found is not None
    return found


async def test_stranger_gets_the_polite_explanation_and_nothing_else(
    slack: Slack, fake_slack: FakeSlack
) -> None:
    for command in ("needs", "stats 2025", "export contacts xlsx", "digest off"):
        await slack.command(STRANGER, command)
    answers = await fake_slack.wait_for(
        lambda: len(whispers(fake_slack, STRANGER)) == 4 and whispers(fake_slack, STRANGER)
    )
    for answer in answers:
        assert "ISU" in answer["text"]  # in Spanish, as Slack says the stranger reads
        assert buttons(answer) == {}
    assert fake_slack.calls_to("files.getUploadURLExternal") == []
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_stats_2025_on_the_examples_with_the_names_behind_the_figures(
    slack: Slack, fake_slack: FakeSlack
) -> None:
    await slack.command(JONAS, "stats 2025")
    (figures,) = await fake_slack.wait_for(lambda: whispers(fake_slack, JONAS))
    fields = {
        field["text"].split("\n")[0].strip("*"): field["text"].split("\n")[1]
        for block in figures["blocks"]
        for field in block.get("fields") or []
    }
    assert fields["States Parties"] == "112"
    assert fields["Reports received"] == "6"
    assert fields["Reports received on time"] == "4"
    assert fields["Article 4 — States Parties with obligations"] == "6"
    assert "Show the names" in buttons(figures)

    await slack.click(JONAS, figures, "Show the names")
    names = await whispered(fake_slack, JONAS, after=1)
    text = shown(names)
    assert "Reports received: 6*\\nAfghanistan, Chile, France, Germany, Lebanon, Norway" in text
    assert "Providers that gave more than the year before: 1*\\nNorway" in text
    assert "Article 4 — Reported States that received assistance: 1*\\nLebanon" in text
    assert "Show the names" not in buttons(names)

    # A delegate gets the figures, not the States behind them; the answer says so.
    await slack.command(CLAIRE, "stats 2025")
    (delegate,) = await fake_slack.wait_for(lambda: whispers(fake_slack, CLAIRE))
    assert set(buttons(delegate)) == {FR.gettext("Share in channel")}
    assert "Afghanistan" not in shown(delegate)
    assert fake_slack.invalid_payloads == []


async def test_export_needs_xlsx_is_uploaded_in_three_steps_to_the_dm(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    await slack.command(JONAS, "export needs xlsx")
    (note,) = await fake_slack.wait_for(lambda: whispers(fake_slack, JONAS))
    assert "direct messages" in note["text"]
    (asked,) = fake_slack.calls_to("files.getUploadURLExternal")
    (completed,) = fake_slack.calls_to("files.completeUploadExternal")
    dm = fake_slack.dm_channel(JONAS)
    assert completed["channel_id"] == dm  # never into the channel it was typed in
    (uploaded,) = fake_slack.files.values()
    assert uploaded.filename == asked["filename"] == "needs-2027-04-20.xlsx"
    assert uploaded.content is not None
    assert len(uploaded.content) == int(asked["length"])
    sheet = openpyxl.load_workbook(io.BytesIO(uploaded.content), read_only=True).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == columns_of(ImportKind.NEEDS)
    assert len(rows) == 1 + 21  # every need, those for the Coordinators only included
    (message,) = fake_slack.messages(JONAS)
    assert message["text"] == "21 rows, in the columns the import reads."

    # A delegate may not export the contacts; her needs leave out the Coordinators' records.
    await slack.command(CLAIRE, "export contacts")
    await slack.command(CLAIRE, "export needs csv")
    # Two listeners at once: the refusal and the note that the file is sent come in either order.
    refusal = FR.gettext("Only the Coordinators and the ISU can see this.")
    refused = await fake_slack.whisper(CLAIRE, refusal)
    await fake_slack.whisper(CLAIRE, lambda whisper: whisper["text"] != refusal)  # the CSV is sent
    assert refused["text"] == refusal
    assert len(whispers(fake_slack, CLAIRE)) == 2
    files = list(fake_slack.files.values())
    assert [file.filename[-4:] for file in files] == ["xlsx", ".csv"]
    assert files[1].content is not None
    assert b"coordinators" not in files[1].content
    assert fake_slack.invalid_payloads == []


async def test_digest_off_then_on_switches_the_contact(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    await slack.command(CLAIRE, "digest off")
    (off,) = await fake_slack.wait_for(lambda: whispers(fake_slack, CLAIRE))
    assert "ne recevrez plus" in off["text"]
    assert (await contact(slack_store, CLAIRE_EMAIL)).digest is False
    await slack.command(CLAIRE, "digest on")
    await fake_slack.wait_for(lambda: len(whispers(fake_slack, CLAIRE)) == 2)
    assert (await contact(slack_store, CLAIRE_EMAIL)).digest is True
    await slack.command(CLAIRE, "digest maybe")
    usage = await whispered(fake_slack, CLAIRE, after=2)
    assert "/ccm digest on" in usage["text"]
    assert (await contact(slack_store, CLAIRE_EMAIL)).digest is True


async def test_state_overdue_and_deadlines_commands(slack: Slack, fake_slack: FakeSlack) -> None:
    answers: list[dict[str, Any]] = []
    for command in ("state Liban", "overdue 2025", "deadlines 24"):
        await slack.command(JONAS, command)
        answers.append(await whispered(fake_slack, JONAS, after=len(answers)))
    state, late, ahead = answers
    assert state["blocks"][0]["text"]["text"] == "Lebanon"
    assert "Rami Haddad (delegate)" in shown(state)
    assert "Article 4: deadline 1 May 2026" in shown(state)
    assert "Article 7 reports covering 2025 not received on time" in shown(late)
    assert "Showing 1 to 25 of 105." in shown(late)
    assert "Afghanistan" not in shown(late)  # reported, late
    pages = [late]
    while "Senegal" not in shown(pages[-1]):
        await slack.click(JONAS, pages[-1], "More")
        pages.append(await whispered(fake_slack, JONAS, after=2 + len(pages)))
    assert "Senegal: 0 reminders sent" in shown(pages[-1])
    assert len(pages) == 4
    assert "Showing 76 to 100 of 105." in shown(pages[-1])
    assert "Lebanon" not in json.dumps([shown(page) for page in pages])  # on the day
    assert "deadlines in the next 24 months. 2 found." in shown(ahead)
    assert (
        "15 June 2027: Senegal — Intersessional meeting\\n"
        "1 September 2027: Lebanon — Extension request due"
    ) in shown(ahead)

    # A delegate sees who is late (public), not the reminders sent to other States.
    await slack.command(CLAIRE, "overdue 2025")
    (delegate,) = await fake_slack.wait_for(lambda: whispers(fake_slack, CLAIRE))
    assert "105" in shown(delegate)
    assert "Afrique du Sud\\nAlbanie" in shown(delegate)  # names alone, in French order
    assert "rappel" not in shown(delegate)
    assert fake_slack.invalid_payloads == []


async def test_an_answer_where_the_bot_is_not_a_member_goes_to_the_dm(
    slack: Slack, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postEphemeral", status=200, error="channel_not_found")
    await slack.command(JONAS, "deadlines", channel="C0NOTINVITED")
    (message,) = await fake_slack.wait_for(lambda: fake_slack.messages(JONAS))
    assert "deadlines in the next 12 months" in message["text"]
    assert whispers(fake_slack, JONAS) == []


async def test_french_question_in_a_dm_from_a_coordinator_is_answered_in_french(
    slack: Slack, slack_store: Store, fake_slack: FakeSlack
) -> None:
    await slack.dm(AMELIE, "quels États n'ont pas soumis leur rapport 2025 ?")
    (reply,) = await fake_slack.wait_for(lambda: fake_slack.messages(AMELIE))
    assert reply["blocks"][0]["text"]["text"] == "Votre question"
    assert reply["text"].startswith("J'ai compris votre question ainsi :")
    async with slack_store.transaction() as session:
        assert await session.scalar(select(Draft)) is None  # not taken for a need to record
    assert fake_slack.invalid_payloads == []


async def test_french_overdue_question_is_understood_as_the_missing_reports(
    slack: Slack, fake_slack: FakeSlack
) -> None:
    await slack.dm(AMELIE, "quels États n'ont pas soumis leur rapport 2025 ?")
    (reply,) = await fake_slack.wait_for(lambda: fake_slack.messages(AMELIE))
    assert "rapports au titre de l'article 7" in reply["text"].lower()
    # The same answer as /ccm overdue 2025: 25 States a page, the next behind More.
    assert "Albanie" in reply["text"]
    assert "Résultats 1 à 25 sur 105." in reply["text"]
    assert set(buttons(reply)) == {FR.gettext("More")}  # nothing to share in a DM


# --- pure rules, no store ------------------------------------------------------------------


def test_a_question_fits_in_a_button_value_however_long_it_was() -> None:
    words = clip_words("« Sénégal » " * 400)
    value = Ask("needs", words, offset=990, names=True).to_value()
    assert len(value) <= ids.MAX_BUTTON_VALUE
    assert Ask.from_value(value) == Ask("needs", words, offset=990, names=True)
    for forged in ("", "{}", '{"t": "drop"}', '{"t": "needs", "o": -1}', '{"t": "needs", "w": 3}'):
        assert Ask.from_value(forged) is None


@pytest.mark.parametrize(
    ("command", "example"), [("stats 20x5", "/ccm stats 2025"), ("overdue 25", "/ccm overdue 2025")]
)
async def test_a_year_that_is_not_one_is_answered_with_how_to_write_it(
    slack: Slack, fake_slack: FakeSlack, command: str, example: str
) -> None:
    await slack.command(JONAS, command)
    (answer,) = await fake_slack.wait_for(lambda: whispers(fake_slack, JONAS))
    assert f"Write the year with four digits, for example: {example}" in shown(answer)
