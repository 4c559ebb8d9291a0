"""The region-wide monitoring tables: decisions, open cases per provider and municipality, outcomes, money.

They are about no school, so they are not suppressed for being small; the municipality rows alone add up to
something a school table holds (every open case), so the audit may hide them. Hours and cost are not pupil
counts and stay out of the release. How each table is modelled for the audit is told in
`oja.services.monitoring`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.lifecycle import OPEN_STATES, CaseState
from models.suppression import Cell, FigureId, Release
from models.tables import Case, Decision, Intervention, Municipality, Review
from models.vocabulary import DecisionKind, EndReason
from oja.services.cost import deliveries
from oja.services.monitoring_schools import OpenCases
from oja.services.monitoring_table import (
    DECISIONS,
    HOURS_AND_COST,
    NO_BUDGET,
    NOT_APPLICABLE,
    OUTCOMES,
    PROVIDER_MUNICIPALITY,
    Row,
    Table,
)
from oja.services.reads import current_plans

PLANNED_ENDINGS = {EndReason.AS_PLANNED.value, EndReason.BASIC_SUPPORT.value}
DROP_OUT = {EndReason.EARLY_BY_CLIENT.value, EndReason.EARLY_BY_PROVIDER.value}


def _region_figure(release: Release, table: str, name: Hashable, n: int, *, fixed: bool = True) -> FigureId:
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
            select(col(Decision.kind), func.count())
            .where(col(Decision.decided_on) >= since)
            .group_by(col(Decision.kind))
        ).all()
    )
    total = sum(counts.values())
    rows: list[Row] = [[kind, n] for kind, n in sorted(counts.items())]
    for kind, n in counts.items():
        _region_figure(release, DECISIONS, kind, n)
    escalated = counts.get(DecisionKind.ESCALATE.value, 0)
    share = round(100 * escalated / total, 1) if total else 0.0
    rows.append(["aandeel specialistische zorg (%)", share])
    return Table(DECISIONS, f"Besluiten sinds {since.isoformat()}", ["besluit", "aantal"], rows)


def caseload_by_provider_and_municipality(session: Session, release: Release, open_cases: OpenCases) -> Table:
    """Open cases region-wide per provider (of the current plan) and per municipality of residence.

    Region-wide. A case can have several providers, so the provider rows add up to nothing and are always
    shown. The municipality rows add up to every open case, which ties them to the caseload table's cells:
    in a small region they are hidden where, with the marks of the caseload table, they would give a
    school's cell away."""
    open_states = [s.value for s in OPEN_STATES]
    plans = current_plans()
    per_provider = session.exec(
        select(col(Intervention.provider_code), func.count(sa.distinct(col(Case.id))))
        .join(plans, plans.c.id == col(Intervention.plan_id))
        .join(Case, col(Case.id) == plans.c.case_id)
        .where(col(Case.state).in_(open_states))
        .group_by(col(Intervention.provider_code))
    ).all()
    for provider, n in per_provider:
        _region_figure(release, PROVIDER_MUNICIPALITY, ("aanbieder", provider), n)
    per_municipality = sorted(open_cases.per_municipality.items())
    municipalities = [
        _region_figure(release, PROVIDER_MUNICIPALITY, ("gemeente", code), n, fixed=False)
        for code, n in per_municipality
    ]
    if municipalities:  # together they are every open case: the region total of the caseload table
        terms: dict[Cell, float] = {cell: 1.0 for cell in municipalities}
        terms |= {c: -1.0 for c in open_cases.cells.values()}
        release.add_relation(terms, lower=0, upper=0)
    rows: list[Row] = [["aanbieder", provider, n] for provider, n in sorted(per_provider)]
    first = len(rows)
    rows += [["gemeente", code, n] for code, n in per_municipality]
    return Table(
        PROVIDER_MUNICIPALITY,
        "Open casussen per aanbieder en per woongemeente (regio)",
        ["soort", "code", "open casussen"],
        rows,
        {(first + i, 2): figure for i, figure in enumerate(municipalities)},
    )


def outcomes(session: Session, release: Release, *, since: dt.date) -> Table:
    """Youth care outcome criteria (NJi) for arrangements closed since a date: goals reached, drop-out, satisfaction."""
    closed = session.exec(
        select(col(Case.end_reason)).where(
            col(Case.state) == CaseState.CLOSED.value,
            col(Case.closed_on) >= since,
            col(Case.activated_on).is_not(None),
        )
    ).all()
    n = len(closed)
    reached = sum(1 for r in closed if r in PLANNED_ENDINGS)
    dropped = sum(1 for r in closed if r in DROP_OUT)
    average, measured = session.exec(
        select(func.avg(col(Review.satisfaction)), func.count(col(Review.satisfaction))).where(
            col(Review.held_on) >= since
        )
    ).one()
    _region_figure(release, OUTCOMES, "afgesloten", n)
    _region_figure(release, OUTCOMES, "metingen", int(measured))
    rows: list[Row] = [
        ["afgesloten arrangementen", n],
        ["doelrealisatie: beëindigd volgens plan (%)", round(100 * reached / n, 1) if n else NOT_APPLICABLE],
        ["uitval: eenzijdig voortijdig beëindigd (%)", round(100 * dropped / n, 1) if n else NOT_APPLICABLE],
        ["cliënttevredenheid (gemiddeld, 1-10)", round(float(average), 1) if measured else NOT_APPLICABLE],
        ["tevredenheid: aantal metingen", int(measured)],
    ]
    return Table(OUTCOMES, f"Uitkomstcriteria jeugdhulp sinds {since.isoformat()}", ["criterium", "waarde"], rows)


def hours_and_cost(
    session: Session, *, today: dt.date, rate: float, budget_swv: float, budget_municipality: dict[str, float]
) -> Table:
    """Hours a week (of the arrangements running now) and cost to date this calendar year (oja.services.cost:
    every plan from its start to its end or today, whatever the case's state) per funding stream, against budget.

    Money and hours are not pupil counts: nothing here is suppressed, and nothing goes into the release."""
    year_start = dt.date(today.year, 1, 1)
    hours: dict[str, float] = {}
    cost: dict[str, float] = {}
    for d in deliveries(session):
        so_far = d.cost(year_start, today, today=today, rate=rate)
        running = d.until is None
        if not so_far and not running:
            continue
        for stream, share in (("SWV", d.swv_share_pct / 100), (d.municipality, 1 - d.swv_share_pct / 100)):
            hours[stream] = hours.get(stream, 0.0) + (d.hours_per_week * share if running else 0.0)
            cost[stream] = cost.get(stream, 0.0) + so_far * share
    names = dict(session.exec(select(col(Municipality.code), col(Municipality.name))).all())
    rows: list[Row] = []
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
