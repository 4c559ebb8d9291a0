"""Figures for managers, computed in the database in bulk and published only after the small-numbers audit.

`manager_tables` computes the eight tables of a day as one release (models/suppression.py): every pupil count
at school level is a figure over cells (true counts), region-wide figures are fixed, and what one table says
about another's cells is a relation. Suppression is chosen for the release as a whole and audited by linear
programming, so that no table undoes another's suppression. How each table is modelled:

- caseload per school: a grid of open cases (school x level) with school totals (protected), level totals
  and the grand total (region-wide: not suppressed for being small, but hidden where they would give a
  school's cell away).
- caseload per provider and municipality: region-wide, never suppressed. The municipality rows add up to
  every open case, so they are tied to the caseload grid's cells (a region total minus the other schools
  must not give a school away).
- reviews per school: on time + overdue = running; running arrangements are open cases, so at most the
  school's caseload total (a relation).
- timeliness per school: triaged = within the norm + outside it; the percentage within the norm reveals
  both counts, so it is shown only where both may be. Medians and 90th percentiles are not sums: the audit
  cannot bound them, so they are shown only beside a count that is itself shown (6 or more), and the triage
  ones only where the percentage is shown too (a percentile under the norm bounds the share within it).
  Over 0 pupils they do not apply ('–').
- group arrangements: places taken per group, at most its places (known beforehand, so it clips the rule).
- decisions and outcomes: region-wide, never suppressed, not sums of any other table's cells.
- hours and cost: money and hours are not pupil counts; nothing in it is suppressed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from statistics import median, quantiles

import sqlalchemy as sa
from sqlmodel import Session, func, select

from models.lifecycle import OPEN_STATES, CaseState
from models.schooldays import SchoolDayIndex
from models.suppression import TOTAL, FigureId, Protection, Release, protect
from models.tables import (
    AuditRecord,
    Case,
    Decision,
    GroupArrangement,
    GroupMember,
    Intervention,
    Municipality,
    Plan,
    Pupil,
    Review,
    School,
)
from models.vocabulary import EndReason
from oja.config import Policy
from oja.services.calendar import school_calendars

LEVELS = [0, 1, 2, 3, 4]
# Shown where a figure does not apply. None in a published table means hidden (shown as models.suppression
# HIDDEN); money, hours and budgets are never suppressed, so a missing one must not be None.
NO_BUDGET = "geen budget"
NOT_APPLICABLE = "–"

CASELOAD = "oja-caseload-per-school"
TIMELINESS = "oja-tijdigheid-per-school"
REVIEWS = "oja-evaluaties-per-school"
DECISIONS = "oja-besluiten"
PROVIDER_MUNICIPALITY = "oja-caseload-aanbieder-gemeente"
OUTCOMES = "oja-uitkomsten"
HOURS_AND_COST = "oja-uren-en-kosten"
GROUPS = "oja-groepsarrangementen"


@dataclasses.dataclass
class Table:
    """A table for managers. `values` holds the true figures and is never published; `rows` is what may be
    published, set by the audit (None: hidden). A value placed at `figures[(row, column)]` is a figure of the
    release; a non-additive value at `needs[(row, column)]` is shown only when all those figures are."""

    key: str
    title: str
    columns: list[str]
    values: list[list]
    figures: dict[tuple[int, int], FigureId] = dataclasses.field(default_factory=dict)
    needs: dict[tuple[int, int], tuple[FigureId, ...]] = dataclasses.field(default_factory=dict)
    rows: list[list] | None = None

    def publish(self, protection: Protection) -> None:
        rows = [list(row) for row in self.values]
        for (i, j), figure in self.figures.items():
            if not protection.shows(figure):
                rows[i][j] = None
        for (i, j), figures in self.needs.items():
            if not all(protection.shows(f) for f in figures):
                rows[i][j] = None
        self.rows = rows

    def as_records(self) -> list[dict]:
        if self.rows is None:
            raise RuntimeError(f"{self.key} has not been through the small-numbers audit")
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclasses.dataclass
class Publication:
    """The tables of a day after the audit; the refused ones have no rows and must not be published."""

    tables: list[Table]
    protection: Protection

    @property
    def refused(self) -> list[str]:
        return [t.key for t in self.tables if t.key in self.protection.refused]

    @property
    def publishable(self) -> list[Table]:
        return [t for t in self.tables if t.key not in self.protection.refused]

    def __getitem__(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def manager_tables(session: Session, *, today: dt.date, policy: Policy) -> Publication:
    """The eight monitoring tables of a day, protected and audited together."""
    release = Release()
    open_cases = _open_cases(session, release, today=today)
    since = today - dt.timedelta(days=365)
    tables = [
        caseload_by_school(release, open_cases),
        timeliness_by_school(session, release, triage_norm=policy.triage_norm_school_days, today=today),
        reviews_by_school(release, open_cases),
        decisions(session, release, since=since),
        caseload_by_provider_and_municipality(session, release, open_cases),
        outcomes(session, release, since=since),
        hours_and_cost(
            session,
            today=today,
            rate=policy.hourly_rate_eur,
            budget_swv=policy.budget_swv_eur,
            budget_municipality=policy.budget_municipality_eur,
        ),
        group_use(session, release),
    ]
    protection = protect(release)
    for table in tables:
        if table.key not in protection.refused:  # a refused table keeps rows None: it cannot be published
            table.publish(protection)
    return Publication(tables, protection)


@dataclasses.dataclass
class OpenCases:
    """Open cases from one query, so that the tables built on them agree with each other: per school and level
    (cells of the release), per municipality of residence, and per school the running ones and how many of
    those are overdue for their review."""

    cells: dict[tuple[str, int], tuple]
    per_municipality: dict[str | None, int]
    running: dict[str, tuple[int, int]]  # school -> (running, overdue)


def _open_cases(session: Session, release: Release, *, today: dt.date) -> OpenCases:
    open_states = [s.value for s in OPEN_STATES]
    overdue = sa.case((sa.and_(Case.state == CaseState.ACTIVE.value, Case.next_review_on < today), 1), else_=0)
    rows = session.exec(
        select(Case.school_code, Case.level, Pupil.municipality_code, Case.state, overdue, func.count())
        .join(Pupil, Pupil.id == Case.pupil_id)
        .where(Case.state.in_(open_states))
        .group_by(Case.school_code, Case.level, Pupil.municipality_code, Case.state, overdue)
    ).all()
    counts: dict[tuple[str, int], int] = {}
    per_municipality: dict[str | None, int] = {}
    running: dict[str, tuple[int, int]] = {}
    for school, level, municipality, state, late, n in rows:
        counts[(school, level)] = counts.get((school, level), 0) + n
        per_municipality[municipality] = per_municipality.get(municipality, 0) + n
        if state == CaseState.ACTIVE.value:
            r, o = running.get(school, (0, 0))
            running[school] = (r + n, o + (n if late else 0))
    schools = sorted(set(session.exec(select(School.code)).all()) | {school for school, _ in counts})
    cells = {}
    for school in schools:
        for level in sorted(set(LEVELS) | {lv for s, lv in counts if s == school}):
            cells[(school, level)] = ("open", school, level)
            release.add_cell(cells[(school, level)], counts.get((school, level), 0))
    return OpenCases(cells, per_municipality, running)


def caseload_by_school(release: Release, open_cases: OpenCases) -> Table:
    """Open cases per school and intensity level, with totals."""
    open_cells = open_cases.cells
    schools = sorted({school for school, _ in open_cells})
    counts = {key: release.values[cell] for key, cell in open_cells.items()}
    values, figures = [], {}
    if schools:
        release.add_grid(CASELOAD, schools, LEVELS, counts, protect_column_totals=False, cell_ids=open_cells)
        for i, row in enumerate([*schools, TOTAL]):
            line = [(CASELOAD, row, level) for level in LEVELS] + [(CASELOAD, row, TOTAL)]
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
            select(AuditRecord.case_ref, func.min(AuditRecord.at))
            .where(AuditRecord.action.like("triage_%"))
            .group_by(AuditRecord.case_ref)
        ).all()
    }
    calendars = school_calendars(session)  # school days as each school counts them, its own closing days too
    cases = session.exec(select(Case.ref, Case.school_code, Case.opened_on, Case.activated_on)).all()
    if not cases:
        return Table(TIMELINESS, title, columns, [])
    start = min(c[2] for c in cases) - dt.timedelta(days=1)
    index = {c: SchoolDayIndex(c, start, today + dt.timedelta(days=1)) for c in set(calendars.values())}
    to_triage: dict[str, list[int]] = {}
    to_help: dict[str, list[int]] = {}
    for ref, school, opened, activated in cases:
        idx = index[calendars[school]]
        if ref in triaged:
            day = triaged[ref].date() if isinstance(triaged[ref], dt.datetime) else triaged[ref]
            to_triage.setdefault(school, []).append(idx.between(opened, min(max(day, opened), today)))
        if activated:
            to_help.setdefault(school, []).append(idx.between(opened, min(max(activated, opened), today)))
    values, figures, needs = [], {}, {}
    for i, school in enumerate(sorted(calendars)):
        t, h = to_triage.get(school, []), to_help.get(school, [])
        within = sum(1 for d in t if d <= triage_norm)
        cells = {name: (TIMELINESS, school, name) for name in ("binnen norm", "buiten norm", "gestart")}
        for name, n in (("binnen norm", within), ("buiten norm", len(t) - within), ("gestart", len(h))):
            release.add_cell(cells[name], n)
        n_triaged = release.add_figure(
            (TIMELINESS, school, "getrieerd"), TIMELINESS, [cells["binnen norm"], cells["buiten norm"]], total=True
        ).id
        share = release.add_figure((TIMELINESS, school, "binnen norm"), TIMELINESS, [cells["binnen norm"]]).id
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
        if t:  # a share of nobody does not apply ('–'); otherwise it reveals the count within the norm
            figures[(i, 4)] = share
        needs |= {(i, 2): (n_triaged, share), (i, 3): (n_triaged, share), (i, 6): (started,), (i, 7): (started,)}
    return Table(TIMELINESS, title, columns, values, figures, needs)


def _median_and_p90(days: list[int]) -> tuple:
    """Not sums, so not audited: over nobody they do not apply, over 1 to 5 pupils they are never shown."""
    if not days:
        return NOT_APPLICABLE, NOT_APPLICABLE
    if len(days) <= 5:
        return None, None
    return float(median(days)), _percentile_90(days)


def reviews_by_school(release: Release, open_cases: OpenCases) -> Table:
    """Active arrangements per school with their next review on time or overdue."""
    values, figures = [], {}
    for i, (school, (n, overdue)) in enumerate(sorted(open_cases.running.items())):
        on_time, late = (REVIEWS, school, "op tijd"), (REVIEWS, school, "te laat")
        release.add_cell(on_time, n - overdue)
        release.add_cell(late, overdue)
        running = release.add_figure((REVIEWS, school, "lopend"), REVIEWS, [on_time, late], total=True).id
        release.add_figure(on_time, REVIEWS, [on_time])
        release.add_figure(late, REVIEWS, [late])
        # running arrangements are open cases: at most the school's total in the caseload table
        terms = {on_time: 1.0, late: 1.0} | {cell: -1.0 for (s, _), cell in open_cases.cells.items() if s == school}
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


def _region_figure(release: Release, table: str, name, n: int, *, fixed: bool = True) -> FigureId:
    """A region-wide count, known to the audit; its cell has the same id. Not protected (it is about no
    school), and shown whatever its size unless `fixed` is False: then the audit hides it where it would
    give a school's cell away, as it does the caseload table's level totals."""
    release.add_cell((table, name), n)
    return release.add_figure((table, name), table, [(table, name)], protected=False, fixed=fixed).id


def decisions(session: Session, release: Release, *, since: dt.date) -> Table:
    """Decisions taken since a date, region-wide (not at school level: no suppression), and the share of
    specialised care."""
    counts = dict(
        session.exec(
            select(Decision.kind, func.count()).where(Decision.decided_on >= since).group_by(Decision.kind)
        ).all()
    )
    total = sum(counts.values())
    rows = [[kind, n] for kind, n in sorted(counts.items())]
    for kind, n in counts.items():
        _region_figure(release, DECISIONS, kind, n)
    escalated = counts.get("specialistische_zorg", 0)
    share = round(100 * escalated / total, 1) if total else 0.0
    rows.append(["aandeel specialistische zorg (%)", share])
    return Table(DECISIONS, f"Besluiten sinds {since.isoformat()}", ["besluit", "aantal"], rows)


def current_plans():
    """The newest plan version of every case, as a subquery (id, case_id)."""
    latest = select(Plan.case_id, func.max(Plan.version).label("v")).group_by(Plan.case_id).subquery()
    return (
        select(Plan.id, Plan.case_id)
        .join(latest, sa.and_(latest.c.case_id == Plan.case_id, latest.c.v == Plan.version))
        .subquery()
    )


def caseload_by_provider_and_municipality(session: Session, release: Release, open_cases: OpenCases) -> Table:
    """Open cases region-wide per provider (of the current plan) and per municipality of residence.

    Region-wide. A case can have several providers, so the provider rows add up to nothing and are always
    shown. The municipality rows add up to every open case, which ties them to the caseload table's cells:
    in a small region they are hidden where, with the marks of the caseload table, they would give a
    school's cell away."""
    open_states = [s.value for s in OPEN_STATES]
    plans = current_plans()
    per_provider = session.exec(
        select(Intervention.provider_code, func.count(sa.distinct(Case.id)))
        .join(plans, plans.c.id == Intervention.plan_id)
        .join(Case, Case.id == plans.c.case_id)
        .where(Case.state.in_(open_states))
        .group_by(Intervention.provider_code)
    ).all()
    for code, n in per_provider:
        _region_figure(release, PROVIDER_MUNICIPALITY, ("aanbieder", code), n)
    municipalities = []
    for code, n in sorted(open_cases.per_municipality.items(), key=lambda item: str(item[0])):
        municipalities.append(_region_figure(release, PROVIDER_MUNICIPALITY, ("gemeente", code), n, fixed=False))
    if municipalities:  # together they are every open case: the region total of the caseload table
        terms = {cell: 1.0 for cell in municipalities} | {c: -1.0 for c in open_cases.cells.values()}
        release.add_relation(terms, lower=0, upper=0)
    rows = [["aanbieder", code, n] for code, n in sorted(per_provider)]
    first = len(rows)
    rows += [["gemeente", code, n] for code, n in sorted(open_cases.per_municipality.items(), key=lambda i: str(i[0]))]
    return Table(
        PROVIDER_MUNICIPALITY,
        "Open casussen per aanbieder en per woongemeente (regio)",
        ["soort", "code", "open casussen"],
        rows,
        {(first + i, 2): figure for i, figure in enumerate(municipalities)},
    )


PLANNED_ENDINGS = {EndReason.AS_PLANNED.value, EndReason.BASIC_SUPPORT.value}
DROP_OUT = {EndReason.EARLY_BY_CLIENT.value, EndReason.EARLY_BY_PROVIDER.value}


def outcomes(session: Session, release: Release, *, since: dt.date) -> Table:
    """Youth care outcome criteria (NJi) for arrangements closed since a date: goals reached, drop-out, satisfaction."""
    closed = session.exec(
        select(Case.end_reason).where(
            Case.state == CaseState.CLOSED.value, Case.closed_on >= since, Case.activated_on.is_not(None)
        )
    ).all()
    n = len(closed)
    reached = sum(1 for r in closed if r in PLANNED_ENDINGS)
    dropped = sum(1 for r in closed if r in DROP_OUT)
    satisfaction = session.exec(
        select(func.avg(Review.satisfaction), func.count(Review.satisfaction)).where(Review.held_on >= since)
    ).one()
    _region_figure(release, OUTCOMES, "afgesloten", n)
    _region_figure(release, OUTCOMES, "metingen", int(satisfaction[1]))
    rows = [
        ["afgesloten arrangementen", n],
        ["doelrealisatie: beëindigd volgens plan (%)", round(100 * reached / n, 1) if n else NOT_APPLICABLE],
        ["uitval: eenzijdig voortijdig beëindigd (%)", round(100 * dropped / n, 1) if n else NOT_APPLICABLE],
        [
            "cliënttevredenheid (gemiddeld, 1-10)",
            round(float(satisfaction[0]), 1) if satisfaction[1] else NOT_APPLICABLE,
        ],
        ["tevredenheid: aantal metingen", int(satisfaction[1])],
    ]
    return Table(OUTCOMES, f"Uitkomstcriteria jeugdhulp sinds {since.isoformat()}", ["criterium", "waarde"], rows)


def hours_and_cost(
    session: Session, *, today: dt.date, rate: float, budget_swv: float, budget_municipality: dict[str, float]
) -> Table:
    """Hours a week and cost this calendar year per funding stream (the SWV, each municipality), against budget.

    Money and hours are not pupil counts: nothing here is suppressed, and nothing goes into the release."""
    year_start = dt.date(today.year, 1, 1)
    plans = current_plans()
    rows_in = session.exec(
        select(Intervention.hours_per_week, Intervention.swv_share_pct, Pupil.municipality_code, Case.activated_on)
        .join(plans, plans.c.id == Intervention.plan_id)
        .join(Case, Case.id == plans.c.case_id)
        .join(Pupil, Pupil.id == Case.pupil_id)
        .where(Case.state.in_([CaseState.ACTIVE.value, CaseState.REVIEWED.value]))
    ).all()
    hours: dict[str, float] = {}
    cost: dict[str, float] = {}
    for per_week, swv_pct, municipality, activated in rows_in:
        weeks = max(0, (today - max(activated or today, year_start)).days) / 7
        for stream, share in (("SWV", swv_pct / 100), (municipality, 1 - swv_pct / 100)):
            hours[stream] = hours.get(stream, 0.0) + per_week * share
            cost[stream] = cost.get(stream, 0.0) + per_week * share * weeks * rate
    names = dict(session.exec(select(Municipality.code, Municipality.name)).all())
    rows = []
    for stream in ["SWV", *sorted(k for k in hours if k != "SWV")]:
        if stream not in hours:
            continue
        budget = budget_swv if stream == "SWV" else budget_municipality.get(stream, 0.0)
        rows.append(
            [
                "samenwerkingsverband" if stream == "SWV" else f"{names.get(stream, stream)} ({stream})",
                round(hours[stream], 1),
                round(cost[stream]),
                round(budget) if budget else NO_BUDGET,
                round(100 * cost[stream] / budget, 1) if budget else NOT_APPLICABLE,
            ]
        )
    return Table(
        HOURS_AND_COST,
        f"Uren en kosten {today.year} per financieringsstroom (tarief €{rate:.0f}/uur)",
        ["financier", "uren per week", "kosten tot nu (€)", "budget (€)", "% van budget"],
        rows,
    )


def group_use(session: Session, release: Release) -> Table:
    """Places taken per group arrangement: a pupil count (1 to 5 are hidden), at most the group's places, which
    are shown (known beforehand, so the audit clips a hidden count's range there)."""
    members = dict(
        session.exec(
            select(GroupMember.group_code, func.count())
            .where(GroupMember.left_on.is_(None))
            .group_by(GroupMember.group_code)
        ).all()
    )
    values, figures = [], {}
    for i, g in enumerate(session.exec(select(GroupArrangement).order_by(GroupArrangement.code)).all()):
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
