"""Reading and writing the spreadsheets people keep: CSV (as any Excel saves it) and XLSX.

A table is a header row and data rows, each row's values keyed by the normalised header
(``Time Zone`` → ``time_zone``) and carrying the line a person sees in their editor: the CSV
physical line where the row starts, or the worksheet row number. Every cell is a stripped string;
what a value means is for the importer to decide.

Anything that is not a readable table raises :class:`TableError`, whose message says how to fix
the file, never a traceback. Files are read as a stream and bounded (``MAX_FILE_BYTES``,
``MAX_ROWS``, ``MAX_CELL_CHARS``): the header is checked before any data row is read, so a wrong
file is refused at once, and a huge one is refused at its first row past the limit instead of
being loaded whole.
"""

from __future__ import annotations

import codecs
import csv
import re
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, BinaryIO

SUFFIXES = (".csv", ".xlsx")
# Bounds on what is read, far above what the ISU keeps (a few thousand records) and below what
# would stall the bot or exhaust its memory; the message says to split a bigger file.
MAX_FILE_BYTES = 20_000_000
MAX_ROWS = 50_000
MAX_CELL_CHARS = 10_000  # the longest value any import takes (a description)
# An .xlsx is a zip: its unpacked XML is bounded too, since openpyxl reads the shared strings
# whole and a small compressed file can unpack to gigabytes.
MAX_UNPACKED_BYTES = 200_000_000
_CHUNK_BYTES = 1 << 20

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection). CSV exports
# put an apostrophe in front, which spreadsheets read as "this is text"; reading a CSV takes one
# leading apostrophe off again when a formula start or a second apostrophe follows it, so text
# that itself starts with an apostrophe is escaped too and every text reads back exactly. XLSX
# needs no escape: its cells are marked as quoted text instead.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = re.compile(r"^'(?=[=+\-@\t\r'])")
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


# Called with the header and its line before any data row is read; it raises to refuse the file.
HeaderCheck = Callable[[tuple[str, ...], int], None]


def normalise_header(name: str) -> str:
    """``' Time Zone '`` → ``time_zone``: lowercase, stripped, inner spaces to underscores."""
    return re.sub(r"\s+", "_", name.strip().lower())


def read_table(path: Path, *, check_header: HeaderCheck | None = None) -> Table:
    """Read a .csv or .xlsx file whose first non-empty row names the columns.

    ``check_header`` sees the column names before any data row is read, so a file with the
    wrong columns is refused without reading the rest of it.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TableError(
            f"{path.name}: cannot read {suffix or 'a file without suffix'}; give a "
            ".csv or .xlsx file"
        )
    try:
        size = path.stat().st_size
    except OSError as error:
        raise TableError(f"{path}: cannot be read ({error.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise TableError(
            f"{path.name} is {size / 1e6:.1f} MB; at most {MAX_FILE_BYTES / 1e6:.0f} MB can be "
            f"imported at once (about {MAX_ROWS:,} rows); split it into smaller files"
        )
    notes: list[str] = []
    lines = _csv_lines(path, notes) if suffix == ".csv" else _xlsx_lines(path)
    try:
        return _build(path.name, lines, notes, check_header)
    finally:
        if isinstance(lines, Generator):
            lines.close()  # closes the workbook or file at once when a check refuses early


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


def _csv_lines(path: Path, notes: list[str]) -> Iterator[tuple[int, list[str]]]:
    """The records of a CSV file, streamed; ``notes`` learns how it was decoded."""
    name = path.name
    try:
        with path.open("rb") as data:
            start = data.read(4)
            encoding = "utf-8-sig" if _is_utf8(data, start) else "windows-1252"
    except OSError as error:
        raise TableError(f"{path}: cannot be read ({error.strerror})") from None
    if start.startswith(_XLSX_MAGIC):
        raise TableError(f"{name} is an Excel workbook, not CSV; rename it to .xlsx")
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TableError(f"{name} is UTF-16 ('Unicode Text'); {SAVE_AS}")
    if encoding == "windows-1252":
        notes.append(
            f"{name} is not UTF-8; read it as Windows-1252 (Western European), as Excel on "
            "Windows saves CSV. Check accented names, or save as 'CSV UTF-8' next time."
        )
    with path.open(encoding=encoding, newline="") as text:
        try:
            first = next((line for line in text if line.strip()), "")
        except UnicodeDecodeError:
            raise TableError(f"{name} is neither UTF-8 nor Windows text; {SAVE_AS}") from None
    # French and other European Excels write ';' because ',' is their decimal separator.
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return _csv_records(path, encoding, delimiter)


def _is_utf8(data: BinaryIO, start: bytes) -> bool:
    """Whether the whole file decodes as UTF-8, read in chunks so memory stays flat."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = start
    try:
        while chunk:
            decoder.decode(chunk)
            chunk = data.read(_CHUNK_BYTES)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _csv_records(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding=encoding, newline="") as text:
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        start = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise TableError(
                    f"{path.name} is neither UTF-8 nor Windows text; {SAVE_AS}"
                ) from None
            except csv.Error as error:
                if "field larger than field limit" in str(error):
                    raise _cell_too_long(path.name, start, MAX_CELL_CHARS + 1) from None
                raise TableError(
                    f"line {start}: {error}; check the quotes in that row (a value with quotes "
                    'inside is written "like ""this"""), or save the file again from a '
                    "spreadsheet"
                ) from None
            if any(_CONTROL.search(cell) for cell in cells):
                raise TableError(
                    f"{path.name} holds binary data (line {start}), so it is not a CSV text "
                    f"file; {SAVE_AS}"
                )
            yield start, [_ESCAPED.sub("", cell.strip()) for cell in cells]
            start = reader.line_num + 1


def _xlsx_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = TableError(
        f"{path.name} is not a readable .xlsx workbook; open it in a spreadsheet and save it "
        "again as an Excel workbook (.xlsx), or as 'CSV UTF-8'"
    )
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
        # openpyxl warns about features it drops (data validation, default styles): harmless.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise unreadable from None
    if unpacked > MAX_UNPACKED_BYTES:
        workbook.close()
        raise TableError(
            f"{path.name} unpacks to {unpacked / 1e6:,.0f} MB, more than the "
            f"{MAX_UNPACKED_BYTES / 1e6:,.0f} MB an import reads; split it into smaller files"
        )
    try:
        if not workbook.worksheets:
            raise TableError(f"{path.name} has no worksheet; put the table on the first sheet")
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(value).strip() for value in values]
    finally:
        workbook.close()


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


def _build(
    name: str,
    lines: Iterator[tuple[int, list[str]]],
    notes: list[str],
    check_header: HeaderCheck | None,
) -> Table:
    header: list[str] | None = None
    header_line = 0
    rows: list[Row] = []
    for line, cells in lines:
        if not any(cells):
            continue  # blank lines, and the ",,,," rows Excel leaves below a table
        _check_cells(name, line, cells)
        if header is None:
            header, header_line = [normalise_header(cell) for cell in cells], line
            _check_header(name, header, header_line)
            if check_header is not None:
                check_header(tuple(h for h in header if h), header_line)
            continue
        if len(rows) == MAX_ROWS:
            raise TableError(
                f"{name} has more than {MAX_ROWS:,} rows, the most one import takes; split it "
                f"into files of at most {MAX_ROWS:,} rows (each with the header row) and import "
                "them one after another"
            )
        rows.append(_row(name, header, header_line, line, cells))
    if header is None:
        raise TableError(
            f"{name} is empty; its first row must name the columns (for example name,email,role)"
        )
    return Table(tuple(h for h in header if h), rows, header_line, notes)


def _row(name: str, header: list[str], header_line: int, line: int, cells: list[str]) -> Row:
    width = len(header)
    if any(cells[width:]):
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
        values[column] = text
    return Row(line, values)


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


def _check_cells(name: str, line: int, cells: list[str]) -> None:
    for cell in cells:
        if len(cell) > MAX_CELL_CHARS:
            raise _cell_too_long(name, line, len(cell))
        if _CONTROL.search(cell):
            raise TableError(
                f"{name}, line {line}: a cell holds control characters; delete them and "
                "save the file again"
            )


def _cell_too_long(name: str, line: int, length: int) -> TableError:
    return TableError(
        f"{name}, line {line}: a cell holds {length:,} characters or more; at most "
        f"{MAX_CELL_CHARS:,} fit in one cell, so shorten it"
    )


# --- writing -------------------------------------------------------------------------------


def _row_cells(columns: list[str], row: Mapping[str, Any]) -> list[str]:
    unknown = set(row) - set(columns)
    if unknown:
        raise ValueError(f"values for columns not in the header: {sorted(unknown)}")
    return [_export_text(row.get(column)) for column in columns]


def _export_text(value: object) -> str:
    """The cell text an import reads back as ``value``; text is defused (see ``_ESCAPED``)."""
    text = _plain_text(value)
    return _defused(text) if isinstance(value, str | list | tuple) else text


def _plain_text(value: object) -> str:
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
        # Defused once as a whole cell: only a cell's first character can start a formula.
        return "; ".join(_plain_text(item) for item in value)
    return str(value)


def _defused(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) or _ESCAPED.match(text) else text


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
            # The text itself, not its CSV escape: an XLSX cell says it is text on its own.
            unescaped = _ESCAPED.sub("", text)
            cell = sheet.cell(row=count + 1, column=column, value=unescaped)
            if unescaped.startswith(FORMULA_STARTS):
                # What Excel stores when one types '=...: a text cell marked "quoted", shown
                # without the apostrophe and never run, even after the cell is edited.
                cell.data_type = "s"
                cell.quotePrefix = True
    workbook.save(path)
    return count
