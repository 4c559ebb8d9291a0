"""Manager figures on a generated region whose numbers are known in advance, suppression included."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from models.suppression import shown
from models.tables import Case
from oja import monitoring
from oja import services as sv
from oja.db import unit_of_work
from tests.factories import active_case
from tests.integration.test_services import TODAY

BSN_BASE = 300000000


def _bsn(i: int) -> str:
    n = BSN_BASE + i * 100
    while True:
        digits = f"{n:09d}"
        if (sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])) % 11 == 0:
            return digits
        n += 1


def _region(engine) -> dict[tuple[str, int], int]:
    """School 40AB: 7 cases at level 2, 3 at level 1; school 41CD: 6 at level 3. Returns the known counts."""
    with unit_of_work(engine) as s:
        sv.upsert_school(s, code="41CD", name="Andere School", holiday_region="noord", municipality_code="GM0164")
        sv.upsert_professional(s, code="PRF-9", name="Coördinator 2", role="zorgcoordinator", school_code="41CD")
    plan = [("40AB", "PRF-1", 2)] * 7 + [("40AB", "PRF-1", 1)] * 3 + [("41CD", "PRF-9", 3)] * 6
    for i, (school, coordinator, level) in enumerate(plan):
        ref = active_case(
            engine,
            school=school,
            coordinator=coordinator,
            bsn=_bsn(i),
            born=dt.date(2009, 1, 1),
            today=TODAY,
            level=level,
        )
        if i < 2:  # two of them overdue for their review
            with unit_of_work(engine) as s:
                case = s.exec(select(Case).where(Case.ref == ref)).one()
                case.next_review_on = TODAY - dt.timedelta(days=1)
                s.add(case)
    return {("40AB", 2): 7, ("40AB", 1): 3, ("41CD", 3): 6}


def test_caseload_per_school_hides_small_cells_and_what_would_give_them_away(engine):
    _region(engine)
    with unit_of_work(engine) as s:
        table = monitoring.caseload_by_school(s)
    rows = {r[0]: r[1:] for r in table.rows}
    # levels 0..4, then the school total
    assert rows["40AB"] == [0, None, None, 0, 0, 10]  # 3 hidden, and 7 with it (the total 10 is shown)
    # 6 at level 3 is shown; its zeros at levels 1 and 2 are hidden so that the columns do not give 40AB away
    assert rows["41CD"] == [0, None, None, 6, 0, 6]
    assert rows["totaal"] == [0, None, 7, 6, 0, 16]


def test_reviews_on_time_and_overdue(engine):
    _region(engine)
    with unit_of_work(engine) as s:
        table = monitoring.reviews_by_school(s, today=TODAY)
    rows = {r[0]: r[1:] for r in table.rows}
    assert rows["40AB"] == [10, None, None]  # 8 on time, 2 late: the 2 is hidden and so is its partner
    assert rows["41CD"] == [6, 6, 0]


def test_timeliness_is_shown_only_for_more_than_five_pupils(engine):
    _region(engine)
    with unit_of_work(engine) as s:
        table = monitoring.timeliness_by_school(s, triage_norm=10, today=TODAY)
    rows = {r[0]: r[1:] for r in table.rows}
    assert rows["40AB"][:4] == [10, 0.0, 0.0, 100]  # all triaged on the day of the signal
    assert rows["41CD"][:4] == [6, 0.0, 0.0, 100]


def test_caseload_per_provider_and_municipality(engine):
    _region(engine)
    with unit_of_work(engine) as s:
        table = monitoring.caseload_by_provider_and_municipality(s)
    assert table.rows == [["aanbieder", "PRV-A", 16], ["gemeente", "GM0164", 16]]


def test_hours_and_cost_per_funding_stream_against_budget(engine):
    _region(engine)  # 16 arrangements of 2 hours a week, half paid by the SWV, started on TODAY
    with unit_of_work(engine) as s:
        table = monitoring.hours_and_cost(
            s,
            today=TODAY + dt.timedelta(days=14),
            rate=85.0,
            budget_swv=10000.0,
            budget_municipality={"GM0164": 5440.0},
        )
    # two weeks: 16 x 2 h x 2 weeks x 85 = 5440 euro, half each
    assert table.rows == [
        ["samenwerkingsverband", 16.0, 2720, 10000, 27.2],
        ["Hengelo (GM0164)", 16.0, 2720, 5440, 50.0],
    ]


def test_money_without_a_budget_is_never_shown_as_a_small_number(engine):
    _region(engine)  # no budget policy: the SWV and the municipality have none
    with unit_of_work(engine) as s:
        table = monitoring.hours_and_cost(
            s, today=TODAY + dt.timedelta(days=14), rate=85.0, budget_swv=0.0, budget_municipality={}
        )
    assert table.rows == [
        ["samenwerkingsverband", 16.0, 2720, "geen budget", "–"],
        ["Hengelo (GM0164)", 16.0, 2720, "geen budget", "–"],
    ]
    published = [shown(v) if not isinstance(v, str) else v for row in table.rows for v in row]  # as the flow does
    assert "≤5" not in published


def test_money_and_hours_of_few_pupils_are_not_suppressed(engine):
    # one pupil's arrangement: its hours and cost are money, not a pupil count
    active_case(engine, school="40AB", coordinator="PRF-1", bsn=_bsn(90), born=dt.date(2009, 1, 1), today=TODAY)
    with unit_of_work(engine) as s:
        table = monitoring.hours_and_cost(
            s, today=TODAY + dt.timedelta(days=7), rate=85.0, budget_swv=3.0, budget_municipality={"GM0164": 4.0}
        )
    assert table.rows == [
        ["samenwerkingsverband", 1.0, 85, 3, 2833.3],
        ["Hengelo (GM0164)", 1.0, 85, 4, 2125.0],
    ]


def test_outcome_criteria_of_closed_arrangements(engine):
    _region(engine)
    with unit_of_work(engine) as s:
        refs = s.exec(select(Case.ref).order_by(Case.id)).all()[:3]
    for ref, reason in zip(refs, ("volgens_plan", "volgens_plan", "voortijdig_door_client"), strict=True):
        with unit_of_work(engine) as s:
            sv.decide(s, case_ref=ref, kind="afsluiten", reason_code=reason, actor="PRF-1", today=TODAY)
    with unit_of_work(engine) as s:
        sv.upsert_group(s, code="GRP-9", provider_code="PRV-A", professional_code="PRF-2", capacity=4, hours_per_week=3)
        table = monitoring.outcomes(s, since=TODAY - dt.timedelta(days=365))
        groups = monitoring.group_use(s)
    values = dict(table.rows)
    assert values["afgesloten arrangementen"] == 3
    assert values["doelrealisatie: beëindigd volgens plan (%)"] == 66.7
    assert values["uitval: eenzijdig voortijdig beëindigd (%)"] == 33.3
    assert values["cliënttevredenheid (gemiddeld, 1-10)"] == "–"  # no measurements: does not apply
    assert groups.rows == [["GRP-9", "", 4, 0, 3.0]]


def test_outcome_criteria_without_closed_arrangements_read_not_applicable_not_a_small_number(engine):
    with unit_of_work(engine) as s:  # region-wide figures: nothing is suppressed, a missing one does not apply
        table = monitoring.outcomes(s, since=TODAY - dt.timedelta(days=365))
    assert dict(table.rows) == {
        "afgesloten arrangementen": 0,
        "doelrealisatie: beëindigd volgens plan (%)": "–",
        "uitval: eenzijdig voortijdig beëindigd (%)": "–",
        "cliënttevredenheid (gemiddeld, 1-10)": "–",
        "tevredenheid: aantal metingen": 0,
    }
