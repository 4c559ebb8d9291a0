"""Figures for managers, computed in the database in bulk, with small numbers suppressed at school level."""

from __future__ import annotations

import dataclasses
import datetime as dt
from statistics import median, quantiles

import sqlalchemy as sa
from sqlmodel import Session, func, select

from models.lifecycle import OPEN_STATES, CaseState
from models.schooldays import SchoolDayIndex
from models.suppression import suppress, suppress_total
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

LEVELS = [0, 1, 2, 3, 4]
# Shown where a figure does not apply. None in a table means suppressed (a count of 1 to 5 pupils, shown
# as '≤5'); money, hours and budgets are never suppressed, so a missing one must not be None.
NO_BUDGET = "geen budget"
NOT_APPLICABLE = "–"


@dataclasses.dataclass
class Table:
    """A published table: a title, column headers and rows of shown values (None: suppressed)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list]

    def as_records(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def caseload_by_school(session: Session) -> Table:
    """Open cases per school and intensity level, with totals; small numbers suppressed."""
    open_states = [s.value for s in OPEN_STATES]
    counts = {
        (school, level): n
        for school, level, n in session.exec(
            select(Case.school_code, Case.level, func.count())
            .where(Case.state.in_(open_states))
            .group_by(Case.school_code, Case.level)
        ).all()
    }
    schools = sorted(session.exec(select(School.code)).all())
    cells = suppress(counts, schools, LEVELS)
    rows = []
    for school in schools:
        total = sum(counts.get((school, level), 0) for level in LEVELS)
        rows.append([school, *[cells[(school, level)] for level in LEVELS], suppress_total(total)])
    column_totals = [sum(counts.get((s, level), 0) for s in schools) for level in LEVELS]
    rows.append(["totaal", *[suppress_total(n) for n in column_totals], suppress_total(sum(column_totals))])
    return Table(
        "oja-caseload-per-school",
        "Open casussen per school en niveau",
        ["school", *[f"niveau {level}" for level in LEVELS], "totaal"],
        rows,
    )


def _percentile_90(values: list[int]) -> float:
    return float(values[0]) if len(values) == 1 else quantiles(values, n=10, method="inclusive")[-1]


def timeliness_by_school(session: Session, *, triage_norm: int, today: dt.date) -> Table:
    """School days from signal to triage and to the start of help: median and 90th percentile per school."""
    triaged = {
        ref: at
        for ref, at in session.exec(
            select(AuditRecord.case_ref, func.min(AuditRecord.at))
            .where(AuditRecord.action.like("triage_%"))
            .group_by(AuditRecord.case_ref)
        ).all()
    }
    regions = dict(session.exec(select(School.code, School.holiday_region)).all())
    cases = session.exec(select(Case.ref, Case.school_code, Case.opened_on, Case.activated_on)).all()
    if not cases:
        return Table("oja-tijdigheid-per-school", "Doorlooptijden", ["school"], [])
    start = min(c[2] for c in cases) - dt.timedelta(days=1)
    index = {r: SchoolDayIndex(r, start, today + dt.timedelta(days=1)) for r in set(regions.values())}
    to_triage: dict[str, list[int]] = {}
    to_help: dict[str, list[int]] = {}
    for ref, school, opened, activated in cases:
        idx = index[regions[school]]
        if ref in triaged:
            day = triaged[ref].date() if isinstance(triaged[ref], dt.datetime) else triaged[ref]
            to_triage.setdefault(school, []).append(idx.between(opened, min(max(day, opened), today)))
        if activated:
            to_help.setdefault(school, []).append(idx.between(opened, min(max(activated, opened), today)))
    rows = []
    for school in sorted(regions):
        t, h = to_triage.get(school, []), to_help.get(school, [])
        small_t, small_h = len(t) <= 5, len(h) <= 5
        rows.append(
            [
                school,
                suppress_total(len(t)),
                None if small_t else float(median(t)),
                None if small_t else _percentile_90(t),
                None if small_t else sum(1 for d in t if d <= triage_norm) * 100 // len(t),
                suppress_total(len(h)),
                None if small_h else float(median(h)),
                None if small_h else _percentile_90(h),
            ]
        )
    return Table(
        "oja-tijdigheid-per-school",
        f"Doorlooptijden in schooldagen (norm triage {triage_norm})",
        [
            "school",
            "getrieerd",
            "mediaan tot triage",
            "p90 tot triage",
            "% binnen norm",
            "gestart",
            "mediaan tot hulp",
            "p90 tot hulp",
        ],
        rows,
    )


def reviews_by_school(session: Session, *, today: dt.date) -> Table:
    """Active arrangements per school with their next review on time or overdue."""
    rows = []
    stmt = (
        select(
            Case.school_code,
            func.count().label("n"),
            func.sum(sa.case((Case.next_review_on < today, 1), else_=0)).label("overdue"),
        )
        .where(Case.state == CaseState.ACTIVE.value)
        .group_by(Case.school_code)
    )
    for school, n, overdue in session.exec(stmt).all():
        overdue = int(overdue or 0)
        cells = suppress({("s", "op tijd"): n - overdue, ("s", "te laat"): overdue}, ["s"], ["op tijd", "te laat"])
        rows.append([school, suppress_total(n), cells[("s", "op tijd")], cells[("s", "te laat")]])
    return Table(
        "oja-evaluaties-per-school",
        "Evaluaties op tijd en te laat (lopende arrangementen)",
        ["school", "lopend", "op tijd", "te laat"],
        sorted(rows, key=lambda r: r[0]),
    )


def decisions(session: Session, *, since: dt.date) -> Table:
    """Decisions taken since a date, region-wide (not at school level: no suppression), and the share of
    specialised care."""
    counts = dict(
        session.exec(
            select(Decision.kind, func.count()).where(Decision.decided_on >= since).group_by(Decision.kind)
        ).all()
    )
    total = sum(counts.values())
    rows = [[kind, n] for kind, n in sorted(counts.items())]
    escalated = counts.get("specialistische_zorg", 0)
    share = round(100 * escalated / total, 1) if total else 0.0
    rows.append(["aandeel specialistische zorg (%)", share])
    return Table("oja-besluiten", f"Besluiten sinds {since.isoformat()}", ["besluit", "aantal"], rows)


def current_plans():
    """The newest plan version of every case, as a subquery (id, case_id)."""
    latest = select(Plan.case_id, func.max(Plan.version).label("v")).group_by(Plan.case_id).subquery()
    return (
        select(Plan.id, Plan.case_id)
        .join(latest, sa.and_(latest.c.case_id == Plan.case_id, latest.c.v == Plan.version))
        .subquery()
    )


def caseload_by_provider_and_municipality(session: Session) -> Table:
    """Open cases region-wide per provider (of the current plan) and per municipality of residence."""
    open_states = [s.value for s in OPEN_STATES]
    plans = current_plans()
    per_provider = session.exec(
        select(Intervention.provider_code, func.count(sa.distinct(Case.id)))
        .join(plans, plans.c.id == Intervention.plan_id)
        .join(Case, Case.id == plans.c.case_id)
        .where(Case.state.in_(open_states))
        .group_by(Intervention.provider_code)
    ).all()
    per_municipality = session.exec(
        select(Pupil.municipality_code, func.count())
        .join(Case, Case.pupil_id == Pupil.id)
        .where(Case.state.in_(open_states))
        .group_by(Pupil.municipality_code)
    ).all()
    rows = [["aanbieder", code, n] for code, n in sorted(per_provider)]
    rows += [["gemeente", code, n] for code, n in sorted(per_municipality)]
    return Table(
        "oja-caseload-aanbieder-gemeente",
        "Open casussen per aanbieder en per woongemeente (regio)",
        ["soort", "code", "open casussen"],
        rows,
    )


PLANNED_ENDINGS = {EndReason.AS_PLANNED.value, EndReason.BASIC_SUPPORT.value}
DROP_OUT = {EndReason.EARLY_BY_CLIENT.value, EndReason.EARLY_BY_PROVIDER.value}


def outcomes(session: Session, *, since: dt.date) -> Table:
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
    return Table(
        "oja-uitkomsten", f"Uitkomstcriteria jeugdhulp sinds {since.isoformat()}", ["criterium", "waarde"], rows
    )


def hours_and_cost(
    session: Session, *, today: dt.date, rate: float, budget_swv: float, budget_municipality: dict[str, float]
) -> Table:
    """Hours a week and cost this calendar year per funding stream (the SWV, each municipality), against budget."""
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
        "oja-uren-en-kosten",
        f"Uren en kosten {today.year} per financieringsstroom (tarief €{rate:.0f}/uur)",
        ["financier", "uren per week", "kosten tot nu (€)", "budget (€)", "% van budget"],
        rows,
    )


def group_use(session: Session) -> Table:
    """Places used per group arrangement (at school level: 1 to 5 pupils are not shown)."""
    members = dict(
        session.exec(
            select(GroupMember.group_code, func.count())
            .where(GroupMember.left_on.is_(None))
            .group_by(GroupMember.group_code)
        ).all()
    )
    rows = [
        [g.code, g.school_code or "", g.capacity, suppress_total(members.get(g.code, 0)), g.hours_per_week]
        for g in session.exec(select(GroupArrangement).order_by(GroupArrangement.code)).all()
    ]
    return Table(
        "oja-groepsarrangementen",
        "Bezetting van groepsarrangementen",
        ["groep", "school", "plaatsen", "bezet", "uren per week"],
        rows,
    )
