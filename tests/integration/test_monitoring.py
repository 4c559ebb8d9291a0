"""Manager figures on a generated region whose numbers are known in advance, suppression and its audit included.

The leaks of issue 11 are attacked through the real tables with the attackers in tests/attack.py, which do not
use models/suppression.py."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import func, select

from models.lifecycle import CaseState
from models.suppression import HIDDEN, Release, audit, protect, shown
from models.tables import Case
from oja import services as sv
from oja.adapters import migrate
from oja.adapters.db import get_engine, unit_of_work
from oja.config import Policy
from oja.entrypoints.demo import load_demo
from oja.services import monitoring
from oja.services.monitoring import LEVELS
from oja.services.report import default_periods, render_report
from tests import attack
from tests.factories import active_case, valid_bsn
from tests.integration.test_services import TODAY

BSN_BASE = 300000000


def _bsn(i: int) -> str:
    return valid_bsn(i, base=BSN_BASE)


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


def _tables(s, *, today=TODAY, **policy) -> monitoring.Publication:
    """The eight tables as the monitoring flow publishes them (audited together)."""
    return monitoring.manager_tables(s, today=today, policy=Policy(**policy))


def test_caseload_per_school_hides_small_cells_and_what_would_give_them_away(engine):
    _region(engine)
    with unit_of_work(engine) as s:
        tables = _tables(s)
    assert tables.refused == [] and tables.protection.ok
    rows = {r[0]: r[1:] for r in tables[monitoring.CASELOAD].rows}
    # levels 0..4, then the school total
    assert rows["40AB"] == [0, None, None, 0, 0, 10]  # 3 hidden, and 7 with it (the total 10 is shown)
    assert rows["41CD"] == [0, 0, 0, 6, 0, 6]  # zeros are shown: they hold nobody
    # the level totals would give 40AB's cells away (41CD has 0 there): hidden too; the region total is shown
    assert rows["totaal"] == [0, None, None, 6, 0, 16]
    ranges = tables.protection.ranges
    # 3 could be anything from 1 to 9: hidden means not 0 (zeros are shown), and the 7 is at least 1 too
    assert ranges[(monitoring.CASELOAD, "40AB", 1)] == (1, 9)


def test_reviews_on_time_and_overdue(engine):
    _region(engine)
    with unit_of_work(engine) as s:
        table = _tables(s)[monitoring.REVIEWS]
    rows = {r[0]: r[1:] for r in table.rows}
    assert rows["40AB"] == [10, None, None]  # 8 on time, 2 late: the 2 is hidden and so is its partner
    assert rows["41CD"] == [6, 6, 0]


def test_timeliness_is_shown_only_for_more_than_five_pupils(engine):
    _region(engine)
    with unit_of_work(engine) as s:
        table = _tables(s, triage_norm_school_days=10)[monitoring.TIMELINESS]
    rows = {r[0]: r[1:] for r in table.rows}
    assert rows["40AB"][:4] == [10, 0.0, 0.0, 100]  # all triaged on the day of the signal
    assert rows["41CD"][:4] == [6, 0.0, 0.0, 100]


def test_timeliness_hides_a_share_that_reveals_a_small_group_and_the_percentiles_with_it(engine):
    _region(engine)
    with unit_of_work(engine) as s:  # one of 40AB's ten was triaged two weeks after the signal
        sv.upsert_school(s, code="42EF", name="Lege School", holiday_region="noord", municipality_code="GM0164")
        case = s.exec(select(Case).where(Case.school_code == "40AB").order_by(Case.id)).first()
        case.opened_on = TODAY - dt.timedelta(days=14)
        s.add(case)
    with unit_of_work(engine) as s:
        tables = _tables(s, triage_norm_school_days=5)
    rows = {r[0]: r[1:] for r in tables[monitoring.TIMELINESS].rows}
    # 90% within the norm would say that one pupil was not; the median and p90 bound that share too
    assert rows["40AB"][:4] == [10, None, None, None]
    # the one outside the norm: 10 triaged, at least 1 of them within (a hidden count is not 0)
    assert tables.protection.ranges[(monitoring.TIMELINESS, "40AB", "buiten norm")] == (0, 9)
    assert rows["41CD"][:4] == [6, 0.0, 0.0, 100]
    assert rows["42EF"] == [0, "–", "–", "–", 0, "–", "–"]  # over nobody nothing applies


def test_caseload_per_provider_and_municipality(engine):
    _region(engine)
    with unit_of_work(engine) as s:
        table = _tables(s)[monitoring.PROVIDER_MUNICIPALITY]
    assert table.rows == [["aanbieder", "PRV-A", 16], ["gemeente", "GM0164", 16]]


def test_hours_and_cost_per_funding_stream_against_budget(engine):
    _region(engine)  # 16 arrangements of 2 hours a week, half paid by the SWV, started on TODAY
    with unit_of_work(engine) as s:
        table = _tables(
            s,
            today=TODAY + dt.timedelta(days=14),
            hourly_rate_eur=85.0,
            budget_swv_eur=10000.0,
            budget_municipality_eur={"GM0164": 5440.0},
        )[monitoring.HOURS_AND_COST]
    # two weeks: 16 x 2 h x 2 weeks x 85 = 5440 euro, half each
    assert table.rows == [
        ["samenwerkingsverband", 16.0, 2720, 10000, 27.2],
        ["Hengelo (GM0164)", 16.0, 2720, 5440, 50.0],
    ]


def test_money_without_a_budget_is_never_shown_as_a_small_number(engine):
    _region(engine)  # no budget policy: the SWV and the municipality have none
    with unit_of_work(engine) as s:
        table = _tables(s, today=TODAY + dt.timedelta(days=14))[monitoring.HOURS_AND_COST]
    assert table.rows == [
        ["samenwerkingsverband", 16.0, 2720, "geen budget", "–"],
        ["Hengelo (GM0164)", 16.0, 2720, "geen budget", "–"],
    ]
    published = [shown(v) if not isinstance(v, str) else v for row in table.rows for v in row]  # as the flow does
    assert HIDDEN not in published


def test_money_and_hours_of_one_to_five_pupils_are_hidden_but_not_the_budget(engine):
    # one pupil's arrangement: its hours and cost are that pupil's hours (as an average over one pupil would be)
    active_case(engine, school="40AB", coordinator="PRF-1", bsn=_bsn(90), born=dt.date(2009, 1, 1), today=TODAY)
    with unit_of_work(engine) as s:
        table = _tables(
            s, today=TODAY + dt.timedelta(days=7), budget_swv_eur=3.0, budget_municipality_eur={"GM0164": 4.0}
        )[monitoring.HOURS_AND_COST]
    assert table.rows == [
        ["samenwerkingsverband", None, None, 3, None],
        ["Hengelo (GM0164)", None, None, 4, None],
    ]


def test_the_swv_stream_is_hidden_where_it_would_give_a_hidden_municipality_away(engine):
    # 6 pupils from Hengelo, 1 from Borne: the SWV pays half of all 7, so SWV minus Hengelo is Borne's half
    with unit_of_work(engine) as s:
        sv.upsert_municipality(s, code="GM0147", name="Borne")
    for i in range(7):
        municipality = "GM0147" if i == 6 else "GM0164"
        active_case(
            engine,
            school="40AB",
            coordinator="PRF-1",
            bsn=_bsn(80 + i),
            born=dt.date(2009, 1, 1),
            today=TODAY,
            municipality=municipality,
        )
    with unit_of_work(engine) as s:
        table = _tables(s, today=TODAY + dt.timedelta(days=7))[monitoring.HOURS_AND_COST]
    assert table.rows == [
        ["samenwerkingsverband", None, None, "geen budget", "–"],
        ["Borne (GM0147)", None, None, "geen budget", "–"],
        ["Hengelo (GM0164)", 6.0, 510, "geen budget", "–"],
    ]


def test_outcome_criteria_of_closed_arrangements(engine):
    _region(engine)
    with unit_of_work(engine) as s:
        refs = s.exec(select(Case.ref, Case.school_code).order_by(Case.id)).all()[:13]
    reasons = ["volgens_plan"] * 7 + ["voortijdig_door_client"] * 6  # 6 or more each: counts of 1 to 5 are hidden
    for (ref, school), reason in zip(refs, reasons, strict=True):
        with unit_of_work(engine) as s:
            sv.decide(
                s,
                case_ref=ref,
                kind="afsluiten",
                reason_code=reason,
                actor="PRF-1" if school == "40AB" else "PRF-9",
                today=TODAY,
                policy=sv.DEFAULT_POLICY,
            )
    with unit_of_work(engine) as s:
        sv.upsert_group(s, code="GRP-9", provider_code="PRV-A", professional_code="PRF-2", capacity=4, hours_per_week=3)
        tables = _tables(s)
    table, groups = tables[monitoring.OUTCOMES], tables[monitoring.GROUPS]
    values = dict(table.rows)
    assert values["afgesloten arrangementen"] == 13
    assert values["doelrealisatie: beëindigd volgens plan (%)"] == 53.8
    assert values["uitval: eenzijdig voortijdig beëindigd (%)"] == 46.2
    assert values["cliënttevredenheid (gemiddeld, 1-10)"] == "–"  # no measurements: does not apply
    assert groups.rows == [["GRP-9", "", 4, 0, 3.0]]


def test_outcome_criteria_without_closed_arrangements_read_not_applicable_not_a_small_number(engine):
    with unit_of_work(engine) as s:  # region-wide figures: nothing is suppressed, a missing one does not apply
        table = _tables(s)[monitoring.OUTCOMES]
    assert dict(table.rows) == {
        "afgesloten arrangementen": 0,
        "doelrealisatie: beëindigd volgens plan (%)": "–",
        "uitval: eenzijdig voortijdig beëindigd (%)": "–",
        "cliënttevredenheid (gemiddeld, 1-10)": "–",
        "tevredenheid: aantal metingen": 0,
        "GAS T-score professional (gemiddeld per evaluatie)": "–",
        "GAS T-score professional: aantal evaluaties": 0,
        "GAS T-score leerling (gemiddeld per evaluatie)": "–",  # the family's own T (issue 26)
        "GAS T-score leerling: aantal evaluaties": 0,
        "GAS T-score ouders (gemiddeld per evaluatie)": "–",
        "GAS T-score ouders: aantal evaluaties": 0,
        "afsluitvragen leerling: aantal antwoorden": 0,
        "afsluitvragen leerling: tevreden over de hulp (%)": "–",
        "afsluitvragen leerling: verder zonder deze hulp (%)": "–",
        "afsluitvragen ouders: aantal antwoorden": 0,
        "afsluitvragen ouders: tevreden over de hulp (%)": "–",
        "afsluitvragen ouders: verder zonder deze hulp (%)": "–",
    }


# --- the four leaks of issue 11, through the real tables ----------------------------------------------------

SCHOOLS = ["40AB", "41CD", "42EF", "43GH", "44IJ"]


def _cases(engine, plan: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """Open (active) cases per (school, level); schools beyond 40AB are added with a coordinator each."""
    with unit_of_work(engine) as s:
        for i, school in enumerate(SCHOOLS[1:], start=1):
            if any(sc == school for sc, _ in plan):
                sv.upsert_school(s, code=school, name=f"School {i}", holiday_region="noord", municipality_code="GM0164")
                sv.upsert_professional(
                    s, code=f"PRF-C{i}", name=f"Coördinator {i}", role="zorgcoordinator", school_code=school
                )
    i = 0
    for (school, level), n in sorted(plan.items()):
        coordinator = "PRF-1" if school == "40AB" else f"PRF-C{SCHOOLS.index(school)}"
        for _ in range(n):
            ref = active_case(
                engine, school=school, coordinator=coordinator, bsn=_bsn(200 + i), born=dt.date(2009, 1, 1), today=TODAY
            )
            i += 1
            with unit_of_work(engine) as s:  # any level 0-4, as the case could have been triaged or moved to
                case = s.exec(select(Case).where(Case.ref == ref)).one()
                case.level = level
                s.add(case)
    return dict(plan)


def _attack(tables, truth: dict[tuple[str, int], int]):
    """Attack the caseload table together with the region total (the municipality rows of another table).

    Returns what the pencil attacker recovers, the combining attacker's bounds (rows and columns first, so
    that its first ten equations are those), the published figures and the true ones."""
    caseload = tables[monitoring.CASELOAD]
    schools = [row[0] for row in caseload.rows[:-1]]
    values = attack.grid_values("c", schools, LEVELS, [row[1:] for row in caseload.rows])
    equations = attack.grid_equations("c", schools, LEVELS)
    region = [n for kind, _, n in tables[monitoring.PROVIDER_MUNICIPALITY].rows if kind == "gemeente"]
    if None not in region:  # the municipality rows, where all are shown, give the region total
        values[("regio",)] = sum(region)
        equations.append((("regio",), [("c", "totaal", "totaal")]))
    true = {("c", s, lv): truth.get((s, lv), 0) for s in schools for lv in LEVELS}
    true |= {("c", s, "totaal"): sum(truth.get((s, lv), 0) for lv in LEVELS) for s in schools}
    true |= {("c", "totaal", lv): sum(truth.get((s, lv), 0) for s in schools) for lv in LEVELS}
    true[("c", "totaal", "totaal")] = sum(truth.values())
    floors = attack.floors(values, equations)
    return attack.subtract(values, equations), attack.combine(values, equations), values, true, floors


def _assert_nothing_given_away(tables, truth):
    recovered, bounds, values, true, floors = _attack(tables, truth)
    school_figures = [n for n in values if n[0] == "c" and n[1] != "totaal"]  # cells and school totals
    for name in school_figures:
        assert values[name] is None or values[name] == 0 or values[name] > 5, f"{name} shows {values[name]}"
    for name in school_figures:
        if values[name] is None and true[name] > 0:  # a hidden zero found back is not a group
            assert name not in recovered, f"{name} (hidden) is recovered as {recovered.get(name)}"
            lower, upper = bounds.get(name, (1, float("inf")))
            assert attack.protected(true[name], lower, upper, floors[name]), (
                f"{name} = {true[name]}: narrowed to [{lower}, {upper}]"
            )


def test_leak_two_schools_the_other_schools_full_row_and_a_column_total(engine):
    # 40AB: 3 at level 1, 7 at level 2; 41CD: 6 at level 3 (the example of issue 11)
    truth = _region(engine)
    with unit_of_work(engine) as s:
        tables = _tables(s)
    _assert_nothing_given_away(tables, truth)


def test_leak_one_school_with_column_totals(engine):
    truth = _cases(engine, {("40AB", 1): 3, ("40AB", 2): 7})
    with unit_of_work(engine) as s:
        tables = _tables(s)
    _assert_nothing_given_away(tables, truth)


def test_leak_the_region_total_minus_the_other_school(engine):
    # 15 open cases in the region (the municipality rows of oja-caseload-aanbieder-gemeente); 41CD has 12
    truth = _cases(engine, {("40AB", 1): 3, ("41CD", 2): 6, ("41CD", 3): 6})
    with unit_of_work(engine) as s:
        tables = _tables(s)
    _assert_nothing_given_away(tables, truth)


def test_leak_a_level_total_that_leaves_one_pupil_for_each_hidden_cell(engine):
    # four schools with 1 pupil at level 1 each: a level total of 4 over four hidden cells says each is 1,
    # because a hidden cell is never 0 (zeros are shown); the level total must be hidden too
    plan = {("40AB", 1): 1, ("41CD", 1): 1, ("42EF", 1): 1, ("43GH", 1): 1}
    truth = _cases(engine, plan | {("40AB", 2): 10, ("41CD", 2): 9, ("42EF", 2): 12, ("43GH", 2): 8})
    with unit_of_work(engine) as s:
        tables = _tables(s)
    assert {r[0]: r[1:] for r in tables[monitoring.CASELOAD].rows}["totaal"][1] is None
    _assert_nothing_given_away(tables, truth)


def test_leak_two_blocks_joined_by_one_cell_in_a_five_by_five_table(engine):
    # hidden cells: a 2x2 block (schools 40AB, 41CD x levels 0, 1), a 2x2 block (42EF, 43GH x levels 2, 3) and
    # 40AB level 2 (4 pupils) joining them; every line has two hidden cells or none, every total is 6 or more.
    # Row 40AB - column 0 - column 1 + row 41CD leaves 40AB level 2: 10 - 6 - 6 + 6 = 4.
    plan = {
        ("40AB", 0): 3, ("40AB", 1): 3, ("40AB", 2): 4,
        ("41CD", 0): 3, ("41CD", 1): 3,
        ("42EF", 2): 3, ("42EF", 3): 3,
        ("43GH", 2): 3, ("43GH", 3): 3,
    }  # fmt: skip
    truth = _cases(engine, plan)
    with unit_of_work(engine) as s:
        sv.upsert_school(s, code="44IJ", name="School 4", holiday_region="noord", municipality_code="GM0164")
        tables = _tables(s)
    assert [row[0] for row in tables[monitoring.CASELOAD].rows] == [*SCHOOLS, "totaal"]
    _assert_nothing_given_away(tables, truth)


def test_every_table_of_the_demo_region_passes_the_audit(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    migrate.upgrade(url)
    engine = get_engine(url)
    load_demo(engine, TODAY)
    with unit_of_work(engine) as s:
        tables = _tables(s)
        truth = dict(
            ((school, level), n)
            for school, level, n in s.exec(
                select(Case.school_code, Case.level, func.count())
                .where(Case.state != CaseState.CLOSED.value)
                .group_by(Case.school_code, Case.level)
            ).all()
        )
        report = render_report(s, *default_periods(TODAY), rate=85.0, today=TODAY)  # raises if refused
    assert tables.refused == [] and tables.protection.ok
    assert audit(tables.protection.release, tables.protection.hidden).ok  # audited again from scratch
    assert len(tables.tables) == 8 and all(t.rows is not None for t in tables.tables)
    _assert_nothing_given_away(tables, truth)  # and the attackers find nothing in the caseload either
    assert sum(truth.values()) == 10 and HIDDEN in report
    engine.dispose()


def test_a_municipality_row_that_would_be_one_schools_total_is_hidden_with_it(engine):
    # one school with 3 open cases: the region-wide municipality row (3) would be that school's total,
    # so the audit hides it too; every table can be published
    _cases(engine, {("40AB", 2): 3})
    with unit_of_work(engine) as s:
        tables = _tables(s)
    assert tables.refused == [] and tables.protection.ok
    assert {r[0]: r[1:] for r in tables[monitoring.CASELOAD].rows}["40AB"] == [0, 0, None, 0, 0, None]
    municipality = [row for row in tables[monitoring.PROVIDER_MUNICIPALITY].rows if row[0] == "gemeente"]
    assert municipality == [["gemeente", "GM0164", None]]
    # the provider's 3 open cases are a count of 1 to 5 at region level: hidden as well
    assert [row[2] for row in tables[monitoring.PROVIDER_MUNICIPALITY].rows if row[0] == "aanbieder"] == [None]


def test_a_table_that_is_refused_has_nothing_to_publish(engine):
    _cases(engine, {("40AB", 2): 3})
    with unit_of_work(engine) as s:
        release = Release()
        open_cases = monitoring._open_cases(s, release, today=TODAY)
        table = monitoring.caseload_by_school(release, open_cases)
        # a region-wide figure that must be shown and is that school's total: no suppression can help
        release.add_figure(("regio",), "regio", list(open_cases.cells.values()), protected=False, fixed=True)
        protection = protect(release)
    assert protection.refused == {monitoring.CASELOAD}
    assert table.rows is None
    with pytest.raises(RuntimeError, match="audit"):
        table.as_records()
