"""Cost to date (issue 23, item 8): the hours delivered under every plan, from its start to its end (or today),
whatever the case's state now. A year of cases that start, change level, are referred, close and reopen; every
place that shows cost (the monitoring table, the pilot report) agrees, and ending an arrangement never lowers it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from models.tables import Case
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services import monitoring
from oja.services.report import Period, figures
from tests.factories import active_case, valid_bsn

RATE = 85.0
POLICY = sv.DEFAULT_POLICY
JAN_12, MAR_2, MAY_4, JUN_1, SEP_7, SEP_14 = (
    dt.date(2026, 1, 12),
    dt.date(2026, 3, 2),
    dt.date(2026, 5, 4),
    dt.date(2026, 6, 1),
    dt.date(2026, 9, 7),
    dt.date(2026, 9, 14),
)
TODAY = dt.date(2026, 11, 30)


def _case(engine, i: int, day: dt.date) -> str:
    return active_case(
        engine,
        school="40AB",
        coordinator="PRF-1",
        bsn=valid_bsn(i, base=370000000),
        born=dt.date(2009, 1, 1),
        today=day,
    )


def _cost(engine, today: dt.date) -> dict[str, float]:
    """'kosten tot nu' per funding stream, as the monitoring table computes it (three pupils' cost: published as
    hidden, see tests/integration/test_monitoring.py)."""
    with unit_of_work(engine) as s:
        publication = monitoring.manager_tables(
            s, today=today, policy=POLICY.model_copy(update={"hourly_rate_eur": RATE})
        )
    return {row[0]: row[2] for row in publication[monitoring.HOURS_AND_COST].values}


def _year(engine) -> tuple[str, str, str]:
    """A: 2 h a week from 12 January, up a level on 2 March, closed 1 June, reopened and running again from
    14 September (plan v2). B: from 2 March, referred to specialised care on 4 May. C: from 7 September."""
    a = _case(engine, 0, JAN_12)
    b = _case(engine, 1, MAR_2)
    with unit_of_work(engine) as s:
        sv.record_review(s, case_ref=a, held_on=MAR_2, actor="PRF-1", today=MAR_2, gas_scores={1: -1})
        sv.decide(
            s,
            case_ref=a,
            kind="opschalen",
            new_level=3,
            actor="PRF-1",
            today=MAR_2,
            policy=POLICY,
            override_reason="wens_leerling_ouders",
        )
    with unit_of_work(engine) as s:
        sv.refer(s, case_ref=b, actor="PRF-1", today=MAY_4)
    before = _cost_before_close(engine, a)
    assert _cost(engine, JUN_1) == before  # closing an arrangement does not lower what it has cost
    c = _case(engine, 2, SEP_7)
    with unit_of_work(engine) as s:
        sv.reopen(s, case_ref=a, actor="PRF-1", today=SEP_7, policy=POLICY)
        sv.triage(s, case_ref=a, outcome="oja", level=2, actor="PRF-1", today=SEP_7, policy=POLICY)
        sv.draft_plan(
            s,
            case_ref=a,
            goals=[sv.GoalSpec("leren")],
            interventions=[sv.InterventionSpec("PRV-A", 4, swv_share_pct=25)],
            regie_holder="PRF-1",
            start_on=SEP_14,
            planned_end_on=SEP_14 + dt.timedelta(weeks=20),
            actor="PRF-1",
            today=SEP_7,
            policy=POLICY,
        )
        sv.record_consent(s, case_ref=a, party="leerling", granted=True, actor="PRF-1", recorded_on=SEP_7, today=SEP_7)
        sv.activate(s, case_ref=a, actor="PRF-1", today=SEP_7)
    return a, b, c


def _cost_before_close(engine, ref: str) -> dict[str, float]:
    """The cost to date on 1 June, then the case closes that day: the figure must not change."""
    before = _cost(engine, JUN_1)
    with unit_of_work(engine) as s:
        sv.decide(
            s, case_ref=ref, kind="afsluiten", reason_code="volgens_plan", actor="PRF-1", today=JUN_1, policy=POLICY
        )
    return before


def _weeks(start: dt.date, end: dt.date) -> float:
    return (end - start).days / 7


def test_cost_to_date_counts_every_plan_from_its_start_to_its_end_whatever_the_case_state(engine):
    _year(engine)
    with unit_of_work(engine) as s:
        states = dict(s.exec(select(Case.ref, Case.state)).all())
    assert sorted(states.values()) == ["actief", "actief", "geescaleerd"]
    # 2 h a week, half each: A's plan v1 to its close, B's to its referral, C's to today; A's plan v2 (4 h, 25 %)
    half = 2 * 0.5 * RATE * (_weeks(JAN_12, JUN_1) + _weeks(MAR_2, MAY_4) + _weeks(SEP_7, TODAY))
    a2 = 4 * RATE * _weeks(SEP_14, TODAY)
    assert _cost(engine, TODAY) == {
        "samenwerkingsverband": round(half + 0.25 * a2),
        "Hengelo (GM0164)": round(half + 0.75 * a2),
    }


def _signals(engine, day: dt.date, first: int) -> None:
    """Six care reports at the school on a day (no plan, no cost): enough for the report's small-numbers audit."""
    for i in range(first, first + 6):
        with unit_of_work(engine) as s:
            pupil = sv.register_pupil(
                s,
                given_name="Test",
                family_name="Signaal",
                birth_date=dt.date(2012, 1, 1),
                bsn=valid_bsn(i, base=370000000),
                school_code="40AB",
                municipality_code="GM0164",
                parents=[],
                today=day,
            )
            sv.register_signal(
                s,
                pupil_ref=pupil,
                school_code="40AB",
                source="school",
                domains=["leren"],
                urgency="normaal",
                actor="PRF-1",
                received_on=day,
                today=day,
                policy=POLICY,
            )


def test_the_pilot_report_counts_the_same_cost_as_the_monitoring_table(engine):
    _year(engine)
    _signals(engine, dt.date(2026, 2, 2), 10)
    _signals(engine, dt.date(2026, 10, 5), 20)
    year = _cost(engine, TODAY)
    with unit_of_work(engine) as s:
        report = figures(s, Period(dt.date(2026, 1, 1), TODAY), rate=RATE, today=TODAY).cost_eur
        halves = [
            figures(s, Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30)), rate=RATE, today=TODAY).cost_eur,
            figures(s, Period(dt.date(2026, 7, 1), TODAY), rate=RATE, today=TODAY).cost_eur,
        ]
    assert round(report) == round(sum(v for v in year.values()))
    assert abs(sum(halves) - report) < 0.01  # periods add up: no day counted twice or lost
