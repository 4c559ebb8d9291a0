"""The region-wide monitoring tables: decisions, open cases per provider and municipality, outcomes, money.

A count about 1 to 5 pupils reveals them at region level as much as at a school: every count here is a
protected figure of the release, and every average or percentage stands beside its count (hidden unless that
count is shown, and over 6 or more pupils). The municipality rows add up to something a school table holds
(every open case), so the audit ties them to it. Hours and cost are not pupil counts and stay out of the
release. How each table is modelled for the audit is told in
`oja.services.monitoring`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.gas import INFORMANTS, shown_t
from models.lifecycle import OPEN_STATES, CaseState
from models.suppression import TOTAL, Cell, FigureId, Release, is_small
from models.tables import Case, Decision, Intervention, Municipality, Review
from models.vocabulary import DecisionKind, EndReason
from models.words import INFORMANTS as INFORMANT_WORDS
from oja.services.cost import deliveries
from oja.services.gas import average_t, review_t_scores
from oja.services.monitoring_schools import OpenCases
from oja.services.monitoring_table import (
    DECISIONS,
    HOURS_AND_COST,
    NO_BUDGET,
    NOT_APPLICABLE,
    OUTCOMES,
    PROVIDER_MUNICIPALITY,
    Position,
    Row,
    Table,
    Value,
)
from oja.services.outcome_answers import add_rows as add_answer_rows
from oja.services.reads import episode_plans

PLANNED_ENDINGS = {EndReason.AS_PLANNED.value, EndReason.BASIC_SUPPORT.value}
DROP_OUT = {EndReason.EARLY_BY_CLIENT.value, EndReason.EARLY_BY_PROVIDER.value}


def _region_figure(release: Release, table: str, name: Hashable, n: int) -> FigureId:
    """A region-wide count of pupils (or of their cases), its own cell with the same id. Protected like a count
    at school level: 1 to 5 is hidden, and so is whatever would let it be worked out (docs/domain.md, small
    numbers)."""
    release.add_cell((table, name), n)
    return release.add_figure((table, name), table, [(table, name)]).id


def _percentage(part: int, whole: int) -> Value:
    """`part` of `whole` in percent; over nobody it does not apply ('–')."""
    return round(100 * part / whole, 1) if whole else NOT_APPLICABLE


def _few(positions: dict[Position, int]) -> set[Position]:
    """The averages and percentages over 1 to 5 distinct pupils (by position): hidden even where the count beside
    them (of cases, of measurements) is 6 or more."""
    return {p for p, pupils in positions.items() if is_small(pupils)}


def decisions(session: Session, release: Release, *, since: dt.date) -> Table:
    """Decisions taken since a date, region-wide, with their total and the share of specialised care.

    Each kind is a protected count; the total is their sum (so it cannot give a hidden kind away) and the share
    stands beside it: shown only where the total and the count of referrals to specialised care are (it reveals
    that count), and over 6 or more pupils."""
    counts = dict(
        session.exec(
            select(col(Decision.kind), func.count())
            .where(col(Decision.decided_on) >= since)
            .group_by(col(Decision.kind))
        ).all()
    )
    pupils = session.exec(
        select(func.count(sa.distinct(col(Case.pupil_id))))
        .select_from(Decision)
        .join(Case, col(Case.id) == col(Decision.case_id))
        .where(col(Decision.decided_on) >= since)
    ).one()
    total = sum(counts.values())
    rows: list[Row] = [[kind, n] for kind, n in sorted(counts.items())]
    figures: dict[Position, FigureId] = {
        (i, 1): _region_figure(release, DECISIONS, kind, n) for i, (kind, n) in enumerate(sorted(counts.items()))
    }
    escalate = DecisionKind.ESCALATE.value
    needs: dict[Position, tuple[FigureId, ...]] = {}
    if counts:
        cells = [(DECISIONS, kind) for kind in counts]
        figures[(len(rows), 1)] = release.add_figure((DECISIONS, TOTAL), DECISIONS, cells, total=True).id
        escalated = ((DECISIONS, escalate),) if escalate in counts else ()  # a zero is shown: nothing to need
        needs[(len(rows) + 1, 1)] = (figures[(len(rows), 1)], *escalated)
    rows.append(["totaal", total])
    rows.append(["aandeel specialistische zorg (%)", _percentage(counts.get(escalate, 0), total)])
    title = f"Besluiten sinds {since.isoformat()}"
    few = _few({(len(rows) - 1, 1): pupils})
    return Table(DECISIONS, title, ["besluit", "aantal"], rows, figures, needs, few)


def caseload_by_provider_and_municipality(session: Session, release: Release, open_cases: OpenCases) -> Table:
    """Open cases region-wide per provider (of the plan of the case's episode: a plan from before a reopening no
    longer counts) and per municipality of residence.

    Every row is a protected count: 1 to 5 is hidden. A case can have several providers, so the provider rows
    add up to nothing. The municipality rows add up to every open case, which ties them to the caseload table's
    cells: the audit hides them where, with the marks of the caseload table, they would give a school's cell
    away."""
    open_states = [s.value for s in OPEN_STATES]
    plans = episode_plans()
    per_provider = session.exec(
        select(col(Intervention.provider_code), func.count(sa.distinct(col(Case.id))))
        .join(plans, plans.c.id == col(Intervention.plan_id))
        .join(Case, col(Case.id) == plans.c.case_id)
        .where(col(Case.state).in_(open_states))
        .group_by(col(Intervention.provider_code))
    ).all()
    providers = [
        _region_figure(release, PROVIDER_MUNICIPALITY, ("aanbieder", code), n) for code, n in sorted(per_provider)
    ]
    per_municipality = sorted(open_cases.per_municipality.items())
    municipalities = [
        _region_figure(release, PROVIDER_MUNICIPALITY, ("gemeente", code), n) for code, n in per_municipality
    ]
    if municipalities:  # together they are every open case: the region total of the caseload table
        terms: dict[Cell, float] = {cell: 1.0 for cell in municipalities}
        terms |= {c: -1.0 for c in open_cases.cells.values()}
        release.add_relation(terms, lower=0, upper=0)
    rows: list[Row] = [["aanbieder", provider, n] for provider, n in sorted(per_provider)]
    rows += [["gemeente", code, n] for code, n in per_municipality]
    return Table(
        PROVIDER_MUNICIPALITY,
        "Open casussen per aanbieder en per woongemeente (regio)",
        ["soort", "code", "open casussen"],
        rows,
        {(i, 2): figure for i, figure in enumerate(providers + municipalities)},
    )


def outcomes(session: Session, release: Release, *, since: dt.date) -> Table:
    """Youth care outcome criteria (NJi) for arrangements closed since a date: goals reached, drop-out, satisfaction.

    The closed arrangements are three cells (ended as planned, dropped out, otherwise) and their count a figure
    over them; each percentage reveals its count, so it is that count's figure and stands beside the total
    (shown only where both are). The satisfaction average stands beside the number of measurements, and each
    informant's average GAS T-score (of the reviews held since the date) beside its number of reviews scored, a
    protected count. Every percentage and average is hidden over 1 to 5 pupils. The family's answers to the two
    outcome questions at closing follow, per informant (`oja.services.outcome_answers`)."""
    closed = session.exec(
        select(col(Case.end_reason), col(Case.pupil_id)).where(
            col(Case.state) == CaseState.CLOSED.value,
            col(Case.closed_on) >= since,
            col(Case.activated_on).is_not(None),
        )
    ).all()
    n = len(closed)
    pupils = len({pupil for _, pupil in closed})
    reached = sum(1 for r, _ in closed if r in PLANNED_ENDINGS)
    dropped = sum(1 for r, _ in closed if r in DROP_OUT)
    average, measured, measured_pupils = session.exec(
        select(
            func.avg(col(Review.satisfaction)),
            func.count(col(Review.satisfaction)),
            func.count(sa.distinct(sa.case((col(Review.satisfaction).is_not(None), col(Case.pupil_id))))),
        )
        .select_from(Review)
        .join(Case, col(Case.id) == col(Review.case_id))
        .where(col(Review.held_on) >= since)
    ).one()
    parts = {"volgens plan": reached, "uitval": dropped, "anders": n - reached - dropped}
    for name, count in parts.items():
        release.add_cell((OUTCOMES, name), count)
    closed_figure = release.add_figure((OUTCOMES, "afgesloten"), OUTCOMES, [(OUTCOMES, p) for p in parts], total=True)
    # a share of 0 has no figure of its own (as the answers' shares, `outcome_answers.AnswerFigures`): the audit
    # counts a figure of 0 as shown, and a 0 beside a hidden total would give it "anders" (and refuse the table)
    shares = {
        name: release.add_figure((OUTCOMES, name), OUTCOMES, [(OUTCOMES, name)]).id
        for name in ("volgens plan", "uitval")
        if parts[name]
    }
    # nobody reads the rest, but the total and the two percentages give it: audit it too
    release.add_figure((OUTCOMES, "anders"), OUTCOMES, [(OUTCOMES, "anders")], published=False)
    measurements = _region_figure(release, OUTCOMES, "metingen", int(measured))
    rows: list[Row] = [
        ["afgesloten arrangementen", n],
        ["doelrealisatie: beëindigd volgens plan (%)", _percentage(reached, n)],
        ["uitval: eenzijdig voortijdig beëindigd (%)", _percentage(dropped, n)],
        ["cliënttevredenheid (gemiddeld, 1-10)", round(float(average), 1) if measured else NOT_APPLICABLE],
        ["tevredenheid: aantal metingen", int(measured)],
    ]
    figures: dict[Position, FigureId] = {(0, 1): closed_figure.id, (4, 1): measurements}
    needs: dict[Position, tuple[FigureId, ...]] = {}
    if n:  # a share of nobody does not apply ('–'); each share is shown only beside the total, a share of 0 too
        figures |= {(row, 1): shares[name] for row, name in ((1, "volgens plan"), (2, "uitval")) if name in shares}
        needs |= {(1, 1): (closed_figure.id,), (2, 1): (closed_figure.id,)}
    if measured:
        needs[(3, 1)] = (measurements,)
    few = _few({(1, 1): pupils, (2, 1): pupils, (3, 1): measured_pupils})
    scored = review_t_scores(session, start=since)
    for informant in INFORMANTS:  # a row pair each: the professional, the pupil, the parents (issue 26)
        t = average_t(scored, informant)
        word = INFORMANT_WORDS[informant]
        rows.append([f"GAS T-score {word} (gemiddeld per evaluatie)", shown_t(t.mean) if t.reviews else NOT_APPLICABLE])
        rows.append([f"GAS T-score {word}: aantal evaluaties", t.reviews])
        figures[(len(rows) - 1, 1)] = _region_figure(release, OUTCOMES, ("gas", informant), t.reviews)
        if t.reviews:
            needs[(len(rows) - 2, 1)] = (figures[(len(rows) - 1, 1)],)
        few |= _few({(len(rows) - 2, 1): t.pupils})
    add_answer_rows(session, release, OUTCOMES, rows, figures, needs, few, since=since)  # the family at closing
    title = f"Uitkomstcriteria jeugdhulp sinds {since.isoformat()}"
    return Table(OUTCOMES, title, ["criterium", "waarde"], rows, figures, needs, few)


def hours_and_cost(
    session: Session, *, today: dt.date, rate: float, budget_swv: float, budget_municipality: dict[str, float]
) -> Table:
    """Hours a week (of the arrangements running now) and cost to date this calendar year (oja.services.cost:
    every plan from its start to its end or today, whatever the case's state) per funding stream, against budget.

    Money and hours are not pupil counts and stay out of the release, but a stream's hours and cost over 1 to 5
    pupils are their hours: hidden, with the percentage of the budget (the budget itself is policy, shown). The
    SWV pays a share of every arrangement, so it is hidden too where the hidden streams together hold 1 to 5
    pupils (the SWV minus the streams shown would give them away)."""
    year_start = dt.date(today.year, 1, 1)
    hours: dict[str, float] = {}
    cost: dict[str, float] = {}
    pupils: dict[str, set[int]] = {}
    for d in deliveries(session):
        so_far = d.cost(year_start, today, today=today, rate=rate)
        running = d.until is None
        if not so_far and not running:
            continue
        for stream, share in (("SWV", d.swv_share_pct / 100), (d.municipality, 1 - d.swv_share_pct / 100)):
            hours[stream] = hours.get(stream, 0.0) + (d.hours_per_week * share if running else 0.0)
            cost[stream] = cost.get(stream, 0.0) + so_far * share
            pupils.setdefault(stream, set()).add(d.pupil_id)
    hidden = {stream for stream, cases in pupils.items() if is_small(len(cases))}
    if is_small(len(set().union(*(pupils[s] for s in hidden if s != "SWV")))):
        hidden.add("SWV")
    names = dict(session.exec(select(col(Municipality.code), col(Municipality.name))).all())
    rows: list[Row] = []
    few: set[Position] = set()
    for stream in ["SWV", *sorted(k for k in hours if k != "SWV")]:
        if stream not in hours:
            continue
        budget = budget_swv if stream == "SWV" else budget_municipality.get(stream, 0.0)
        if stream in hidden:
            few |= {(len(rows), 1), (len(rows), 2)} | ({(len(rows), 4)} if budget else set())
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
        few=few,
    )
