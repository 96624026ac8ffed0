"""The shipped treaty facts: States Parties, signatories and the Article 3/4 deadline history.

The defaults CLDR gives (names, language, zone, weekend) are in ``storage.cldr_defaults``; the
provenance of every fact is ``storage.sourced.Sourced``. The three files' readers stay together
(about 600 lines) because they share one scheme of row checks and the facts' types, and an ISU
fixing a file reads them as one.

Every fact carries where it came from (`Sourced`): a source's addresses when the CSV states it, the
treaty rule when we computed it, or the CLDR data when it is only a default the ISU may correct. The
readers validate a whole file before returning anything, so an ISU that loads a corrected file gets
every bad row at once, each with its line number and how to fix it.

Pure code: no database, no settings. The loader in the bot turns these records into rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Literal, TypeVar

from storage.cldr_defaults import (
    CLDR,
    UN_NAME_SOURCE,
    UN_NAMES,
    cldr_name,
    default_language,
    default_timezone,
    default_weekend,
    iso2_for,
    zone_exists,
)
from storage.sourced import Language, Sourced

T = TypeVar("T")

Status = Literal["party", "withdrawn", "signatory"]
Article = Literal[3, 4]

STATES_FILE = "ccm_states_parties.csv"
SIGNATORIES_FILE = "ccm_signatories_not_ratified.csv"
HISTORY_FILE = "ccm_article3_4_deadlines.csv"

# Article 17(1): the Convention entered into force on 1 August 2010, the first day of the sixth
# month after the month (February 2010) of the thirtieth instrument. The 30th and 29th
# instruments (Burkina Faso, Moldova) were both deposited on 16 February 2010 (UN depositary:
# https://treaties.un.org/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-6.en.xml).
CONVENTION_ENTRY_INTO_FORCE = date(2010, 8, 1)
THIRTIETH_INSTRUMENT_DEPOSITED = date(2010, 2, 16)
ART17_FIRST_30 = (
    "Art. 17(1): the first 30 instruments (deposited by 16 February 2010) took effect "
    "on 1 August 2010"
)
ART17_LATER = "Art. 17(2): first day of the sixth month after the month of deposit"
# Article 7(1): the initial transparency report is due within 180 days of entry into force.
INITIAL_REPORT_DAYS = 180

# The CCM's 2011 regional groupings, which the shipped file uses throughout.
REGIONS = frozenset({"Africa", "Americas", "Asia", "Europe", "Middle East", "Pacific"})

# History events that record an obligation fulfilled (matched at the start of the event text).
COMPLETION_EVENTS = (
    "completed",
    "completion declared",
    "fulfilled",
    "fulfilment declared",
    "clearance completed",
    "stockpile destruction completed",
)

_ISO3 = re.compile(r"[A-Z]{3}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A source part such as "art4: https://…", "eif+art3: …" or "art4 (as of 2022): …" backs only the
# facts it names; an unlabelled part backs the whole row.
_LABELLED_PART = re.compile(r"(?P<keys>[a-z0-9]+(?:\+[a-z0-9]+)*)(?:\s*\([^)]*\))?:\s")
# A deadline event's leading phrase ends with "deadline": "original deadline", "extended
# deadline (18 months, 2RC)", "final deadline"; not "deadline then in force; …".
_DEADLINE_PHRASE = re.compile(r"^[^(;]*\bdeadline\s*(?:\(|$)")


class TreatyDataError(ValueError):
    """A treaty data file has rows we cannot use; the message lists every one."""

    def __init__(self, file: str, problems: Sequence[RowProblem]) -> None:
        self.file = file
        self.problems = tuple(sorted(problems, key=lambda problem: problem.line))
        lines = [
            f"{file}: {len(self.problems)} problem(s); correct them and load the file again:",
            *(f"  line {p.line}: {p.reason}" for p in self.problems),
        ]
        super().__init__("\n".join(lines))


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Completion:
    """An obligation reported fulfilled: the exact date when a source gives one, else its words."""

    on: date | None
    as_stated: str


@dataclass(frozen=True, slots=True)
class StateFacts:
    """What the treaty data says about one State, each fact with its provenance."""

    iso3: str
    iso2: str
    name_en: Sourced[str]
    name_fr: Sourced[str]
    name_es: Sourced[str]
    region: Sourced[str] | None
    status: Sourced[Status]
    status_date: Sourced[date] | None
    instrument_deposited: Sourced[date] | None
    entry_into_force: Sourced[date] | None
    language: Sourced[Language]
    timezone: Sourced[str]
    weekend: Sourced[frozenset[int]]
    art3_deadline: Sourced[date] | None
    art4_deadline: Sourced[date] | None
    art3_completed: Sourced[Completion] | None
    art4_completed: Sourced[Completion] | None
    source: str
    line: int  # where the row starts in its file, for messages about it

    def name(self, language: str) -> str:
        names = {"fr": self.name_fr, "es": self.name_es}
        return names.get(language, self.name_en).value


EventKind = Literal["deadline", "completion", "note"]


@dataclass(frozen=True, slots=True)
class DeadlineEvent:
    """One row of the deadline history file."""

    line: int
    iso3: str
    article: Article
    event: str
    on: date | None
    as_stated: str
    source: str

    @property
    def kind(self) -> EventKind:
        """A deadline needs an exact date; a dated request or an undated deadline is a note."""
        text = self.event.casefold()
        if text.startswith(COMPLETION_EVENTS):
            return "completion"
        if self.on is not None and _DEADLINE_PHRASE.match(text):
            return "deadline"
        return "note"


@dataclass(frozen=True, slots=True)
class Deadline:
    due: date
    label: str
    as_stated: str
    source: str


@dataclass(frozen=True, slots=True)
class ObligationHistory:
    """One State's Article 3 or 4 deadlines as the history file records them."""

    iso3: str
    article: Article
    original: Deadline | None
    extensions: tuple[Deadline, ...]
    completion: Sourced[Completion] | None
    notes: tuple[DeadlineEvent, ...]

    @property
    def latest(self) -> Deadline | None:
        deadlines = [*([self.original] if self.original else []), *self.extensions]
        return max(deadlines, key=lambda d: d.due, default=None)


@dataclass(frozen=True, slots=True)
class TreatyData:
    """Parties, the withdrawn State and signatories, plus the deadline history, cross-checked."""

    states: tuple[StateFacts, ...]
    history: tuple[DeadlineEvent, ...]


# --- Treaty rules -------------------------------------------------------------------------------


def article17_entry_into_force(deposited: date) -> date:
    """Entry into force for an instrument deposited on `deposited` (Article 17)."""
    if deposited <= THIRTIETH_INSTRUMENT_DEPOSITED:
        return CONVENTION_ENTRY_INTO_FORCE
    year, month = divmod(deposited.year * 12 + deposited.month - 1 + 6, 12)
    return date(year, month + 1, 1)


def article17_rule(deposited: date) -> str:
    return ART17_FIRST_30 if deposited <= THIRTIETH_INSTRUMENT_DEPOSITED else ART17_LATER


# --- CSV plumbing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    values: Mapping[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


def _label(path: Path | None, packaged: str) -> str:
    return f"packaged {packaged}" if path is None else str(path)


def _read_text(path: Path | None, packaged: str) -> tuple[str, str]:
    """The file's text (a BOM from Excel dropped) and the name to use in error messages."""
    if path is None:
        resource = resources.files("storage") / "data" / packaged
        return resource.read_text(encoding="utf-8-sig"), _label(path, packaged)
    return Path(path).read_text(encoding="utf-8-sig"), _label(path, packaged)


def _rows(text: str, label: str, required: Sequence[str], problems: list[RowProblem]) -> list[_Row]:
    """Rows as column -> stripped value, each with the line it starts on. Blank lines skipped."""
    reader = csv.reader(io.StringIO(text))
    header = [name.strip() for name in next(reader, [])]
    missing = [name for name in required if name not in header]
    if missing:
        problems.append(
            RowProblem(
                1,
                f"the header lacks column(s) {', '.join(missing)}; the first line must name "
                f"the columns {', '.join(required)}",
            )
        )
        raise TreatyDataError(label, problems)
    rows = []
    start = reader.line_num + 1
    for fields in reader:
        line, start = start, reader.line_num + 1
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            problems.append(
                RowProblem(
                    line,
                    f"has {len(fields)} fields where the header has {len(header)}; "
                    "quote any value that contains a comma",
                )
            )
            continue
        rows.append(_Row(line, {k: v.strip() for k, v in zip(header, fields, strict=True)}))
    return rows


def _date(row: _Row, column: str, problems: list[RowProblem], *, required: bool) -> date | None:
    text = row[column]
    if not text:
        if required:
            problems.append(RowProblem(row.line, f"{column} is empty; give it as YYYY-MM-DD"))
        return None
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        problems.append(
            RowProblem(
                row.line,
                f"{column} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2010-08-01",
            )
        )
        return None


def _iso3(row: _Row, problems: list[RowProblem], seen: dict[str, int]) -> tuple[str, str] | None:
    """The row's ISO3 and ISO2 codes, or None after recording why not."""
    code = row["iso3"]
    if not _ISO3.fullmatch(code):
        problems.append(
            RowProblem(row.line, f"iso3 {code!r} must be three capital letters, e.g. AFG")
        )
        return None
    iso2 = iso2_for(code)
    if iso2 is None:
        problems.append(RowProblem(row.line, f"iso3 {code} is not an ISO 3166-1 alpha-3 code"))
        return None
    if code in seen:
        problems.append(
            RowProblem(
                row.line, f"{code} already appears on line {seen[code]}; keep one row per State"
            )
        )
        return None
    seen[code] = row.line
    return code, iso2


def _require_text(row: _Row, column: str, problems: list[RowProblem], hint: str) -> None:
    if not row[column]:
        problems.append(RowProblem(row.line, f"{column} is empty; {hint}"))


def _sourced(value: T, source: str, key: str) -> Sourced[T]:
    return Sourced(value, "sourced", _source_for(source, key))


def _source_for(source: str, key: str) -> str:
    """The parts of a row's source that back one fact (see _LABELLED_PART)."""
    parts = [part.strip() for part in source.split(" | ") if part.strip()]
    labelled, general = [], []
    for part in parts:
        match = _LABELLED_PART.match(part)
        if match is None:
            general.append(part)
        elif key in match["keys"].split("+"):
            labelled.append(part)
    return " | ".join(labelled or general or parts)


def _cldr_facts(
    row: _Row, iso3: str, iso2: str, problems: list[RowProblem]
) -> tuple[Sourced[str], Sourced[str], Sourced[Language], Sourced[str], Sourced[frozenset[int]]]:
    names: dict[Language, Sourced[str]] = {}
    for language in ("fr", "es"):
        override = UN_NAMES.get(iso3, {}).get(language)
        cldr = cldr_name(iso2, language)
        if override:
            names[language] = Sourced(override, "default", UN_NAME_SOURCE)
        elif cldr:
            names[language] = Sourced(cldr, "default", CLDR)
        else:
            names[language] = Sourced(row["name"], "default", f"no CLDR name; {language} = en")
    zone = default_timezone(iso3, iso2)
    if not zone_exists(zone.value):
        problems.append(
            RowProblem(
                row.line,
                f"{iso3}'s time zone {zone.value} is unknown to this system's tz database; "
                "upgrade the tzdata package",
            )
        )
    return names["fr"], names["es"], default_language(iso2), zone, default_weekend(iso2)


# --- Readers ------------------------------------------------------------------------------------

STATES_COLUMNS = (
    "iso3",
    "name",
    "region",
    "instrument_deposited",
    "entry_into_force",
    "status",
    "status_date",
    "art3_deadline",
    "art4_deadline",
    "source",
)
SIGNATORIES_COLUMNS = ("iso3", "name", "signature_date", "source")
HISTORY_COLUMNS = ("iso3", "article", "event", "date", "as_stated", "source")


def read_deadline_history(path: Path | None = None) -> list[DeadlineEvent]:
    """The Article 3/4 deadline history (None = the packaged file), in file order."""
    text, label = _read_text(path, HISTORY_FILE)
    problems: list[RowProblem] = []
    events = []
    for row in _rows(text, label, HISTORY_COLUMNS, problems):
        before = len(problems)
        if not _ISO3.fullmatch(row["iso3"]):
            problems.append(
                RowProblem(row.line, f"iso3 {row['iso3']!r} must be three capital letters")
            )
        if row["article"] not in ("3", "4"):
            problems.append(RowProblem(row.line, f"article {row['article']!r} must be 3 or 4"))
        _require_text(row, "event", problems, "say what happened, e.g. 'extended deadline'")
        _require_text(row, "source", problems, "give the address that states the event")
        on = _date(row, "date", problems, required=False)
        if len(problems) == before:
            article: Article = 3 if row["article"] == "3" else 4
            events.append(
                DeadlineEvent(
                    row.line,
                    row["iso3"],
                    article,
                    row["event"],
                    on,
                    row["as_stated"],
                    row["source"],
                )
            )
    if problems:
        raise TreatyDataError(label, problems)
    return events


def obligation_history(
    iso3: str, article: Article, events: Iterable[DeadlineEvent]
) -> ObligationHistory:
    """One State's deadlines for one article: the original, each extension, completion, notes."""
    mine = [e for e in events if e.iso3 == iso3 and e.article == article]
    original: Deadline | None = None
    extensions: list[Deadline] = []
    completion: Sourced[Completion] | None = None
    notes: list[DeadlineEvent] = []
    for event in mine:
        if event.kind == "completion":
            # The last one listed wins: a later declaration supersedes an earlier report.
            completion = Sourced(Completion(event.on, event.as_stated), "sourced", event.source)
        elif event.kind == "deadline" and event.on is not None:
            deadline = Deadline(event.on, event.event, event.as_stated, event.source)
            if event.event.casefold().startswith("original") and original is None:
                original = deadline
            else:
                extensions.append(deadline)
        else:
            notes.append(event)
    extensions.sort(key=lambda d: d.due)
    return ObligationHistory(iso3, article, original, tuple(extensions), completion, tuple(notes))


def read_states(path: Path | None = None, *, history_path: Path | None = None) -> list[StateFacts]:
    """States Parties and the withdrawn State (None = the packaged files), in file order.

    Completions come from the deadline history (`history_path`, None = the packaged file).
    """
    text, label = _read_text(path, STATES_FILE)
    history = read_deadline_history(history_path)
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    states = []
    for row in _rows(text, label, STATES_COLUMNS, problems):
        before = len(problems)
        codes = _iso3(row, problems, seen)
        _require_text(row, "name", problems, "give the State's English name")
        _require_text(row, "source", problems, "give the addresses that state the row's facts")
        if row["region"] not in REGIONS:
            problems.append(
                RowProblem(
                    row.line,
                    f"region {row['region']!r} must be one of {', '.join(sorted(REGIONS))}",
                )
            )
        status = row["status"]
        if status not in ("party", "withdrawn"):
            problems.append(
                RowProblem(row.line, f"status {status!r} must be 'party' or 'withdrawn'")
            )
        deposited = _date(row, "instrument_deposited", problems, required=True)
        eif = _date(row, "entry_into_force", problems, required=False)
        status_date = _date(row, "status_date", problems, required=status == "withdrawn")
        art3 = _date(row, "art3_deadline", problems, required=False)
        art4 = _date(row, "art4_deadline", problems, required=False)
        if deposited and eif and eif < deposited:
            problems.append(
                RowProblem(
                    row.line,
                    f"entry_into_force {eif} precedes instrument_deposited {deposited}; "
                    "check both dates",
                )
            )
        if codes is None or deposited is None or len(problems) != before:
            continue
        iso3, iso2 = codes
        name_fr, name_es, language, zone, weekend = _cldr_facts(row, iso3, iso2, problems)
        source = row["source"]
        if eif is None:
            entry = Sourced(
                article17_entry_into_force(deposited), "computed", article17_rule(deposited)
            )
        else:
            entry = _sourced(eif, source, "eif")
        status_value: Status = "withdrawn" if status == "withdrawn" else "party"
        states.append(
            StateFacts(
                iso3=iso3,
                iso2=iso2,
                name_en=_sourced(row["name"], source, "name"),
                name_fr=name_fr,
                name_es=name_es,
                region=_sourced(row["region"], source, "region"),
                status=_sourced(
                    status_value, source, "withdrawal" if status == "withdrawn" else "status"
                ),
                status_date=_sourced(status_date, source, "withdrawal") if status_date else None,
                instrument_deposited=_sourced(deposited, source, "deposit"),
                entry_into_force=entry,
                language=language,
                timezone=zone,
                weekend=weekend,
                art3_deadline=_sourced(art3, source, "art3") if art3 else None,
                art4_deadline=_sourced(art4, source, "art4") if art4 else None,
                art3_completed=obligation_history(iso3, 3, history).completion,
                art4_completed=obligation_history(iso3, 4, history).completion,
                source=source,
                line=row.line,
            )
        )
    if problems:
        raise TreatyDataError(label, problems)
    return states


def read_signatories(path: Path | None = None) -> list[StateFacts]:
    """Signatories that have not ratified (None = the packaged file), status "signatory"."""
    text, label = _read_text(path, SIGNATORIES_FILE)
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    states = []
    for row in _rows(text, label, SIGNATORIES_COLUMNS, problems):
        before = len(problems)
        codes = _iso3(row, problems, seen)
        _require_text(row, "name", problems, "give the State's English name")
        _require_text(row, "source", problems, "give the addresses that state the signature")
        signed = _date(row, "signature_date", problems, required=False)
        if codes is None or len(problems) != before:
            continue
        iso3, iso2 = codes
        name_fr, name_es, language, zone, weekend = _cldr_facts(row, iso3, iso2, problems)
        source = row["source"]
        states.append(
            StateFacts(
                iso3=iso3,
                iso2=iso2,
                name_en=Sourced(row["name"], "sourced", source),
                name_fr=name_fr,
                name_es=name_es,
                region=None,
                status=Sourced("signatory", "sourced", source),
                status_date=Sourced(signed, "sourced", source) if signed else None,
                instrument_deposited=None,
                entry_into_force=None,
                language=language,
                timezone=zone,
                weekend=weekend,
                art3_deadline=None,
                art4_deadline=None,
                art3_completed=None,
                art4_completed=None,
                source=source,
                line=row.line,
            )
        )
    if problems:
        raise TreatyDataError(label, problems)
    return states


def load_treaty_data(
    states_path: Path | None = None,
    signatories_path: Path | None = None,
    history_path: Path | None = None,
) -> TreatyData:
    """All three files (None = packaged), checked against each other.

    A signatory may not also be a party, and every history row must name a State in the files.
    """
    parties = read_states(states_path, history_path=history_path)
    signatories = read_signatories(signatories_path)
    history = read_deadline_history(history_path)
    party_codes = {s.iso3 for s in parties}
    clashes = [s for s in signatories if s.iso3 in party_codes]
    if clashes:
        raise TreatyDataError(
            _label(signatories_path, SIGNATORIES_FILE),
            [
                RowProblem(
                    s.line, f"{s.iso3} is also in the States Parties file; keep it in only one"
                )
                for s in clashes
            ],
        )
    known = party_codes | {s.iso3 for s in signatories}
    unknown = [e for e in history if e.iso3 not in known]
    if unknown:
        raise TreatyDataError(
            _label(history_path, HISTORY_FILE),
            [
                RowProblem(
                    e.line,
                    f"{e.iso3} is in neither the States Parties nor the signatories file; "
                    "fix the code or add the State",
                )
                for e in unknown
            ],
        )
    return TreatyData((*parties, *signatories), tuple(history))
