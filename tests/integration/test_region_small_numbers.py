"""Issue 23, item 2: region-wide figures about 1 to 5 pupils are not published, and neither is an average, median
or percentage over them. Through the real tables and report, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from sqlmodel import select

from models.suppression import HIDDEN, shown
from models.tables import Case
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy
from oja.services import monitoring
from oja.services.report import Period, figures, render_report
from tests.factories import active_case
from tests.integration.test_monitoring import _bsn
from tests.integration.test_reopen_scope import LATER, _closed_and_reopened, _plan
from tests.integration.test_services import POLICY, TODAY, consent, do, plan, pupil, signal

BORN = dt.date(2009, 1, 1)
AVERAGES = {  # the averages and percentages of the region tables, by their label
    monitoring.OUTCOMES: {
        "doelrealisatie: beëindigd volgens plan (%)",
        "uitval: eenzijdig voortijdig beëindigd (%)",
        "cliënttevredenheid (gemiddeld, 1-10)",
        "GAS T-score professional (gemiddeld per evaluatie)",
    },
    monitoring.DECISIONS: {"aandeel specialistische zorg (%)"},
}


def _pupils(engine, n: int, *, satisfaction: int | None = 8, first: int = 0) -> list[str]:
    """`n` pupils at 40AB with an active arrangement by PRV-A, each with a review giving `satisfaction`."""
    refs = []
    for i in range(first, first + n):
        ref = active_case(
            engine, school="40AB", coordinator="PRF-1", bsn=_bsn(600 + i), born=dt.date(2009, 1, 1), today=TODAY
        )
        if satisfaction is not None:
            do(
                engine,
                sv.record_review,
                case_ref=ref,
                held_on=TODAY,
                actor="PRF-1",
                today=TODAY,
                satisfaction=satisfaction,
            )
        refs.append(ref)
    return refs


def _review(engine, ref: str, satisfaction: int, gas: int | None = None) -> None:
    scores = None if gas is None else {1: gas}  # a GAS score of the plan's one goal: a T-score for the review
    do(
        engine,
        sv.record_review,
        case_ref=ref,
        held_on=TODAY,
        actor="PRF-1",
        today=TODAY,
        satisfaction=satisfaction,
        gas_scores=scores,
    )


def _decide(engine, ref: str, kind: str, day: dt.date = TODAY, **reason: str) -> None:
    """A decision, against the recommendation if there is one (after a review)."""
    why = {"override_reason": "wens_leerling_ouders"}
    do(engine, sv.decide, case_ref=ref, kind=kind, actor="PRF-1", today=day, policy=POLICY, **why, **reason)


def _tables(engine) -> monitoring.Publication:
    with unit_of_work(engine) as s:
        return monitoring.manager_tables(s, today=TODAY, policy=Policy())


def _published(table: monitoring.Table) -> list[list[str]]:
    """The table as the monitoring flow writes it into its artifact."""
    return [[shown(v) if not isinstance(v, str) else v for v in row] for row in table.rows or []]


def _providers(table: monitoring.Table, rows: list | None = None) -> dict[str, object]:
    return {code: n for kind, code, n in (table.rows if rows is None else rows) if kind == "aanbieder"}


def test_one_pupils_satisfaction_and_a_providers_one_open_case_are_not_published(engine):
    _pupils(engine, 1)
    tables = _tables(engine)
    assert tables.refused == []
    outcomes = dict(_published(tables[monitoring.OUTCOMES]))
    assert outcomes["cliënttevredenheid (gemiddeld, 1-10)"] == HIDDEN  # not 8.0: one family's own score
    assert outcomes["tevredenheid: aantal metingen"] == HIDDEN  # not 1
    assert _providers(tables[monitoring.PROVIDER_MUNICIPALITY]) == {"PRV-A": None}  # not 1
    published = [v for t in tables.publishable for row in _published(t) for v in row[1:]]
    assert "8.0" not in published


def test_with_six_pupils_the_average_and_the_providers_count_are_shown(engine):
    _pupils(engine, 6)
    tables = _tables(engine)
    outcomes = dict(_published(tables[monitoring.OUTCOMES]))
    assert outcomes["cliënttevredenheid (gemiddeld, 1-10)"] == "8.0"
    assert outcomes["tevredenheid: aantal metingen"] == "6"
    assert _providers(tables[monitoring.PROVIDER_MUNICIPALITY]) == {"PRV-A": 6}


def _report_totals(engine, day: dt.date) -> dict[str, str]:
    """The region figures of the report's period after (a week up to `day`) as the page shows them."""
    earlier = Period(TODAY - dt.timedelta(days=30), TODAY - dt.timedelta(days=8))  # nothing happened then
    with unit_of_work(engine) as s:
        html = render_report(s, earlier, Period(TODAY - dt.timedelta(days=7), day), rate=100.0, today=day)
    totals = html[html.index("<h2>De regio in cijfers</h2>") : html.index("<h2>Kosten</h2>")]
    rows = re.findall(r"<tr><td>([^<]*)</td>(?:<td>[^<]*</td>)*?<td>([^<]*)</td></tr>", totals)
    return {label.split(" (")[0]: after for label, after in rows}


def test_the_report_hides_the_region_figures_of_one_pupil_and_shows_them_over_six(engine):
    # one arrangement, one referral to specialised care: the report's region figures are about one pupil
    (ref,) = _pupils(engine, 1, satisfaction=None)
    later = TODAY + dt.timedelta(days=7)
    _decide(engine, ref, "specialistische_zorg", later)
    totals = _report_totals(engine, later)
    for label in ("zorgsignalen", "arrangementen gestart", "verwijzingen naar specialistische zorg", "kosten"):
        assert totals[label] == HIDDEN, totals  # not 1, and not one week of 2 hours at €100
    for ref in _pupils(engine, 5, satisfaction=None, first=1):
        _decide(engine, ref, "specialistische_zorg", later)
    totals = _report_totals(engine, later)
    assert [totals[label] for label in ("zorgsignalen", "arrangementen gestart")] == ["6", "6"]
    assert totals["verwijzingen naar specialistische zorg"] == "6" and totals["kosten"] == "1200"


def test_the_open_cases_per_provider_count_the_plan_of_the_cases_episode(engine):
    _closed_and_reopened(engine)  # its first plan had PRV-A deliver; reopened, it has no plan of this episode
    with unit_of_work(engine) as s:
        table = monitoring.manager_tables(s, today=LATER, policy=Policy())[monitoring.PROVIDER_MUNICIPALITY]
    assert _providers(table, table.values) == {}  # the old plan's provider no longer counts it
    with unit_of_work(engine) as s:
        sv.upsert_provider(s, code="PRV-B", name="Aanbieder B")
    with unit_of_work(engine) as s:
        ref = s.exec(select(Case.ref)).one()
    do(
        engine,
        sv.draft_plan,
        case_ref=ref,
        goals=[sv.GoalSpec("leren")],
        interventions=[sv.InterventionSpec("PRV-B", 2)],
        regie_holder="PRF-1",
        start_on=LATER,
        planned_end_on=LATER + dt.timedelta(weeks=20),
        actor="PRF-1",
        today=LATER,
        policy=POLICY,
    )
    with unit_of_work(engine) as s:
        table = monitoring.manager_tables(s, today=LATER, policy=Policy())[monitoring.PROVIDER_MUNICIPALITY]
    assert _providers(table, table.values) == {"PRV-B": 1}
    assert _plan  # the reopened case's old plan is the one test_reopen_scope drafts


@pytest.mark.parametrize("seed", range(3))
def test_no_published_average_is_over_fewer_than_six_pupils(engine, seed):
    """A random small region: every average or percentage that is published stands beside its count, shown and
    6 or more; every pupil count shown is 0 or 6 or more."""
    rng = random.Random(seed)
    n = rng.randint(1, 8)
    refs = _pupils(engine, n, satisfaction=None)
    for ref in refs:
        if rng.random() < 0.7:
            _review(engine, ref, rng.randint(1, 10), rng.choice([None, rng.randint(-2, 2)]))
        kind = rng.choice(["afsluiten", "specialistische_zorg", None])
        if kind == "afsluiten":
            _decide(engine, ref, kind, end_reason=rng.choice(["volgens_plan", "voortijdig_door_client"]))
        elif kind:
            _decide(engine, ref, kind)
    tables = _tables(engine)
    assert tables.refused == []
    for key, labels in AVERAGES.items():
        table = tables[key]
        assert table.rows is not None
        for i, row in enumerate(table.rows):
            if row[0] in labels and isinstance(row[-1], float):
                counts = [table.rows[p][q] for p, q in _beside(table, (i, len(row) - 1))]
                assert counts and all(isinstance(c, int) and c >= 6 for c in counts), (key, row, counts)
            elif isinstance(row[-1], int):
                assert row[-1] == 0 or row[-1] >= 6, (key, row)
    for kind, code, count in tables[monitoring.PROVIDER_MUNICIPALITY].rows or []:
        assert count is None or count == 0 or count >= 6, (kind, code, count)


def _beside(table: monitoring.Table, position: tuple[int, int]) -> list[tuple[int, int]]:
    """Where the counts an average stands beside are published in the same table."""
    where = {figure: p for p, figure in table.figures.items()}
    return [where[f] for f in table.needs.get(position, ()) if f in where]


def test_a_median_over_six_cases_of_three_pupils_is_not_published(engine):
    # three pupils with two cases each (triaged 'no action', then a new signal): six cases triaged, three pupils
    for i in range(3):
        ref_pupil = pupil(engine, bsn=_bsn(700 + i), parents=())
        for _ in range(2):
            ref = signal(engine, ref_pupil).case_ref
            do(engine, sv.triage, case_ref=ref, outcome="geen_actie", no_action_reason="geen_zorgbehoefte",
               actor="PRF-1", today=TODAY, policy=POLICY)  # fmt: skip
    with unit_of_work(engine) as s:
        table = monitoring.manager_tables(s, today=TODAY, policy=Policy(triage_norm_school_days=10))
    row = table[monitoring.TIMELINESS].rows[0]
    assert row[:2] == ["40AB", 6]  # six cases triaged: a count of cases, shown
    assert row[2:5] == [None, None, None]  # the median, p90 and share are about three pupils: hidden


def test_the_reports_median_over_six_arrangements_of_three_pupils_is_not_published(engine):
    # three pupils (17: they consent alone), each with an arrangement closed and a second one started
    for i in range(3):
        ref_pupil = pupil(engine, bsn=_bsn(800 + i), born=BORN, parents=())
        for _ in range(2):
            ref = signal(engine, ref_pupil).case_ref
            do(engine, sv.triage, case_ref=ref, outcome="oja", level=2, actor="PRF-1", today=TODAY, policy=POLICY)
            plan(engine, ref)
            consent(engine, ref, "leerling")
            do(engine, sv.activate, case_ref=ref, actor="PRF-1", today=TODAY)
            _decide(engine, ref, "afsluiten", end_reason="volgens_plan")
    with unit_of_work(engine) as s:
        after = figures(s, Period(TODAY - dt.timedelta(days=7), TODAY), rate=100.0, today=TODAY)
    assert after.started == 6  # six arrangements: a count of cases, shown
    assert after.median_days_to_help is None  # over three pupils: hidden


def test_three_cases_all_triaged_late_leave_the_timeliness_table_publishable(engine):
    """A share of 0 (none within the norm) beside a hidden count of three: the audit counted the 0 as shown and
    refused the whole table (the count outside the norm = the count), so the monitoring run published nothing."""
    for i in range(3):
        ref_pupil = pupil(engine, bsn=_bsn(900 + i), parents=())
        ref = signal(engine, ref_pupil, on=TODAY - dt.timedelta(days=42)).case_ref
        do(engine, sv.triage, case_ref=ref, outcome="geen_actie", no_action_reason="geen_zorgbehoefte",
           actor="PRF-1", today=TODAY, policy=POLICY)  # fmt: skip
    with unit_of_work(engine) as s:
        tables = monitoring.manager_tables(s, today=TODAY, policy=Policy(triage_norm_school_days=10))
    assert tables.refused == []
    row = tables[monitoring.TIMELINESS].rows[0]
    assert row[:2] == ["40AB", None] and row[4] is None  # three cases of three pupils: hidden, the share too
