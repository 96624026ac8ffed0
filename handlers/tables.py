"""Reading and writing the spreadsheets people keep: CSV (as any Excel saves it) and XLSX.

A table is a header row and data rows, each row's values keyed by the normalised header
(``Time Zone`` → ``time_zone``) and carrying the line a person sees in their editor: the CSV
physical line where the row starts, or the worksheet row number. Every cell is a stripped string;
what a value means is for the importer to decide.

Anything that is not a readable table raises :class:`TableError`, whose message says how to fix
the file, never a traceback.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

SUFFIXES = (".csv", ".xlsx")

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection). Exports put
# an apostrophe in front, which spreadsheets read as "this is text"; reading strips it again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_FORMULA = re.compile(r"^'(?=[=+\-@\t\r])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_XLSX_MAGIC = b"PK\x03\x04"
SAVE_AS = "save it from your spreadsheet as 'CSV UTF-8' or as an .xlsx workbook"


class TableError(ValueError):
    """The file cannot be read as a table; the message says how to fix it."""


@dataclass(frozen=True)
class Row:
    """One data row: its line in the file and its cells keyed by normalised header."""

    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: list[Row]
    header_line: int = 1
    notes: list[str] = field(default_factory=list)


def normalise_header(name: str) -> str:
    """``' Time Zone '`` → ``time_zone``: lowercase, stripped, inner spaces to underscores."""
    return re.sub(r"\s+", "_", name.strip().lower())


def read_table(path: Path) -> Table:
    """Read a .csv or .xlsx file whose first non-empty row names the columns."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TableError(
            f"{path.name}: cannot read {suffix or 'a file without suffix'}; give a "
            ".csv or .xlsx file"
        )
    try:
        data = path.read_bytes() if suffix == ".csv" else None
    except OSError as error:
        raise TableError(f"{path}: cannot be read ({error.strerror})") from None
    if data is not None:
        notes, lines = _csv_lines(path.name, data)
        return _build(path.name, lines, notes)
    return _build(path.name, _xlsx_lines(path), [])


def write_table(path: Path, headers: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Write rows (dicts keyed by header) to a .csv (UTF-8 with BOM, for Excel) or .xlsx file.

    Values become the text an import reads back: dates in ISO form, enums by value, lists joined
    with ``;``. Text that a spreadsheet would run as a formula is neutralised. Returns the number
    of rows written.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TableError(
            f"{path.name}: cannot write {suffix or 'a file without suffix'}; give a "
            ".csv or .xlsx file"
        )
    columns = list(headers)
    cells = (_row_cells(columns, row) for row in rows)
    if suffix == ".csv":
        return _write_csv(path, columns, cells)
    return _write_xlsx(path, columns, cells)


# --- reading -------------------------------------------------------------------------------


def _csv_lines(name: str, data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    if data.startswith(_XLSX_MAGIC):
        raise TableError(f"{name} is an Excel workbook, not CSV; rename it to .xlsx")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TableError(f"{name} is UTF-16 ('Unicode Text'); {SAVE_AS}")
    notes: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("windows-1252")
        except UnicodeDecodeError:
            raise TableError(f"{name} is neither UTF-8 nor Windows text; {SAVE_AS}") from None
        notes.append(
            f"{name} is not UTF-8; read it as Windows-1252 (Western European), as Excel on "
            "Windows saves CSV. Check accented names, or save as 'CSV UTF-8' next time."
        )
    control = _CONTROL.search(text)
    if control is not None:
        line = text.count("\n", 0, control.start()) + 1
        raise TableError(
            f"{name} holds binary data (line {line}), so it is not a CSV text file; {SAVE_AS}"
        )
    first = next((line for line in text.splitlines() if line.strip()), "")
    # French and other European Excels write ';' because ',' is their decimal separator.
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return notes, _csv_records(text, delimiter)


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise TableError(
                f"line {start}: {error}; check the quotes in that row (a value with quotes "
                'inside is written "like ""this"""), or save the file again from a spreadsheet'
            ) from None
        yield start, cells
        start = reader.line_num + 1


def _xlsx_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # openpyxl warns about features it drops (data validation, default styles): harmless.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise TableError(
            f"{path.name} is not a readable .xlsx workbook; open it in a spreadsheet and save it "
            "again as an Excel workbook (.xlsx), or as 'CSV UTF-8'"
        ) from None
    try:
        if not workbook.worksheets:
            raise TableError(f"{path.name} has no worksheet; put the table on the first sheet")
        sheet = workbook.worksheets[0]
        rows = [
            (number, [_cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()
    return iter(rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return str(value)


def _build(name: str, lines: Iterator[tuple[int, list[str]]], notes: list[str]) -> Table:
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    for line, raw in lines:
        cells = [cell.strip() for cell in raw]
        if not any(cells):
            continue  # blank lines, and the ",,,," rows Excel leaves below a table
        if header is None:
            header, header_line = [normalise_header(cell) for cell in cells], line
            _check_control(name, line, cells)
        else:
            _check_control(name, line, cells)
            rows.append((line, cells))
    if header is None:
        raise TableError(
            f"{name} is empty; its first row must name the columns (for example name,email,role)"
        )
    _check_header(name, header, header_line)
    width = len(header)
    table_rows = []
    for line, cells in rows:
        for index in range(width, len(cells)):
            if cells[index]:
                raise TableError(
                    f"{name}, line {line}: {len(cells)} values but {width} column names; "
                    "a value containing the separator must be in double quotes"
                )
        values = {}
        for index, column in enumerate(header):
            text = cells[index] if index < len(cells) else ""
            if not column:
                if text:
                    raise TableError(
                        f"{name}, line {line}: a value sits in column {index + 1}, which has no "
                        f"name on line {header_line}; name that column or delete it"
                    )
                continue
            values[column] = _ESCAPED_FORMULA.sub("", text)
        table_rows.append(Row(line, values))
    return Table(tuple(h for h in header if h), table_rows, header_line, notes)


def _check_header(name: str, header: list[str], line: int) -> None:
    seen: dict[str, int] = {}
    for index, column in enumerate(header, start=1):
        if not column:
            continue
        if column in seen:
            raise TableError(
                f"{name}, line {line}: columns {seen[column]} and {index} are both called "
                f"{column!r}; rename or delete one of them"
            )
        seen[column] = index
    if not seen:
        raise TableError(f"{name}, line {line}: the first row must name the columns")


def _check_control(name: str, line: int, cells: list[str]) -> None:
    for cell in cells:
        if _CONTROL.search(cell):
            raise TableError(
                f"{name}, line {line}: a cell holds control characters; delete them and "
                "save the file again"
            )


# --- writing -------------------------------------------------------------------------------


def _row_cells(columns: list[str], row: Mapping[str, Any]) -> list[str]:
    unknown = set(row) - set(columns)
    if unknown:
        raise ValueError(f"values for columns not in the header: {sorted(unknown)}")
    return [_export_text(row.get(column)) for column in columns]


def _export_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "; ".join(_export_text(item) for item in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _write_csv(path: Path, columns: list[str], rows: Iterable[list[str]]) -> int:
    count = 0
    # The BOM tells Excel the file is UTF-8; without it Excel reads it as the local code page.
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for cells in rows:
            writer.writerow(cells)
            count += 1
    return count


def _write_xlsx(path: Path, columns: list[str], rows: Iterable[list[str]]) -> int:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(columns)
    count = 0
    for count, cells in enumerate(rows, start=1):
        for column, text in enumerate(cells, start=1):
            unescaped = _ESCAPED_FORMULA.sub("", text)
            cell = sheet.cell(row=count + 1, column=column, value=unescaped)
            if unescaped != text:
                # What Excel stores when one types '=...: a text cell marked "quoted", shown
                # without the apostrophe and never run, even after the cell is edited.
                cell.data_type = "s"
                cell.quotePrefix = True
    workbook.save(path)
    return count
