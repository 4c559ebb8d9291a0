"""Importing pupils from a school administration's CSV export (ParnasSys, Magister, Somtoday...), all or nothing,
for `oja pupil import` and the dossier's upload page. `parse_pupils_csv` reads the bytes (UTF-8, UTF-16 or
Windows-1252; `;`, `,` or tab; English or Dutch header names) and never raises; `check_pupils` puts every row
through the real rules (`register_pupil`, in a savepoint rolled back), the file's own duplicates and the
coordinator's school, writing nothing; `import_pupils` checks, then registers every pupil in the caller's
transaction, or raises `PupilImportRefused` with every problem. A `Problem` names the line in the file (the
header is line 1), the field and the rule, in Dutch; never a value.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import functools
import io
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session, select

from models.errors import InvalidInput, UnknownReference
from models.identity import validate_birth_date, validate_bsn, validate_onderwijsnummer
from models.tables import Municipality, School
from oja.services.kernel import clean_code, clean_text
from oja.services.pupils import ParentSpec, register_pupil

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
COLUMNS: tuple[str, ...] = ("given_name", "family_name", "birth_date", "school_code", "municipality_code")
COLUMNS += ("bsn", "onderwijsnummer", "parent_1", "parent_2")
REQUIRED = ("given_name", "family_name", "birth_date", "municipality_code")  # and a bsn or onderwijsnummer column
FILE = "bestand"  # the field of a problem with the file as a whole
HEADER = "header"  # the field of a problem with the header row

# Header names, lower case, letters and digits only ("Ouder 1", "ouder_1" and "OUDER1" are all "ouder1"):
# for each column, in order of preference when a file has more than one of them (a "Roepnaam" over "Voornamen").
ALIASES: dict[str, tuple[str, ...]] = {
    "given_name": ("givenname", "roepnaam", "voornaam", "voornamen", "firstname"),
    "family_name": ("familyname", "achternaam", "geslachtsnaam", "lastname"),
    "tussenvoegsel": ("tussenvoegsel", "tussenvoegsels", "voorvoegsel", "voorvoegsels"),
    "birth_date": ("birthdate", "geboortedatum", "dateofbirth"),
    "school_code": ("schoolcode", "brin", "brinnummer", "brincode", "school"),
    "municipality_code": ("municipalitycode", "gemeentecode", "gemeente", "woongemeente"),
    "bsn": ("bsn", "burgerservicenummer"),
    "onderwijsnummer": ("onderwijsnummer", "onderwijsnr"),
    "parent_1": ("parent1", "ouder1", "verzorger1"),
    "parent_2": ("parent2", "ouder2", "verzorger2"),
}
DUTCH = {"given_name": "roepnaam", "family_name": "achternaam", "birth_date": "geboortedatum"}  # a missing column
DUTCH["municipality_code"] = "gemeentecode"
EXTRA = "meer waarden dan de kopregel kolommen heeft (een ; of , in een naam? zet die naam tussen aanhalingstekens)"
DATE_RULE = "moet een datum zijn als 2012-03-04 of 4-3-2012 (dag-maand-jaar)"
_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})", re.ASCII)
_DUTCH_DATE = re.compile(r"(?P<d>\d{1,2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})", re.ASCII)
_EXCEL_SEP = re.compile(r"sep=([,;\t|])[^\S\n]*\n", re.IGNORECASE)
_MUNICIPALITY = re.compile(r"GM\d{4}", re.ASCII)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One error: `line` in the file (the header is 1; None for the file as a whole), the field (a canonical
    column, `header` or `bestand`), the rule in Dutch, and the column's name as in the file's header."""

    line: int | None
    field: str
    rule: str
    column: str = ""

    def __str__(self) -> str:
        where = f"regel {self.line}: " if self.line is not None else ""
        return f"{where}{self.column or self.field}: {self.rule}"


@dataclasses.dataclass(frozen=True)
class CsvRow:
    line: int  # where the row starts in the file; the header is line 1
    values: Mapping[str, str]  # canonical column -> its text, trimmed ("" if none); family_name with its tussenvoegsel
    problems: tuple[Problem, ...] = ()  # the row's own shape (more values than the header has columns)


@dataclasses.dataclass(frozen=True)
class ParsedCsv:
    rows: tuple[CsvRow, ...]  # empty when there are problems
    problems: tuple[Problem, ...]  # the file's: size, encoding, header
    columns: Mapping[str, str]  # canonical column (and "tussenvoegsel") -> its name in the file's header
    ignored: tuple[str, ...] = ()  # header names not used
    encoding: str = ""
    delimiter: str = ""


@dataclasses.dataclass(frozen=True)
class PreviewRow:
    """A row as it would be imported: personal data for the coordinator's screen; the numbers masked."""

    line: int
    given_name: str
    family_name: str
    birth_date: dt.date | None  # None when it is not a date
    school_code: str
    municipality_code: str
    bsn: str  # "*****1234": the last four digits only; "" when none
    onderwijsnummer: str  # likewise
    parents: tuple[str, ...]
    errors: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclasses.dataclass(frozen=True)
class Preview:
    rows: tuple[PreviewRow, ...]
    problems: tuple[Problem, ...]  # the file's (then there are no rows)

    @property
    def ok_count(self) -> int:
        return sum(row.ok for row in self.rows)

    @property
    def bad_count(self) -> int:
        return len(self.rows) - self.ok_count

    @property
    def ok(self) -> bool:
        """Whether the file can be imported: no problem at all."""
        return not self.problems and self.bad_count == 0

    @property
    def all_problems(self) -> tuple[Problem, ...]:
        return self.problems + tuple(p for row in self.rows for p in row.errors)


class PupilImportRefused(InvalidInput):
    """The file has errors: nothing was imported. `problems` holds every one of them."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        super().__init__(FILE, f"{len(problems)} fout(en) in het bestand; niets geïmporteerd")


def parse_pupils_csv(data: bytes) -> ParsedCsv:
    """The rows of a CSV export, by canonical column; never raises (a problem is in `problems`)."""
    if len(data) > MAX_BYTES:
        return _refused(f"het bestand is groter dan {MAX_BYTES // (1024 * 1024)} MB; splits het")
    decoded = _decode(data)
    if decoded is None:
        return _refused("het bestand is geen tekst in UTF-8 of Windows-1252 (een CSV-bestand)")
    text, encoding = decoded
    excel = _EXCEL_SEP.match(text)  # Excel's own first line "sep=;": blanked, so the lines keep their numbers
    try:
        delimiter, text = (excel[1], "\n" + text[excel.end() :]) if excel else (_delimiter(text), text)
        records = _records(text, delimiter)
    except csv.Error:
        return _refused("het bestand is geen leesbaar CSV-bestand")
    if not records:
        return _refused("het bestand is leeg")
    header = records[0][1]
    columns, positions, problems = _map_header(*records[0])
    ignored = tuple(name.strip() for i, name in enumerate(header) if i not in positions.values() and name.strip())
    body = records[1 : MAX_ROWS + 2]
    if len(body) > MAX_ROWS:
        problems.append(Problem(None, FILE, f"het bestand heeft meer dan {MAX_ROWS} leerlingen; splits het"))
    elif not body and not problems:
        problems.append(Problem(None, FILE, "het bestand heeft geen leerlingen, alleen een kopregel"))
    if problems:
        return ParsedCsv((), tuple(problems), columns, ignored, encoding, delimiter)
    rows = tuple(_row(line, cells, positions, len(header)) for line, cells in body)
    return ParsedCsv(rows, (), columns, ignored, encoding, delimiter)


def check_pupils(session: Session, parsed: ParsedCsv, *, today: dt.date, school_code: str | None) -> Preview:
    """Every row through the rules of `register_pupil`, without writing: what `import_pupils` would do. With
    `school_code` (a coordinator's own school) a row of another school is an error; an empty school is that one."""
    return _check(session, parsed, today, school_code, write=False)[0]


def import_pupils(session: Session, parsed: ParsedCsv, *, today: dt.date, school_code: str | None = None) -> list[str]:
    """Register every pupil of the file in the caller's transaction and return their references, in the file's
    order; or, when any row has an error, raise `PupilImportRefused` with every problem and write nothing."""
    return _check(session, parsed, today, school_code, write=True)[1]


def mask(number: str) -> str:
    """A BSN or onderwijsnummer as shown: the last four digits only."""
    digits = re.sub(r"[\s.-]", "", number)
    return "" if not digits else "*****" + (digits[-4:] if len(digits) > 4 else "")


def parse_day(text: str) -> dt.date:
    """A date as ISO (2012-03-04) or Dutch day-month-year (4-3-2012, 04-03-2012, 04/03/2012, 4.3.2012)."""
    if not text:
        raise InvalidInput("birth_date", "mag niet leeg zijn")
    found = _ISO.fullmatch(text) or _DUTCH_DATE.fullmatch(text)
    with contextlib.suppress(ValueError):
        if found:
            return dt.date(int(found["y"]), int(found["m"]), int(found["d"]))
    raise InvalidInput("birth_date", DATE_RULE)


def _refused(rule: str) -> ParsedCsv:
    return ParsedCsv((), (Problem(None, FILE, rule),), {})


def _decode(data: bytes) -> tuple[str, str] | None:
    for encoding in ["utf-16"] if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ["utf-8-sig", "cp1252"]:
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode(encoding), encoding
    return None


def _key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


_COLUMN_OF = {alias: (column, rank) for column, aliases in ALIASES.items() for rank, alias in enumerate(aliases)}


def _delimiter(text: str) -> str:
    """`;`, `,` or tab: the one that makes the most known columns of the first line, then the most columns."""
    first = next((line for line in text.splitlines() if line.strip()), "")

    def score(delimiter: str) -> tuple[int, int]:
        names = next(csv.reader([first], delimiter=delimiter), [])
        return sum(_key(n) in _COLUMN_OF for n in names), len(names)

    return max((",", ";", "\t"), key=score)


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """The non-blank records with the line each starts on; stops reading after the most rows allowed."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    line = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            records.append((line, cells))
            if len(records) > MAX_ROWS + 1:
                break
        line = reader.line_num + 1
    return records


def _map_header(line: int, header: list[str]) -> tuple[dict[str, str], dict[str, int], list[Problem]]:
    """Canonical column -> its header name, and -> its position; and the header's problems."""
    best: dict[str, tuple[int, int]] = {}  # column -> (rank of its alias, position)
    problems: list[Problem] = []
    seen: set[str] = set()
    for position, name in enumerate(header):
        key = _key(name)
        if key and key in seen:
            problems.append(Problem(line, HEADER, f"de kolom '{name.strip()}' staat meer dan eens in de kopregel"))
        seen.add(key)
        if key in _COLUMN_OF:
            column, rank = _COLUMN_OF[key]
            if column not in best or rank < best[column][0]:
                best[column] = (rank, position)
    positions = {column: position for column, (_rank, position) in best.items()}
    for column in REQUIRED:
        if column not in positions:
            problems.append(Problem(line, HEADER, f"de kolom {DUTCH[column]} ({column}) ontbreekt"))
    if "bsn" not in positions and "onderwijsnummer" not in positions:
        problems.append(Problem(line, HEADER, "de kolom bsn ontbreekt (of, voor wie geen BSN heeft, onderwijsnummer)"))
    return {column: header[p].strip() for column, p in positions.items()}, positions, problems


def _row(line: int, cells: list[str], positions: Mapping[str, int], width: int) -> CsvRow:
    def cell(column: str) -> str:
        p = positions.get(column)
        return cells[p].strip() if p is not None and p < len(cells) else ""

    values = {column: cell(column) for column in COLUMNS}
    if cell("tussenvoegsel") and values["family_name"]:
        values["family_name"] = f"{cell('tussenvoegsel')} {values['family_name']}"
    extra = any(c.strip() for c in cells[width:])
    return CsvRow(line, values, (Problem(line, "regel", EXTRA),) if extra else ())


def _problem(line: int, exc: InvalidInput, columns: Mapping[str, str]) -> Problem:
    return Problem(line, exc.field, exc.rule, columns.get(exc.field, ""))


Registration = Callable[[Session], str]
Known = Mapping[tuple[str, str], object]  # ("school" or "gemeente", its code) -> the row
Duplicates = Mapping[tuple[str, str], list[int]]  # (bsn or onderwijsnummer, the number) -> the lines it is on
NUMBERS = (("bsn", validate_bsn), ("onderwijsnummer", validate_onderwijsnummer))


def _check(
    session: Session, parsed: ParsedCsv, today: dt.date, school_code: str | None, *, write: bool
) -> tuple[Preview, list[str]]:
    """The preview; and with `write`, when it is all right, every pupil registered (else `PupilImportRefused`)."""
    own_school = school_code.strip().upper() if school_code is not None else None
    lines: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row, (field, validate) in itertools.product(parsed.rows, NUMBERS):
        with contextlib.suppress(InvalidInput):
            lines[(field, validate(row.values[field]))].append(row.line)
    # every school and municipality, held here, so that register_pupil finds them in the session's identity map
    known: dict[tuple[str, str], object] = {("school", s.code): s for s in session.exec(select(School))}
    known |= {("gemeente", m.code): m for m in session.exec(select(Municipality))}
    rows: list[PreviewRow] = []
    registrations: list[tuple[int, Registration]] = []
    # One savepoint, rolled back: the rows registered so far stay in it for the later rows' checks. Not one per row
    # (thousands would overflow PostgreSQL's subtransaction cache): register_pupil refuses before it writes.
    everything = session.begin_nested()
    try:
        for row in parsed.rows:
            preview, registration = _check_row(row, parsed.columns, today, own_school, lines, known)
            try:
                if registration is not None:
                    registration(session)
                    registrations.append((row.line, registration))
            except InvalidInput as exc:
                preview = dataclasses.replace(preview, errors=(_problem(row.line, exc, parsed.columns),))
            rows.append(preview)
    finally:
        everything.rollback()  # nothing written
    result = Preview(tuple(rows), parsed.problems)
    if write and not result.ok:
        raise PupilImportRefused(result.all_problems)
    refs = []
    for line, registration in registrations if write else []:
        try:
            refs.append(registration(session))
        except InvalidInput as exc:  # changed since the check (another import at the same time): the caller rolls back
            raise PupilImportRefused((_problem(line, exc, parsed.columns),)) from None
    return result, refs


def _check_row(
    row: CsvRow, columns: Mapping[str, str], today: dt.date, school: str | None, dups: Duplicates, known: Known
) -> tuple[PreviewRow, Registration | None]:
    """The row's errors, every one (the rules of `register_pupil`, field by field), and how it is registered."""
    v = row.values
    errors = list(row.problems)
    fields: dict[str, Any] = {}  # register_pupil's arguments, as far as they are valid

    def attempt(field: str | None, check: Callable[[], object]) -> None:
        try:
            value = check()
        except InvalidInput as exc:
            errors.append(_problem(row.line, exc, columns))
        else:
            if field:
                fields[field] = value

    def error(field: str, rule: str) -> None:
        errors.append(Problem(row.line, field, rule, columns.get(field, "")))

    attempt("given_name", lambda: clean_text(v["given_name"], "given_name"))
    attempt("family_name", lambda: clean_text(v["family_name"], "family_name"))
    attempt("birth_date", lambda: parse_day(v["birth_date"]))
    if "birth_date" in fields:
        attempt(None, lambda: validate_birth_date(fields["birth_date"], today))
    if school is not None and v["school_code"] and v["school_code"].upper() != school:
        error("school_code", f"u kunt alleen leerlingen van school {school} importeren")
    code = v["school_code"].upper() or school or ""
    if not code:
        error("school_code", "mag niet leeg zijn")
    else:
        attempt(None, lambda: _known(known, "school", "school_code", clean_code(code, "school_code")))
    attempt("municipality_code", lambda: _known(known, "gemeente", "municipality_code", v["municipality_code"].upper()))
    if not v["bsn"] and not v["onderwijsnummer"]:
        error("bsn", "geef een BSN, of zonder BSN een onderwijsnummer")
    for field, validate in NUMBERS:
        if v[field]:
            attempt(field, lambda: validate(v[field]))  # noqa: B023 - called at once
        others = [str(n) for n in dups.get((field, fields.get(field, "")), []) if n != row.line]
        if others:
            error(field, f"hetzelfde nummer staat ook op regel {', '.join(others)} van dit bestand")
    parents = [f for f in ("parent_1", "parent_2") if v[f]]
    for f in parents:
        attempt(None, lambda: clean_text(v[f], f))  # noqa: B023 - called at once
    shown = fields.get("birth_date"), code, fields.get("municipality_code", v["municipality_code"])
    numbers = mask(v["bsn"]), mask(v["onderwijsnummer"])
    names = tuple(v[f] for f in parents)
    preview = PreviewRow(row.line, v["given_name"], v["family_name"], *shown, *numbers, names, tuple(errors))
    if errors:
        return preview, None
    fields.update(bsn=fields.get("bsn"), onderwijsnummer=fields.get("onderwijsnummer"), school_code=code)
    return preview, functools.partial(register_pupil, **fields, parents=[ParentSpec(n) for n in names], today=today)


def _known(known: Known, kind: str, field: str, code: str) -> str:
    """A registered school or municipality ("gemeente"), the latter also as its CBS number ("0164" is GM0164)."""
    if kind == "gemeente":
        code = f"GM{int(code):04d}" if code.isascii() and code.isdigit() and len(code) <= 4 else code
        if not _MUNICIPALITY.fullmatch(code):
            raise InvalidInput(field, "moet een gemeentecode zijn: GM en 4 cijfers, bijvoorbeeld GM0164")
    if (kind, code) not in known:
        raise UnknownReference(field, kind, code)
    return code
