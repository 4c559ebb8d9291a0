"""A school's own closing days: entered by an operator, used by every school-day count.

The national rule (region holidays, recognised public holidays, Good Friday open, 5 May only in a
lustrum year) is in `models.schooldays`. On top of it each school closes on days of its own: study
days, and for some schools Good Friday, the Friday after Ascension, or 5 May. They are entered with
`oja school closure add` or imported from a CSV or TOML file (`oja school closure import`), all or
nothing, with every bad line named.

A closing day that is added after a deadline was planned on it moves that deadline (a review, the
triage norm, the plan or consent deadline of an open case of the school) to the school's next school
day, with an audit record on the case.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import io
import tomllib
from collections.abc import Collection, Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from models.errors import InvalidInput, UnknownReference
from models.lifecycle import AuditAction, CaseState
from models.schooldays import SchoolCalendar, closed_reason, next_school_day
from models.tables import Case, School, SchoolClosure
from models.vocabulary import ClosureKind
from oja.services import audit

# the deadlines of an open case that are counted in school days, with their Dutch names
DEADLINES = {
    "triage_due_on": "triagenorm",
    "plan_due_on": "plan",
    "consent_due_on": "toestemming",
    "next_review_on": "evaluatie",
}
CSV_COLUMNS = {"school": "school", "school_code": "school", "datum": "datum", "date": "datum", "soort": "soort"}
CSV_COLUMNS |= {"kind": "soort"}

ClosureRow = tuple[str, object, object, object]  # (where, school, day, kind) as entered or read from a file


@dataclasses.dataclass(frozen=True)
class Closure:
    school_code: str
    day: dt.date
    kind: str


@dataclasses.dataclass(frozen=True)
class Moved:
    case_ref: str
    deadline: str
    old: dt.date
    new: dt.date


@dataclasses.dataclass
class ClosureResult:
    added: int = 0
    known: int = 0  # already entered before: importing the same file twice changes nothing
    moved: list[Moved] = dataclasses.field(default_factory=list)


class ClosuresInvalid(InvalidInput):
    """One or more lines of a closing-day entry or file break a rule; nothing was written."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems  # (where, field, rule)
        first_where, first_field, first_rule = problems[0]
        super().__init__(f"{first_where}: {first_field}" if first_where else first_field, first_rule)

    def lines(self) -> list[str]:
        return [f"{where}, {field}: {rule}" if where else f"{field}: {rule}" for where, field, rule in self.problems]


# ---- reading calendars -------------------------------------------------------------------------


def school_calendar(session: Session, school_code: str) -> SchoolCalendar:
    """The calendar of one school: its holiday region and its own closing days."""
    school = session.get(School, school_code)
    if school is None:
        raise UnknownReference("school_code", "school", school_code)
    days = session.exec(select(col(SchoolClosure.day)).where(col(SchoolClosure.school_code) == school_code)).all()
    return SchoolCalendar(school.holiday_region, frozenset(days))


def school_calendars(session: Session, codes: Collection[str] | None = None) -> dict[str, SchoolCalendar]:
    """Every school's calendar, for the sweep and the figures, or only those of `codes` (a professional's worklist
    reads its own schools', not the region's): two queries, whatever the number of schools."""
    closures, schools = _calendar_queries(codes is not None)
    params = {} if codes is None else {"codes": sorted(codes)}
    own: dict[str, set[dt.date]] = {}
    for code, day in session.exec(closures, params=params).all():
        own.setdefault(code, set()).add(day)
    found = session.exec(schools, params=params).all()
    return {code: SchoolCalendar(region, frozenset(own.get(code, ()))) for code, region in found}


@functools.cache
def _calendar_queries(of_codes: bool) -> tuple[Select[str, dt.date], Select[str, str]]:
    """The closing days and the schools' regions, of some schools (`of_codes`) or all: made once per process, the
    codes a parameter (`oja.services.reads` tells why)."""
    closures = select(col(SchoolClosure.school_code), col(SchoolClosure.day))
    schools = select(col(School.code), col(School.holiday_region))
    if of_codes:
        codes: sa.BindParameter[list[str]] = sa.bindparam("codes", expanding=True)
        return closures.where(col(SchoolClosure.school_code).in_(codes)), schools.where(col(School.code).in_(codes))
    return closures, schools


def list_closures(session: Session, school_code: str | None = None) -> list[SchoolClosure]:
    query = select(SchoolClosure).order_by(col(SchoolClosure.school_code), col(SchoolClosure.day))
    if school_code:
        query = query.where(SchoolClosure.school_code == school_code)
    return list(session.exec(query).all())


# ---- entering closing days ---------------------------------------------------------------------


def _parse_day(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError("geen datum: schrijf JJJJ-MM-DD, bijvoorbeeld 2027-03-26") from None


def validate_closures(session: Session, rows: Iterable[ClosureRow]) -> list[Closure]:
    """Check (where, school, day, kind) rows; every bad row is reported, as (where, field, rule)."""
    schools = {s.code: s for s in session.exec(select(School)).all()}
    kinds = [k.value for k in ClosureKind]
    problems: list[tuple[str, str, str]] = []
    closures: list[Closure] = []
    seen: dict[tuple[str, dt.date], str] = {}
    for where, school_value, day_value, kind_value in rows:
        school_code = str(school_value or "").strip().upper()
        kind = str(kind_value or ClosureKind.STUDY_DAY.value).strip().lower()
        bad = len(problems)
        school = schools.get(school_code)
        if not school_code:
            problems.append((where, "school", "ontbreekt: de code van de school"))
        elif school is None:
            problems.append((where, "school", f"school '{school_code}' is niet bekend"))
        try:
            day = _parse_day(day_value)
        except ValueError as exc:
            problems.append((where, "datum", str(exc)))
            day = None
        if kind not in kinds:
            problems.append((where, "soort", f"'{kind}' is geen soort sluitingsdag; kies uit {', '.join(kinds)}"))
        if day is not None and school is not None:
            reason = closed_reason(day, SchoolCalendar(school.holiday_region))
            if reason is not None:
                problems.append((where, "datum", f"{day.isoformat()} is al geen schooldag ({reason})"))
            elif (school_code, day) in seen:
                problems.append((where, "datum", f"{day.isoformat()} staat al op {seen[(school_code, day)]}"))
        if len(problems) == bad and day is not None:
            seen[(school_code, day)] = where or "een eerdere regel"
            closures.append(Closure(school_code, day, kind))
    if problems:
        raise ClosuresInvalid(problems)
    return closures


def add_closures(session: Session, closures: list[Closure], *, actor: str = "beheer") -> ClosureResult:
    """Store the closing days and move the open deadlines that fall on them; one transaction (the caller's)."""
    result = ClosureResult()
    new_days: dict[str, set[dt.date]] = {}
    for c in closures:
        existing = session.get(SchoolClosure, (c.school_code, c.day))
        if existing is not None:
            result.known += 1
            existing.kind = c.kind
            session.add(existing)
            continue
        session.add(SchoolClosure(school_code=c.school_code, day=c.day, kind=c.kind))
        new_days.setdefault(c.school_code, set()).add(c.day)
        result.added += 1
    session.flush()
    for school_code, days in new_days.items():
        result.moved += _move_deadlines(session, school_code, days, actor)
    return result


def _move_deadlines(session: Session, school_code: str, days: set[dt.date], actor: str) -> list[Moved]:
    calendar = school_calendar(session, school_code)
    moved: list[Moved] = []
    cases = session.exec(
        select(Case).where(Case.school_code == school_code, Case.state != CaseState.CLOSED.value)
    ).all()
    for case in cases:
        assert case.ref is not None  # a stored case has its reference
        changes = []
        for field, name in DEADLINES.items():
            old = getattr(case, field)
            if old in days:
                new = next_school_day(old, calendar)
                setattr(case, field, new)
                moved.append(Moved(case.ref, name, old, new))
                changes.append(f"{name} {old.isoformat()} -> {new.isoformat()}")
        if changes:
            session.add(case)
            audit.record(
                session,
                case_ref=case.ref,
                actor=actor,
                action=AuditAction.RESCHEDULED,
                from_state=case.state,
                to_state=case.state,
                reason=("sluitingsdag school: " + "; ".join(changes))[:200],
            )
    return moved


def remove_closure(session: Session, school_code: str, day: dt.date) -> None:
    """Take a closing day back (deadlines already moved stay where they are)."""
    closure = session.get(SchoolClosure, (school_code.strip().upper(), day))
    if closure is None:
        raise InvalidInput("datum", f"{day.isoformat()} is geen eigen sluitingsdag van {school_code}")
    session.delete(closure)


# ---- files -------------------------------------------------------------------------------------


def read_closures_file(path: Path) -> list[ClosureRow]:
    """Rows (where, school, day, kind) from a CSV or TOML file; `where` names the line or key."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".toml":
        return _toml_rows(text)
    if path.suffix.lower() == ".csv":
        return _csv_rows(text)
    raise InvalidInput("bestand", "moet een .csv- of .toml-bestand zijn")


def _csv_rows(text: str) -> list[ClosureRow]:
    sample = text[:2048]
    dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = {CSV_COLUMNS.get((name or "").strip().lower()): name for name in reader.fieldnames or []}
    missing = [c for c in ("school", "datum") if c not in header]
    if missing:
        raise ClosuresInvalid(
            [("regel 1", "kolommen", f"ontbreekt: {', '.join(missing)} (kolommen: school,datum,soort)")]
        )
    rows: list[ClosureRow] = []
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # an empty line
        where = f"regel {reader.line_num}"
        kind = row.get(header["soort"]) if "soort" in header else None
        rows.append((where, row.get(header["school"]), row.get(header["datum"]), kind))
    return rows


def _toml_rows(text: str) -> list[ClosureRow]:
    """TOML: one table per school, one list of dates per kind.

    [10HV]
    studiedag = [2027-02-08, 2027-06-14]
    goede_vrijdag = [2027-03-26]
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClosuresInvalid([("", "bestand", f"geen geldige TOML: {exc}")]) from None
    rows: list[ClosureRow] = []
    for school, kinds in data.items():
        if not isinstance(kinds, dict):
            rows.append((f"[{school}]", school, None, None))
            continue
        for kind, days in kinds.items():
            days = days if isinstance(days, list) else [days]
            for n, day in enumerate(days, start=1):
                rows.append((f"[{school}] {kind} #{n}", school, day, kind))
    return rows
