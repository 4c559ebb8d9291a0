"""The family's answers at closing in the managers' outcome table and the evaluation report (issue 26), on SQLite
and PostgreSQL: per informant the number of answers and the shares, shown over 6 or more distinct pupils only and
only where the linear-programming audit finds nothing of 1 to 5 pupils derivable (a share that gives away a small
complement is hidden); only three parents answered: hidden."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlmodel import select

from models.suppression import Release, audit, protect
from models.tables import Case
from models.tables_family import FamilyLogin
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy
from oja.services import closing_questions as cq
from oja.services import monitoring
from oja.services.outcome_answers import Tally, add_cells
from oja.services.report import Period, render_report
from tests.factories import active_case, valid_bsn

TODAY = dt.date(2026, 12, 3)
NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
ROWS = "afsluitvragen {who}: aantal antwoorden", "afsluitvragen {who}: tevreden over de hulp (%)"
ROWS += ("afsluitvragen {who}: verder zonder deze hulp (%)",)


def _answered(engine, answers: list[dict[str, tuple[str, str]]], *, start: int = 0) -> None:
    """A closed case per entry, each party in it invited and answering (satisfaction, without help)."""
    for i, by_party in enumerate(answers, start=start):
        ref = active_case(
            engine, school="40AB", coordinator="PRF-1", bsn=valid_bsn(i, base=715_000_000),
            born=dt.date(2013, 1, 1), today=TODAY, parents=("Ouder Een", "Ouder Twee"),
        )  # fmt: skip
        with unit_of_work(engine) as s:
            case = s.exec(select(Case).where(Case.ref == ref)).one()
            for party in by_party:  # invited: a login (its invitation not used yet)
                s.add(FamilyLogin(pupil_id=case.pupil_id, party=party, email=f"{party}.{i}@gezin.test"))
            s.flush()
            sv.decide(s, case_ref=ref, kind="afsluiten", actor="PRF-1", today=TODAY, end_reason="volgens_plan",
                      policy=sv.DEFAULT_POLICY)  # fmt: skip
            for party, (satisfaction, without_help) in by_party.items():
                form = {"tevredenheid": satisfaction, "verder_zonder_hulp": without_help}
                cq.answer(s, case.pupil_id, party, form, today=TODAY, now=NOW)


def _outcomes(engine) -> tuple[dict, monitoring.Publication]:
    with unit_of_work(engine) as s:
        tables = monitoring.manager_tables(s, today=TODAY, policy=Policy())
    assert tables.refused == [] and tables.protection.ok
    assert audit(tables.protection.release, tables.protection.hidden).ok  # audited again from scratch
    return dict(tables[monitoring.OUTCOMES].rows), tables


def _figures(rows: dict, who: str) -> list:
    return [rows[r.format(who=who)] for r in ROWS]


def test_only_three_parents_answered_their_figures_are_hidden(engine):
    _answered(engine, [{"ouder_1": ("tevreden", "ja")}] * 3)
    rows, _ = _outcomes(engine)
    assert _figures(rows, "ouders") == [None, None, None]
    assert _figures(rows, "leerling") == [0, "–", "–"]  # nobody: not applicable, not a small number


def test_twelve_parents_and_two_pupils_the_parents_shown_the_pupils_hidden(engine):
    half = [{"ouder_1": ("heel_tevreden", "ja")}] * 6 + [{"ouder_1": ("neutraal", "deels")}] * 4
    pupils = [{"ouder_1": ("ontevreden", "nee"), "leerling": ("tevreden", "ja")}] * 2
    _answered(engine, half + pupils)
    rows, tables = _outcomes(engine)
    assert _figures(rows, "ouders") == [12, 50.0, 50.0]
    assert _figures(rows, "leerling") == [None, None, None]
    # the pupils' two answers cannot be worked out from anything shown (the LP's range reaches beyond them)
    low, high = tables.protection.ranges[(monitoring.OUTCOMES, "afsluitvragen", "leerling", "antwoorden")]
    assert low < 2 < high, (low, high)


def test_a_share_that_gives_a_small_complement_away_is_hidden(engine):
    _answered(engine, [{"ouder_1": ("tevreden", "ja")}] * 7 + [{"ouder_1": ("ontevreden", "nee")}] * 1)
    rows, _ = _outcomes(engine)
    count, satisfied, able = _figures(rows, "ouders")
    assert count == 8 and satisfied is None and able is None  # 87.5% of 8 would say: one parent not satisfied


def test_both_parents_of_three_pupils_six_answers_still_hidden(engine):
    _answered(engine, [{"ouder_1": ("tevreden", "ja"), "ouder_2": ("tevreden", "nee")}] * 3)
    rows, _ = _outcomes(engine)
    assert _figures(rows, "ouders") == [None, None, None]  # six answers, but three pupils


def test_the_report_shows_the_answers_per_period_under_the_same_rule(engine):
    half = [{"ouder_1": ("heel_tevreden", "ja")}] * 6 + [{"ouder_1": ("neutraal", "deels")}] * 6
    _answered(engine, half + [{"leerling": ("tevreden", "ja")}] * 2)
    with unit_of_work(engine) as s:
        before = Period(TODAY - dt.timedelta(days=200), TODAY - dt.timedelta(days=1))
        html = render_report(s, before, Period(TODAY, TODAY), rate=85.0, today=TODAY, part=True)
    assert "<td>vragen bij afsluiten, ouders: aantal antwoorden</td><td>0</td><td>12</td>" in html
    assert "<td>vragen bij afsluiten, ouders: tevreden over de hulp (%)</td><td>–</td><td>50.0</td>" in html
    assert "<td>vragen bij afsluiten, leerling: aantal antwoorden</td><td>0</td><td>×</td>" in html


def test_one_parent_who_cannot_go_on_yet_leaves_every_table_publishable(engine):
    """A share of 0 beside a hidden number is not shown: the audit must not count it as a shown zero (it refused
    the whole release for a leak that was not there: "not able" = number - 0 >= 1)."""
    _answered(engine, [{"ouder_1": ("tevreden", "deels")}])
    rows, _ = _outcomes(engine)  # not refused
    assert _figures(rows, "ouders") == [None, None, None]
    with unit_of_work(engine) as s:
        html = render_report(s, Period(TODAY - dt.timedelta(days=9), TODAY), Period(TODAY, TODAY), rate=85.0,
                             today=TODAY, part=True)  # fmt: skip
    assert "<td>vragen bij afsluiten, ouders: aantal antwoorden</td><td>×</td><td>×</td>" in html


def test_every_small_combination_of_answers_is_protected_and_passes_the_audit():
    """Four cells (satisfied or not x able or not) of 0, 1, 2, 5, 6 or 9 answers: the release is always
    publishable, and what it hides stands the audit from scratch."""
    cells = [(True, True), (True, False), (False, True), (False, False)]
    for values in itertools.product((0, 1, 2, 5, 6, 9), repeat=4):
        release = Release()
        add_cells(release, "t", {"ouders": Tally("ouders", dict(zip(cells, values, strict=True)), sum(values))})
        protection = protect(release)
        assert protection.ok and audit(release, protection.hidden).ok, values


def test_three_arrangements_that_all_ended_otherwise_leave_the_outcome_table_publishable(engine):
    """Closed neither as planned nor by drop-out (here: to another provider): the two shares are 0 of a hidden
    total. The audit refused the whole outcome table for it (a shown 0 beside a hidden total: "anders" = total),
    so the monitoring run published nothing; a share of nobody has no figure of its own, as the answers' shares."""
    for i in range(3):
        ref = active_case(
            engine, school="40AB", coordinator="PRF-1", bsn=valid_bsn(i, base=716_000_000),
            born=dt.date(2013, 1, 1), today=TODAY, parents=("Ouder Een",),
        )  # fmt: skip
        with unit_of_work(engine) as s:
            sv.decide(s, case_ref=ref, kind="afsluiten", actor="PRF-1", today=TODAY, end_reason="naar_andere_aanbieder",
                      policy=sv.DEFAULT_POLICY)  # fmt: skip
    rows, _ = _outcomes(engine)  # not refused
    assert rows["afgesloten arrangementen"] is None  # 3 pupils: hidden
    assert rows["doelrealisatie: beëindigd volgens plan (%)"] is None
    assert rows["uitval: eenzijdig voortijdig beëindigd (%)"] is None
