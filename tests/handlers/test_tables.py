"""Tables as people save them: Excel's CSV dialects and encodings, XLSX cells, broken files."""

from __future__ import annotations

import random
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from handlers.tables import TableError, read_table, write_table
from storage.models import Role

EXAMPLES = Path(__file__).parents[2] / "examples"


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_csv_headers_are_normalised_and_rows_keep_their_physical_line(tmp_path: Path) -> None:
    text = (
        "\ufeff Name ,E-mail, Time  Zone\r\n"
        "\r\n"
        "Claire,claire@fr.example,Europe/Paris\r\n"
        'Marc,"marc@fr.example",\r\n'
        ",,\r\n"
        '"Ana\r\nPérez",ana@cl.example,America/Santiago\r\n'
        "Awa,awa@sn.example,Africa/Dakar\r\n"
    )
    table = read_table(write_bytes(tmp_path, "people.csv", text.encode()))
    assert table.headers == ("name", "e-mail", "time_zone")
    assert [(row.line, row.get("name"), row.get("time_zone")) for row in table.rows] == [
        (3, "Claire", "Europe/Paris"),
        (4, "Marc", ""),
        (6, "Ana\r\nPérez", "America/Santiago"),
        (8, "Awa", "Africa/Dakar"),
    ]
    assert table.notes == []


def test_semicolons_as_french_excel_writes_them(tmp_path: Path) -> None:
    text = "nom;email;montant\nClaire;claire@fr.example;250 000,50\n"
    table = read_table(write_bytes(tmp_path, "fr.csv", text.encode()))
    assert table.rows[0].values == {
        "nom": "Claire",
        "email": "claire@fr.example",
        "montant": "250 000,50",
    }


def test_windows_1252_is_read_with_a_note(tmp_path: Path) -> None:
    text = "name,organisation\nMarc Lefèvre,Ministère des Armées\n"
    table = read_table(write_bytes(tmp_path, "excel.csv", text.encode("windows-1252")))
    assert table.rows[0].values == {"name": "Marc Lefèvre", "organisation": "Ministère des Armées"}
    assert "Windows-1252" in table.notes[0]


def test_xlsx_cells_become_the_text_an_import_reads(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["State", "Year", "Due", "Amount", "Rate", "Note", "Big"])
    sheet.append([])  # an empty row in the sheet keeps its number
    sheet.append(["FRA", 2025, datetime(2026, 4, 30), 250000.0, 0.1, None, 1e16])
    sheet.append(["CHL", 2025.0, date(2026, 4, 30), 12.5, 2, "  spaced  ", True])
    sheet.append([None] * 7)
    workbook.save(tmp_path / "sheet.xlsx")
    table = read_table(tmp_path / "sheet.xlsx")
    assert table.headers == ("state", "year", "due", "amount", "rate", "note", "big")
    assert [(row.line, list(row.values.values())) for row in table.rows] == [
        (3, ["FRA", "2025", "2026-04-30", "250000", "0.1", "", "10000000000000000"]),
        (4, ["CHL", "2025", "2026-04-30", "12.5", "2", "spaced", "TRUE"]),
    ]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("people.txt", b"name\nA\n", "give a .csv or .xlsx file"),
        ("people", b"name\nA\n", "give a .csv or .xlsx file"),
        ("empty.csv", b"", "is empty; its first row must name the columns"),
        ("blank.csv", b"\r\n,,,\r\n\r\n", "is empty"),
        ("twice.csv", b"name,Email,email\nA,a@x.example,b@x.example\n", "columns 2 and 3"),
        ("quotes.csv", b'name,email\n"A"x,a@x.example\n', "line 2: "),
        ("open.csv", b'name,email\n"A,a@x.example\nB,b@x.example\n', "line 2: "),
        ("wide.csv", b"name,email\nSmith, John,j@x.example\n", "line 2: 3 values but 2 column"),
        ("unnamed.csv", b"name,,email\nA,oops,a@x.example\n", "column 2, which has no name"),
        ("book.csv", b"PK\x03\x04rest of a zip", "is an Excel workbook, not CSV; rename"),
        ("utf16.csv", "name\nA\n".encode("utf-16"), "UTF-16"),
        ("fake.xlsx", b"name,email\nA,a@x.example\n", "is not a readable .xlsx workbook"),
    ],
)
def test_unreadable_tables_say_how_to_fix_them(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    with pytest.raises(TableError, match=re.escape(message)):
        read_table(write_bytes(tmp_path, name, data))


@pytest.mark.parametrize("seed", range(20))
def test_binary_garbage_named_csv_is_a_table_error(tmp_path: Path, seed: int) -> None:
    garbage = random.Random(seed).randbytes(4096)
    with pytest.raises(TableError, match=r"binary data|neither UTF-8"):
        read_table(write_bytes(tmp_path, "garbage.csv", garbage))


def test_missing_file_is_a_table_error(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="cannot be read"):
        read_table(tmp_path / "absent.csv")


def test_unnamed_empty_columns_are_ignored(tmp_path: Path) -> None:
    table = read_table(write_bytes(tmp_path, "t.csv", b"name,,email,\nA,,a@x.example,\n"))
    assert table.headers == ("name", "email")
    assert table.rows[0].values == {"name": "A", "email": "a@x.example"}


HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "=1"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_written_tables_read_back_the_same(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"export{suffix}"
    rows = [
        {
            "name": "Sofía Martínez",
            "role": Role.ISU,
            "due": date(2027, 4, 30),
            "amount": Decimal("250000.00"),
            "focus": ["Lebanon", "Lao PDR"],
            "note": None,
        },
        *({"name": text, "note": "plain"} for text in HOSTILE),
    ]
    assert write_table(path, ["name", "role", "due", "amount", "focus", "note"], rows) == 6
    table = read_table(path)
    assert table.rows[0].values == {
        "name": "Sofía Martínez",
        "role": "isu",
        "due": "2027-04-30",
        "amount": "250000.00",
        "focus": "Lebanon; Lao PDR",
        "note": "",
    }
    assert [row.get("name") for row in table.rows[1:]] == HOSTILE


def test_csv_export_neutralises_formulas_with_an_apostrophe(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    write_table(path, ["name", "amount"], [{"name": text, "amount": -5} for text in HOSTILE])
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1] == '"\'=HYPERLINK(""http://evil.example"",""click"")",-5'
    assert [line.split(",")[0] for line in lines[2:]] == ["'+1+1", "'-2+3", "'@SUM(A1)", "'=1"]


def test_xlsx_export_stores_formulas_as_quoted_text(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    write_table(path, ["name"], [{"name": text} for text in HOSTILE])
    sheet = load_workbook(path).active
    cells = [sheet.cell(row=row, column=1) for row in range(2, 2 + len(HOSTILE))]
    assert [(cell.value, cell.data_type, cell.quotePrefix) for cell in cells] == [
        (text, "s", True) for text in HOSTILE
    ]


def test_write_refuses_values_outside_the_header(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not in the header"):
        write_table(tmp_path / "x.csv", ["name"], [{"name": "A", "email": "a@x.example"}])
    with pytest.raises(TableError, match=r"give a \.csv or \.xlsx"):
        write_table(tmp_path / "x.ods", ["name"], [])


def test_the_xlsx_example_matches_the_csv_one() -> None:
    from_csv = read_table(EXAMPLES / "contacts.csv")
    from_xlsx = read_table(EXAMPLES / "contacts.xlsx")
    assert from_xlsx.headers == from_csv.headers
    assert [row.values for row in from_xlsx.rows] == [row.values for row in from_csv.rows]
    assert [row.line for row in from_xlsx.rows] == [row.line for row in from_csv.rows]
