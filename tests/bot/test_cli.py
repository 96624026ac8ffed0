"""The command line as an ISU member uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main

Invoke = Callable[..., Result]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("CCM_DATABASE_URL", database_url)
    monkeypatch.setenv("CCM_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.delenv("CCM_CONFIG", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("CCM_SMTP_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_states_list_gives_the_112_parties_and_lithuania_withdrawn(cli: Invoke) -> None:
    loaded = cli("states", "load")
    assert loaded.exit_code == 0, loaded.output
    assert "125 added" in loaded.output
    states = json.loads(cli("states", "list", "--json").output)
    parties = [s for s in states if s["status"] == "party"]
    assert len(parties) == 112
    lithuania = next(s for s in states if s["iso3"] == "LTU")
    assert (lithuania["status"], lithuania["status_date"]) == ("withdrawn", "2025-03-06")
    assert all(s["entry_into_force"] for s in parties)
    assert {s["entry_into_force_basis"] for s in parties} <= {"sourced", "computed"}
    vanuatu = next(s for s in states if s["iso3"] == "VUT")
    assert vanuatu["entry_into_force"] == "2026-03-01"
    assert "2 added" not in cli("states", "load").output  # idempotent


@pytest.mark.parametrize(
    ("query", "iso3"),
    [("Tchad", "TCD"), ("Laos", "LAO"), ("Lao PDR", "LAO"), ("Bosnia", "BIH"), ("chl", "CHL")],
)
def test_states_show_accepts_names_in_three_languages(cli: Invoke, query: str, iso3: str) -> None:
    cli("states", "load")
    shown = cli("states", "show", query, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["iso3"] == iso3


def test_unknown_state_is_one_clear_line(cli: Invoke) -> None:
    cli("states", "load")
    result = cli("states", "show", "Atlantis")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "no State matches 'Atlantis'" in result.output


def test_states_set_survives_a_reload(cli: Invoke) -> None:
    cli("states", "load")
    assert (
        cli("states", "set", "Lebanon", "--language", "fr", "--weekend", "fri,sat").exit_code == 0
    )
    cli("states", "load")
    lebanon = json.loads(cli("states", "show", "LBN", "--json").output)
    assert (lebanon["language"], lebanon["weekend"]) == ("fr", ["fri", "sat"])


def test_example_files_import_and_bad_files_change_nothing(cli: Invoke, tmp_path: Path) -> None:
    cli("states", "load")
    for args in (
        ("contacts", "import", str(EXAMPLES / "contacts.csv")),
        ("contacts", "import", str(EXAMPLES / "contacts.xlsx")),
        ("import", "reports", str(EXAMPLES / "reports.csv")),
        ("import", "needs", str(EXAMPLES / "needs.csv")),
        ("import", "capacities", str(EXAMPLES / "capacities.csv")),
        ("import", "assistance", str(EXAMPLES / "assistance.csv")),
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
    before = cli("contacts", "list", "--json").output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,email,role,state,language\n"
        "A,bad-email,deleggate,XXX,de\n"
        "B,new.person@example.org,delegate,FRA,fr\n"
        "C,c@example.org,delegate,,en\n"
    )
    refused = cli("contacts", "import", str(bad))
    assert refused.exit_code == 1
    for expected in (
        "line 2, email",
        "line 2, role",
        "line 2, state",
        "line 2, language",
        "line 4",
    ):
        assert expected in refused.output
    assert cli("contacts", "list", "--json").output == before
    dry = cli("contacts", "import", str(EXAMPLES / "contacts.csv"), "--dry-run")
    assert "0 would be added" in dry.output


def test_forget_keeps_the_records_but_not_the_person(cli: Invoke) -> None:
    cli("states", "load")
    cli("contacts", "import", str(EXAMPLES / "contacts.csv"))
    people = json.loads(cli("contacts", "list", "--json").output)
    email = people[0]["email"]
    assert cli("contacts", "forget", email, "--yes").exit_code == 0
    after = {p["id"]: p for p in json.loads(cli("contacts", "list", "--json").output)}
    forgotten = after[people[0]["id"]]
    assert (forgotten["email"], forgotten["forgotten"], forgotten["active"]) == (None, True, False)
    assert cli("contacts", "forget", email, "--yes").exit_code == 1


def test_usage_errors_exit_2(cli: Invoke) -> None:
    assert cli("states", "show").exit_code == 2
    assert cli("reminders", "preview", "--on", "31/03/2027").exit_code == 2


def test_python_dash_m_bot_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True
    )
    assert "reminders" in result.stdout
    assert "states" in result.stdout


def test_preview_then_run_once_writes_each_reminder_once(cli: Invoke, tmp_path: Path) -> None:
    cli("states", "load")
    cli("contacts", "import", str(EXAMPLES / "contacts.csv"))
    preview = json.loads(cli("reminders", "preview", "--on", "2027-03-31", "--json").output)
    assert preview, "the example delegates owe the 2026 report"
    assert {p["item"] for p in preview} == {"art7-annual-2026"}
    assert {p["stage"] for p in preview} == {"30d"}
    for item in preview:
        assert set(item) >= {
            "state",
            "contact",
            "channel",
            "language",
            "item",
            "stage",
            "due",
            "send_at",
        }
        assert item["local_time"].startswith("2027-03-31T09:00:00")
    assert {p["language"] for p in preview if p["state"] in {"FRA", "SEN"}} == {"fr"}
    assert {p["language"] for p in preview if p["state"] == "CHL"} == {"es"}

    first = cli("reminders", "run-once", "--now", "2027-03-31T12:00:00Z")
    assert first.exit_code == 0, first.output
    outbox = tmp_path / "outbox"
    written = sorted(outbox.glob("*.eml"))
    assert len(written) == len({p["contact"] for p in preview if p["channel"] == "email"})
    again = cli("reminders", "run-once", "--now", "2027-03-31T12:00:00Z")
    assert "0 messages sent" in again.output
    assert sorted(outbox.glob("*.eml")) == written
    status = json.loads(cli("reminders", "status", "--json").output)
    assert status["counts"] == {"sent": len(written)}


def test_chat_speaks_as_a_contact_and_shows_the_isu_its_note_in_its_language(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the terminal the ISU is the one typing: a handover note is shown, in its language."""
    monkeypatch.setenv("CCM_ISU_LANGUAGE", "es")
    cli("states", "load")
    cli("contacts", "import", str(EXAMPLES / "contacts.csv"))
    talked = cli("chat", "--as", "claire.dubois@diplomatie.gouv.fr.example", input="not me\n\n")
    assert talked.exit_code == 0, talked.output
    assert "Habla como Claire Dubois (FRA), idioma: fr." in talked.output
    assert "Nota para la ISU: Claire Dubois <claire.dubois@diplomatie.gouv.fr.example> (FRA)" in (
        talked.output
    )
    stopped = cli("chat", "--as", "claire.dubois@diplomatie.gouv.fr.example", input="help\n\n")
    assert "no es un contacto activo" in stopped.output  # handed over: no longer a contact
