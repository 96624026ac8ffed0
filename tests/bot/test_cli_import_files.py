"""``ccm-bot import`` bounds what it reads, and an export imports back to the very same text."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import select, update

import handlers.tables
from storage.audit import SYSTEM
from storage.db import open_store
from storage.models import Category, Entry, EntryKind, Via
from storage.records import add_entry
from tests.bot.test_cli import Invoke, cli  # noqa: F401 - the fixture

NEEDS_HEADER = "state,category,description\n"


def test_a_wrong_header_is_refused_before_any_row_is_read(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    cli("states", "load")
    path = tmp_path / "needs.csv"
    # Row 3 is broken: only reading it would fail; the header alone must refuse the file.
    path.write_text('state,categroy\nTCD,funding\n"unclosed,x\n' + "TCD,funding\n" * 60_000)
    result = cli("import", "needs", str(path))
    assert result.exit_code != 0
    assert "needs a column 'category'" in result.output
    assert "needs a column 'description'" in result.output
    assert "unknown column 'categroy'; did you mean 'category'?" in result.output
    assert "quotes" not in result.output


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_file_over_the_row_limit_is_refused_with_how_to_split_it(
    cli: Invoke,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
) -> None:
    cli("states", "load")
    monkeypatch.setattr(handlers.tables, "MAX_ROWS", 100)
    rows = [["TCD", "funding", f"Need {number}"] for number in range(101)]
    path = tmp_path / f"needs{suffix}"
    if suffix == ".csv":
        path.write_text(NEEDS_HEADER + "".join(",".join(row) + "\n" for row in rows))
    else:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(["state", "category", "description"])
        for row in rows:
            sheet.append(row)
        workbook.save(path)
    result = cli("import", "needs", str(path))
    assert result.exit_code != 0
    assert "more than 100 rows" in result.output
    assert "split it into files of at most 100 rows" in result.output
    assert cli("import", "needs", str(path), "--dry-run").exit_code != 0
    monkeypatch.setattr(handlers.tables, "MAX_ROWS", 101)
    assert "101 rows checked" in cli("import", "needs", str(path), "--dry-run").output


def test_a_huge_cell_and_a_huge_file_are_refused(
    cli: Invoke,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli("states", "load")
    path = tmp_path / "needs.csv"
    path.write_text(NEEDS_HEADER + "TCD,funding," + "x" * 10_001 + "\n")
    result = cli("import", "needs", str(path))
    assert "line 2: a cell holds 10,001 characters" in result.output
    path.write_text(NEEDS_HEADER + "TCD,funding," + "x" * 200_000 + "\n")
    assert (
        "line 2: a cell holds 10,001 characters or more" in cli("import", "needs", str(path)).output
    )
    monkeypatch.setattr(handlers.tables, "MAX_FILE_BYTES", 1_000)
    result = cli("import", "needs", str(path))
    assert "needs.csv is 0.2 MB; at most" in result.output
    assert "split it into smaller files" in result.output


FORMULA_TEXT = st.builds(
    lambda start, rest: (start + rest).strip(),
    st.sampled_from("=+-@'"),
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=";"), max_size=30
    ),
).filter(lambda text: text[:1] in "=+-@'")


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    description=FORMULA_TEXT,
    organisation=FORMULA_TEXT,
    focus=st.lists(FORMULA_TEXT, min_size=1, max_size=3, unique=True),
)
def test_formula_looking_text_survives_export_and_import_exactly(
    cli: Invoke,  # noqa: F811
    database_url: str,
    tmp_path: Path,
    suffix: str,
    description: str,
    organisation: str,
    focus: list[str],
) -> None:
    path = tmp_path / f"offers.{suffix}"
    original = {"description": description, "organisation": organisation, "focus": focus}

    async def store_offer() -> str:
        store = await open_store(database_url, migrate=False)
        async with store.transaction() as session:
            entry = await add_entry(
                session,
                SYSTEM,
                datetime(2027, 3, 31, tzinfo=UTC),
                kind=EntryKind.OFFER,
                via=Via.SLACK,
                category=Category.TRAINING_EXPERTISE,
                **original,
            )
        path.unlink(missing_ok=True)
        await store.close()
        return entry.reference

    async def scramble_and_read(reference: str, scramble: bool) -> dict[str, object]:
        store = await open_store(database_url, migrate=False)
        async with store.transaction() as session:
            if scramble:
                await session.execute(
                    update(Entry)
                    .where(Entry.reference == reference)
                    .values(description="changed", organisation="changed", focus=["changed"])
                )
            entry = await session.scalar(select(Entry).where(Entry.reference == reference))
        await store.close()
        assert entry is not None
        return {
            "description": entry.description,
            "organisation": entry.organisation,
            "focus": entry.focus,
        }

    reference = asyncio.run(store_offer())
    exported = cli("export", "offers", "-o", str(path))
    assert exported.exit_code == 0, exported.output
    asyncio.run(scramble_and_read(reference, scramble=True))
    imported = cli("import", "capacities", str(path))
    assert imported.exit_code == 0, imported.output
    assert asyncio.run(scramble_and_read(reference, scramble=False)) == original
