"""The ISU's questions on the command line, on SQLite and PostgreSQL: listings, who is late,
deadlines, exports that re-import, and the yearly figures as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handlers.imports import ImportKind, columns_of
from handlers.tables import read_table
from tests.bot.test_cli import EXAMPLES, Invoke, cli  # noqa: F401 - the fixture

IMPORTS = (
    ("contacts", "import", str(EXAMPLES / "contacts.csv")),
    ("import", "reports", str(EXAMPLES / "reports.csv")),
    ("import", "needs", str(EXAMPLES / "needs.csv")),
    ("import", "capacities", str(EXAMPLES / "capacities.csv")),
    ("import", "assistance", str(EXAMPLES / "assistance.csv")),
)
STATS_KEYS = {
    "states_parties",
    "reports_submitted",
    "requested",
    "provided",
    "received",
    "provided_increased",
    "provided_decreased",
    "by_article",
}


@pytest.fixture
def loaded(cli: Invoke) -> Invoke:  # noqa: F811 - pytest's fixture by name
    assert cli("states", "load").exit_code == 0
    for args in IMPORTS:
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
    return cli


def as_json(invoke: Invoke, *args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_needs_list_reads_words_and_options(loaded: Invoke) -> None:
    listed = as_json(loaded, "needs", "list", "article", "5")
    assert set(listed) == {"understood", "filters", "total", "limit", "offset", "items"}
    assert listed["understood"] == "needs for Article 5"
    assert listed["total"] == 3
    assert {item["state"] for item in listed["items"]} == {"LBN", "AFG"}
    french = as_json(loaded, "needs", "list", "besoins", "ouverts", "--state", "Liban")
    assert french["filters"]["state"] == "LBN"
    assert french["filters"]["status"] == "open"
    assert french["total"] == 2
    paged = as_json(loaded, "needs", "list", "--limit", "2", "--offset", "4")
    assert (paged["total"], len(paged["items"])) == (6, 2)


def test_as_a_delegate_the_coordinators_only_records_disappear(loaded: Invoke) -> None:
    everyone = as_json(loaded, "needs", "list")
    delegate = as_json(loaded, "needs", "list", "--as", "rami.haddad@lmac.gov.lb.example")
    author = as_json(loaded, "needs", "list", "--as", "n.karimi@dmac.gov.af.example")
    partner = as_json(loaded, "offers", "list", "--as", "kari.nordmann@npaid.no.example")
    assert "coordinators" in {item["visibility"] for item in everyone["items"]}
    assert "coordinators" not in {item["visibility"] for item in delegate["items"]}
    assert delegate["total"] == everyone["total"] - 1
    # The delegate who logged it still sees it (and can withdraw it): nobody else does.
    assert author["total"] == everyone["total"]
    # A partner sees what is public, and the offer they logged for the Coordinators.
    assert {(item["visibility"], item["organisation"]) for item in partner["items"]} == {
        ("public", "Auswärtiges Amt"),
        ("public", "Ministère des Armées"),
        ("coordinators", "Norwegian People's Aid"),
    }
    unknown = loaded("needs", "list", "--as", "nobody@example.org")
    assert unknown.exit_code == 1
    assert "no contact has the address" in unknown.output


def test_offers_list_in_a_region_and_a_bad_state(loaded: Invoke) -> None:
    middle_east = as_json(loaded, "offers", "list", "middle", "east")
    assert middle_east["understood"] == "offers in the Middle East"
    assert middle_east["total"] == 2
    text = loaded("offers", "list", "training")
    assert text.exit_code == 0
    assert "offers, training and expertise: 2 found." in text.output
    bad = loaded("offers", "list", "--state", "Atlantis")
    assert bad.exit_code == 1
    assert "no State matches 'Atlantis'" in bad.output


def test_overdue_and_deadlines_json(loaded: Invoke) -> None:
    late = as_json(loaded, "overdue", "2025")
    assert set(late) == {"year", "as_of", "count", "states"}
    states = {row["iso3"]: row for row in late["states"]}
    assert "SEN" in states
    assert "FRA" not in states
    assert set(states["SEN"]) == {
        "iso3",
        "name",
        "due",
        "reminders",
        "last_reminder_at",
        "reminded_at",
        "escalated",
    }
    assert (states["SEN"]["due"], states["SEN"]["reminders"]) == ("2026-04-30", 0)
    assert loaded("deadlines", "add", "LBN", "Extension request due", "2040-01-15").exit_code == 0
    ahead = as_json(loaded, "deadlines", "list", "240")
    assert [(d["iso3"], d["title"], d["due"]) for d in ahead["deadlines"]] == [
        ("LBN", "Extension request due", "2040-01-15")
    ]


def test_stats_json_has_the_figures_and_names_on_request(loaded: Invoke) -> None:
    figures = as_json(loaded, "stats", "--year", "2025", "--as-of", "2026-11-01")
    assert set(figures) >= STATS_KEYS
    assert "names" not in figures
    assert set(figures["by_article"]) == {"3", "4", "5"}
    for article in figures["by_article"].values():
        assert set(article) == {"with_obligations", "requested", "received", "providers"}
    assert (figures["states_parties"], figures["reports_submitted"]) == (112, 6)
    named = as_json(loaded, "stats", "--year", "2025", "--as-of", "2026-11-01", "--names")
    assert [s["iso3"] for s in named["names"]["received"]] == ["AFG", "LBN"]
    assert named["names"]["by_article"]["5"]["providers"] == [{"iso3": "DEU", "name": "Germany"}]
    text = loaded("stats", "--year", "2025", "--as-of", "2026-11-01", "--names")
    assert "Reports received" in text.output
    assert "AFG, LBN" in text.output


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_import_back_unchanged(loaded: Invoke, tmp_path: Path, fmt: str) -> None:
    for kind, import_args, import_kind in (
        ("needs", ("import", "needs"), ImportKind.NEEDS),
        ("offers", ("import", "capacities"), ImportKind.CAPACITIES),
        ("reports", ("import", "reports"), ImportKind.REPORTS),
        ("contacts", ("contacts", "import"), ImportKind.CONTACTS),
    ):
        path = tmp_path / f"{kind}.{fmt}"
        exported = loaded("export", kind, "-o", str(path))
        assert exported.exit_code == 0, exported.output
        assert read_table(path).headers == columns_of(import_kind)
        again = loaded(*import_args, str(path))
        assert again.exit_code == 0, again.output
        assert "0 were added, 0 were updated" in again.output, (kind, again.output)


def test_export_as_a_delegate_leaves_out_coordinators_only(loaded: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "needs.csv"
    result = loaded(
        "export", "needs", "-o", str(path), "--as", "awa.diop@diplomatie.gouv.sn.example"
    )
    assert result.exit_code == 0
    assert "5 needs written" in result.output
    assert {row.get("visibility") for row in read_table(path).rows} == {"public", "states_parties"}
    clash = loaded("export", "needs", "--format", "xlsx", "-o", str(tmp_path / "n.csv"))
    assert clash.exit_code == 2


def test_overview_json(loaded: Invoke) -> None:
    lebanon = as_json(loaded, "overview", "Liban")
    assert lebanon["iso3"] == "LBN"
    assert len(lebanon["open_needs"]) == 2
    assert [c["name"] for c in lebanon["contacts"]] == ["Rami Haddad"]
    partner = as_json(loaded, "overview", "LBN", "--as", "kari.nordmann@npaid.no.example")
    assert (len(partner["open_needs"]), partner["contacts"]) == (1, [])
