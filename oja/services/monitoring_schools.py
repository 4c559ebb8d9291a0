"""The monitoring tables of pupil counts per school: cells of the release, suppressed and audited.

Open cases are read once (`read_open_cases`), so that the caseload table, the reviews table and the
municipality rows of `oja.services.monitoring_region` agree with each other. How each table is modelled for
the audit is told in `oja.services.monitoring`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Hashable
from statistics import median, quantiles

import sqlalchemy as sa
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select

from models.lifecycle import OPEN_STATES, AuditAction, CaseState
from models.schooldays import SchoolDayIndex
from models.suppression import TOTAL, Cell, FigureId, Release, is_small
from models.tables import AuditRecord, Case, GroupArrangement, GroupMember, Pupil, School
from oja.services.calendar import school_calendars
from oja.services.monitoring_table import (
    CASELOAD,
    GROUPS,
    LEVELS,
    NOT_APPLICABLE,
    REVIEWS,
    TIMELINESS,
    Position,
    Row,
    Table,
    Value,
)

OpenCell = tuple[str, str, int]  # ("open", school, level)
# the four outcomes of a triage: the first of them ends the time to triage
TRIAGE_ACTIONS = [
    AuditAction.TRIAGE_BASIC.value,
    AuditAction.TRIAGE_OJA.value,
    AuditAction.TRIAGE_SPECIALISED.value,
    AuditAction.TRIAGE_NO_ACTION.value,
]


@dataclasses.dataclass
class OpenCases:
    """Open cases from one query, so that the tables built on them agree with each other: per school and level
    (cells of the release), per municipality of residence, and per school the running ones and how many of
    those are overdue for their review."""

    cells: dict[tuple[str, int], OpenCell]
    per_municipality: dict[str, int]
    running: dict[str, tuple[int, int]]  # school -> (running, overdue)


def read_open_cases(session: Session, release: Release, *, today: dt.date) -> OpenCases:
    """Open cases per school, level, municipality of residence and state; each (school, level) a cell."""
    open_states = [s.value for s in OPEN_STATES]
    active = col(Case.state) == CaseState.ACTIVE.value
    overdue = sa.case((sa.and_(active, col(Case.next_review_on) < today), 1), else_=0)
    # sqlmodel's select() is typed for at most four columns; its Select takes any number, typed here
    query: Select[str, int, str, str, int, int] = Select(
        col(Case.school_code), col(Case.level), col(Pupil.municipality_code), col(Case.state), overdue, func.count()
    )
    rows = session.exec(
        query.join(Pupil, col(Pupil.id) == col(Case.pupil_id))
        .where(col(Case.state).in_(open_states))
        .group_by(col(Case.school_code), col(Case.level), col(Pupil.municipality_code), col(Case.state), overdue)
    ).all()
    counts: dict[tuple[str, int], int] = {}
    per_municipality: dict[str, int] = {}
    running: dict[str, tuple[int, int]] = {}
    for school, level, municipality, state, late, n in rows:
        counts[(school, level)] = counts.get((school, level), 0) + n
        per_municipality[municipality] = per_municipality.get(municipality, 0) + n
        if state == CaseState.ACTIVE.value:
            r, o = running.get(school, (0, 0))
            running[school] = (r + n, o + (n if late else 0))
    schools = sorted(set(session.exec(select(col(School.code))).all()) | {school for school, _ in counts})
    cells: dict[tuple[str, int], OpenCell] = {}
    for school in schools:
        for level in sorted(set(LEVELS) | {lv for s, lv in counts if s == school}):
            cells[(school, level)] = ("open", school, level)
            release.add_cell(cells[(school, level)], counts.get((school, level), 0))
    return OpenCases(cells, per_municipality, running)


def caseload_by_school(release: Release, open_cases: OpenCases) -> Table:
    """Open cases per school and intensity level, with totals."""
    open_cells = open_cases.cells
    schools = sorted({school for school, _ in open_cells})
    # Release.add_grid reads its rows and columns as any hashable keys
    counts: dict[tuple[Hashable, Hashable], int] = {key: release.values[cell] for key, cell in open_cells.items()}
    cell_ids: dict[tuple[Hashable, Hashable], Cell] = {key: cell for key, cell in open_cells.items()}
    values: list[Row] = []
    figures: dict[Position, FigureId] = {}
    if schools:
        release.add_grid(CASELOAD, schools, LEVELS, counts, cell_ids=cell_ids)
        for i, row in enumerate([*schools, TOTAL]):
            line: list[FigureId] = [(CASELOAD, row, level) for level in LEVELS] + [(CASELOAD, row, TOTAL)]
            values.append([row, *(release.figures[f].value for f in line)])
            figures |= {(i, j): f for j, f in enumerate(line, start=1)}
    return Table(
        CASELOAD,
        "Open casussen per school en niveau",
        ["school", *[f"niveau {level}" for level in LEVELS], "totaal"],
        values,
        figures,
    )


def _percentile_90(values: list[int]) -> float:
    return float(values[0]) if len(values) == 1 else quantiles(values, n=10, method="inclusive")[-1]


def timeliness_by_school(session: Session, release: Release, *, triage_norm: int, today: dt.date) -> Table:
    """School days from signal to triage and to the start of help: median and 90th percentile per school."""
    columns = [
        "school",
        "getrieerd",
        "mediaan tot triage",
        "p90 tot triage",
        "% binnen norm",
        "gestart",
        "mediaan tot hulp",
        "p90 tot hulp",
    ]
    title = f"Doorlooptijden in schooldagen (norm triage {triage_norm})"
    triaged = {
        ref: at
        for ref, at in session.exec(
            select(col(AuditRecord.case_ref), func.min(col(AuditRecord.at)))
            .where(col(AuditRecord.action).in_(TRIAGE_ACTIONS))
            .group_by(col(AuditRecord.case_ref))
        ).all()
    }
    calendars = school_calendars(session)  # school days as each school counts them, its own closing days too
    # sqlmodel's select() is typed for at most four columns; its Select takes any number, typed here
    query: Select[str | None, str, dt.date, dt.date | None, int] = Select(
        col(Case.ref), col(Case.school_code), col(Case.opened_on), col(Case.activated_on), col(Case.pupil_id)
    )
    cases = session.exec(query).all()
    if not cases:
        return Table(TIMELINESS, title, columns, [])
    start = min(c[2] for c in cases) - dt.timedelta(days=1)
    index = {c: SchoolDayIndex(c, start, today + dt.timedelta(days=1)) for c in set(calendars.values())}
    to_triage: dict[str, list[int]] = {}
    to_help: dict[str, list[int]] = {}
    pupils: dict[tuple[str, str], set[int]] = {}  # (school, "triage" or "hulp") -> the pupils of those cases
    for ref, school, opened, activated, pupil in cases:
        idx = index[calendars[school]]
        if ref in triaged:
            at = triaged[ref]
            day = at.date() if isinstance(at, dt.datetime) else at
            to_triage.setdefault(school, []).append(idx.between(opened, min(max(day, opened), today)))
            pupils.setdefault((school, "triage"), set()).add(pupil)
        if activated:
            to_help.setdefault(school, []).append(idx.between(opened, min(max(activated, opened), today)))
            pupils.setdefault((school, "hulp"), set()).add(pupil)
    values: list[Row] = []
    figures: dict[Position, FigureId] = {}
    needs: dict[Position, tuple[FigureId, ...]] = {}
    few: set[Position] = set()
    for i, school in enumerate(sorted(calendars)):
        t, h = to_triage.get(school, []), to_help.get(school, [])
        within = sum(1 for d in t if d <= triage_norm)
        cells = {name: (TIMELINESS, school, name) for name in ("binnen norm", "buiten norm", "gestart")}
        for name, n in (("binnen norm", within), ("buiten norm", len(t) - within), ("gestart", len(h))):
            release.add_cell(cells[name], n)
        n_triaged = release.add_figure(
            (TIMELINESS, school, "getrieerd"), TIMELINESS, [cells["binnen norm"], cells["buiten norm"]], total=True
        ).id
        # a share of 0 has no figure of its own: the audit counts a figure of 0 as shown, and a 0 beside a hidden
        # count would give it the count outside the norm (and refuse the table); 0% is shown beside its count only
        share = (
            release.add_figure((TIMELINESS, school, "binnen norm"), TIMELINESS, [cells["binnen norm"]]).id
            if within
            else None
        )
        # nobody reads the pupils outside the norm, but the count and the share give them: audit them too
        release.add_figure((TIMELINESS, school, "buiten norm"), TIMELINESS, [cells["buiten norm"]], published=False)
        started = release.add_figure((TIMELINESS, school, "gestart"), TIMELINESS, [cells["gestart"]]).id
        values.append(
            [
                school,
                len(t),
                *_median_and_p90(t),
                within * 100 // len(t) if t else NOT_APPLICABLE,
                len(h),
                *_median_and_p90(h),
            ]
        )
        figures |= {(i, 1): n_triaged, (i, 5): started}
        if t and share is not None:  # a share of nobody does not apply ('–'); else it reveals the count within
            figures[(i, 4)] = share
        given = (n_triaged,) if share is None else (n_triaged, share)
        needs |= {(i, 2): given, (i, 3): given, (i, 4): (n_triaged,), (i, 6): (started,), (i, 7): (started,)}
        # a pupil can have had several cases: over 1 to 5 pupils, 6 or more cases do not make a median shown
        if is_small(len(pupils.get((school, "triage"), ()))):
            few |= {(i, 2), (i, 3), (i, 4)}
        if is_small(len(pupils.get((school, "hulp"), ()))):
            few |= {(i, 6), (i, 7)}
    return Table(TIMELINESS, title, columns, values, figures, needs, few)


def _median_and_p90(days: list[int]) -> tuple[Value, Value]:
    """Not sums, so not audited: over nobody they do not apply, over 1 to 5 pupils they are never shown."""
    if not days:
        return NOT_APPLICABLE, NOT_APPLICABLE
    if len(days) <= 5:
        return None, None
    return float(median(days)), _percentile_90(days)


def reviews_by_school(release: Release, open_cases: OpenCases) -> Table:
    """Active arrangements per school with their next review on time or overdue."""
    values: list[Row] = []
    figures: dict[Position, FigureId] = {}
    for i, (school, (n, overdue)) in enumerate(sorted(open_cases.running.items())):
        on_time, late = (REVIEWS, school, "op tijd"), (REVIEWS, school, "te laat")
        release.add_cell(on_time, n - overdue)
        release.add_cell(late, overdue)
        running = release.add_figure((REVIEWS, school, "lopend"), REVIEWS, [on_time, late], total=True).id
        release.add_figure(on_time, REVIEWS, [on_time])
        release.add_figure(late, REVIEWS, [late])
        # running arrangements are open cases: at most the school's total in the caseload table
        terms: dict[Cell, float] = {on_time: 1.0, late: 1.0}
        terms |= {cell: -1.0 for (s, _), cell in open_cases.cells.items() if s == school}
        release.add_relation(terms, upper=0)
        values.append([school, n, n - overdue, overdue])
        figures |= {(i, 1): running, (i, 2): on_time, (i, 3): late}
    return Table(
        REVIEWS,
        "Evaluaties op tijd en te laat (lopende arrangementen)",
        ["school", "lopend", "op tijd", "te laat"],
        values,
        figures,
    )


def group_use(session: Session, release: Release) -> Table:
    """Places taken per group arrangement: a pupil count (1 to 5 are hidden), at most the group's places, which
    are shown (known beforehand, so the audit clips a hidden count's range there)."""
    members = dict(
        session.exec(
            select(col(GroupMember.group_code), func.count())
            .where(col(GroupMember.left_on).is_(None))
            .group_by(col(GroupMember.group_code))
        ).all()
    )
    values: list[Row] = []
    figures: dict[Position, FigureId] = {}
    groups = session.exec(select(GroupArrangement).order_by(col(GroupArrangement.code))).all()
    for i, g in enumerate(groups):
        n = members.get(g.code, 0)
        cell = (GROUPS, g.code, "bezet")
        release.add_cell(cell, n, maximum=g.capacity if n <= g.capacity else None)
        figures[(i, 3)] = release.add_figure(cell, GROUPS, [cell]).id
        values.append([g.code, g.school_code or "", g.capacity, n, g.hours_per_week])
    return Table(
        GROUPS,
        "Bezetting van groepsarrangementen",
        ["groep", "school", "plaatsen", "bezet", "uren per week"],
        values,
        figures,
    )
