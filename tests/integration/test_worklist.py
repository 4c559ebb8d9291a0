"""A school's worklist (`oja.services.worklist`, `oja case list`): its open cases, most urgent first, on SQLite
and PostgreSQL, with the deadlines the daily sweep reminds of."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner

from models.errors import InvalidInput
from models.lifecycle import CaseState
from models.tables import Case, Pupil
from models.tables_outbox import Notice
from notifications.render import render
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy, get_settings
from oja.entrypoints.cli import app
from oja.services import sweep
from oja.services.worklist import (
    ANSWER_REFERRAL,
    NEXT_STEPS,
    Due,
    WorklistRow,
    open_schools,
    worklist,
    worklist_markdown,
    worklists,
)
from tests.factories import active_case, valid_bsn

POLICY = Policy()
DAY = dt.date(2027, 3, 1)  # a Monday, the first school day after the spring holiday (region noord, 22-26 Feb)
BORN = dt.date(2016, 2, 3)
GIVEN, FAMILY, PARENT = "Sterre", "Geheimhouder", "Ouder Vertrouwelijk"
runner = CliRunner()


def _bsn(i: int) -> str:
    return valid_bsn(i, base=200000000)


class Region:
    """The cases of a school (40AB, region noord) in every open state, and one closed, made through the use cases."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.n = 0
        with unit_of_work(engine) as s:
            sv.upsert_municipality(s, code="GM0147", name="Borne")
            sv.upsert_school(s, code="50CD", name="Andere School", holiday_region="noord", municipality_code="GM0147")
            sv.upsert_professional(s, code="PRF-5", name="Andere ZC", role="zorgcoordinator", school_code="50CD")
            sv.upsert_professional(s, code="PRF-W", name="Wijkteam", role="wijkteam", municipality_code="GM0164")
            sv.upsert_professional(s, code="PRF-T", name="Teamleider", role="teamleider", school_code="40AB")

    def signal(self, on: dt.date, *, urgency: str = "normaal", school: str = "40AB", actor: str = "PRF-1") -> str:
        self.n += 1
        with unit_of_work(self.engine) as s:
            pupil = sv.register_pupil(
                s,
                given_name=GIVEN,
                family_name=f"{FAMILY}{self.n}",
                birth_date=BORN,
                bsn=_bsn(self.n),
                school_code=school,
                municipality_code="GM0164",
                parents=[sv.ParentSpec(PARENT)],
                today=on,
            )
            return sv.register_signal(
                s,
                pupil_ref=pupil,
                school_code=school,
                source="school",
                domains=["leren"],
                urgency=urgency,
                actor=actor,
                received_on=on,
                today=on,
                policy=POLICY,
            ).case_ref

    def triaged(self, on: dt.date, **kwargs) -> str:
        ref = self.signal(on, **kwargs)
        with unit_of_work(self.engine) as s:
            sv.triage(s, case_ref=ref, outcome="oja", level=2, actor="PRF-1", today=on, policy=POLICY)
        return ref

    def drafted(self, on: dt.date) -> str:
        ref = self.triaged(on)
        with unit_of_work(self.engine) as s:
            sv.draft_plan(
                s,
                case_ref=ref,
                goals=[sv.GoalSpec("leren")],
                interventions=[sv.InterventionSpec("PRV-A", 2, professional_code="PRF-2")],
                regie_holder="PRF-1",
                start_on=on,
                planned_end_on=on + dt.timedelta(weeks=20),
                actor="PRF-1",
                today=on,
                policy=POLICY,
            )
        return ref

    def consented(self, on: dt.date) -> str:
        ref = self.drafted(on)
        with unit_of_work(self.engine) as s:
            sv.record_consent(s, case_ref=ref, party="ouder_1", granted=True, actor="PRF-1", recorded_on=on, today=on)
        return ref

    def active(self, on: dt.date) -> str:
        self.n += 1
        return active_case(
            self.engine,
            school="40AB",
            coordinator="PRF-1",
            worker="PRF-2",
            bsn=_bsn(self.n),
            born=BORN,
            today=on,
            parents=(PARENT,),
            names=(GIVEN, f"{FAMILY}{self.n}"),
        )

    def reviewed(self, started: dt.date, held_on: dt.date) -> str:
        ref = self.active(started)
        with unit_of_work(self.engine) as s:
            sv.record_review(s, case_ref=ref, held_on=held_on, actor="PRF-1", today=held_on, gas_scores={1: 0})
        return ref

    def referred(self, on: dt.date, *, accepted: bool = False) -> str:
        ref = self.triaged(on)
        with unit_of_work(self.engine) as s:
            sv.refer(s, case_ref=ref, actor="PRF-1", today=on)
        if accepted:
            with unit_of_work(self.engine) as s:
                sv.respond_to_referral(s, case_ref=ref, accepted=True, actor="PRF-W", today=on, policy=POLICY)
        return ref

    def closed(self, on: dt.date) -> str:
        ref = self.signal(on)
        with unit_of_work(self.engine) as s:
            sv.triage(s, case_ref=ref, outcome="basisondersteuning", actor="PRF-1", today=on, policy=POLICY)
        return ref


@pytest.fixture
def region(engine) -> dict[str, str]:
    """One case of 40AB per situation, by name; a closed case, and an open case of another school."""
    r = Region(engine)
    cases = {
        "triage_late": r.signal(dt.date(2027, 2, 1)),  # norm: 10 school days, 15 Feb
        "triage_acute": r.signal(DAY, urgency="acuut"),  # routed the same school day
        "triage": r.signal(DAY),  # 15 Mar
        "planning": r.triaged(dt.date(2027, 2, 1)),  # the plan 15 school days after triage: 1 Mar, today
        "planning_acute": r.triaged(dt.date(2027, 2, 1), urgency="acuut"),
        "drafted": r.drafted(DAY),  # consent 10 school days after the plan: 15 Mar
        "consented": r.consented(DAY),  # no deadline: the arrangement can start
        "active_late": r.active(dt.date(2027, 1, 4)),  # the first review 6 school weeks on: 15 Feb
        "active": r.active(DAY),  # 13 Apr: 6 school weeks, Easter Monday (29 Mar) not counted
        # reviewed on Thursday 18 Feb: the decision is due a school day later (policy), 19 Feb
        "reviewed_late": r.reviewed(dt.date(2027, 1, 4), dt.date(2027, 2, 18)),
        "referred_late": r.referred(dt.date(2027, 2, 8)),  # the district team's answer: 5 school days, 15 Feb
        "referred": r.referred(DAY),  # 8 Mar
        # accepted: the regie holder checks with the district team 30 school days on (policy), 30 Mar
        "accepted": r.referred(dt.date(2027, 2, 8), accepted=True),
    }
    cases["closed"] = r.closed(DAY)
    cases["other_school"] = r.signal(dt.date(2027, 2, 1), school="50CD", actor="PRF-5")
    return cases


def _rows(engine, school: str = "40AB", day: dt.date = DAY) -> list[WorklistRow]:
    with Session(engine) as s:
        return worklist(s, school_code=school, today=day, policy=POLICY)


def _personal_data(engine) -> set[str]:
    """What identifies the pupils: names, parents, BSNs, birth dates, and their pupil references too."""
    with Session(engine) as s:
        pupils = s.exec(select(Pupil)).all()
    found = {GIVEN, FAMILY, PARENT, BORN.isoformat(), BORN.strftime("%d-%m-%Y")}
    return found | {p.bsn for p in pupils if p.bsn} | {p.ref for p in pupils}


NOT_LATE, LATE = False, True
# name: state, what falls due, when, overdue, regie holder, next step (at DAY)
EXPECTED = {
    "triage_late": ("wacht_op_triage", Due.TRIAGE, dt.date(2027, 2, 15), LATE, None, "triage"),
    "active_late": ("actief", Due.REVIEW, dt.date(2027, 2, 15), LATE, "PRF-1", "evaluatie-vastleggen"),
    "referred_late": ("geescaleerd", Due.REFERRAL, dt.date(2027, 2, 15), LATE, None, "verwijzing-beantwoorden"),
    "reviewed_late": ("geevalueerd", Due.DECISION, dt.date(2027, 2, 19), LATE, "PRF-1", "besluit-nemen"),
    "triage_acute": ("wacht_op_triage", Due.TRIAGE, DAY, NOT_LATE, None, "triage"),
    "planning_acute": ("planvorming", Due.PLAN, DAY, NOT_LATE, None, "plan-opstellen"),
    "planning": ("planvorming", Due.PLAN, DAY, NOT_LATE, None, "plan-opstellen"),
    "referred": ("geescaleerd", Due.REFERRAL, dt.date(2027, 3, 8), NOT_LATE, None, "verwijzing-beantwoorden"),
    "triage": ("wacht_op_triage", Due.TRIAGE, dt.date(2027, 3, 15), NOT_LATE, None, "triage"),
    "drafted": ("plan_opgesteld", Due.CONSENT, dt.date(2027, 3, 15), NOT_LATE, "PRF-1", "toestemming-vastleggen"),
    "accepted": (
        "geescaleerd",
        Due.REFERRAL_CHECK,
        dt.date(2027, 3, 30),
        NOT_LATE,
        None,
        "terugkeer-uit-specialistische-zorg",
    ),
    "active": ("actief", Due.REVIEW, dt.date(2027, 4, 13), NOT_LATE, "PRF-1", "evaluatie-vastleggen"),
    "consented": ("toestemming_compleet", None, None, NOT_LATE, "PRF-1", "arrangement-starten"),
}


def _named(region: dict[str, str], rows: list[WorklistRow]) -> list[str]:
    names = {ref: name for name, ref in region.items()}
    return [names[row.case_ref] for row in rows]


def test_the_open_cases_come_most_urgent_first(engine, region):
    """Overdue first, then by deadline, the acute before the normal on one day, by reference on a tie, and the
    cases without a deadline last."""
    assert _named(region, _rows(engine)) == list(EXPECTED)


def test_each_state_has_its_next_deadline_and_next_step(engine, region):
    rows = {name: row for name, row in zip(_named(region, _rows(engine)), _rows(engine), strict=True)}
    found = {name: (r.state, r.due, r.due_on, r.overdue, r.regie_holder, r.next_step) for name, r in rows.items()}
    assert found == EXPECTED
    assert {r.level for name, r in rows.items() if r.state == "geescaleerd"} == {4}
    assert rows["triage_acute"].urgency == "acuut" and rows["triage"].urgency == "normaal"


def test_closed_cases_and_other_schools_are_left_out(engine, region):
    refs = {row.case_ref for row in _rows(engine)}
    assert region["closed"] not in refs and region["other_school"] not in refs
    other = _rows(engine, school=" 50cd ")  # the code as typed
    assert [row.case_ref for row in other] == [region["other_school"]]
    with Session(engine) as s:
        assert open_schools(s) == ["40AB", "50CD"]  # the schools the sweep refreshes


def test_a_deadline_is_late_once_a_school_day_of_the_school_has_passed(engine, region):
    """The count the sweep uses: due on Friday 19 Feb, not late through the weekend and the spring holiday,
    late on the first school day after; due today is not late."""

    def late(day: dt.date) -> dict[str, bool]:
        return {
            name: row.overdue
            for name, row in zip(_named(region, _rows(engine, day=day)), _rows(engine, day=day), strict=True)
        }

    assert late(dt.date(2027, 2, 15))["triage_late"] is False
    assert late(dt.date(2027, 2, 16))["triage_late"] is True
    for day in (dt.date(2027, 2, 19), dt.date(2027, 2, 20), dt.date(2027, 2, 26), dt.date(2027, 2, 28)):
        assert late(day)["reviewed_late"] is False, day
    assert late(dt.date(2027, 3, 1))["reviewed_late"] is True
    assert late(DAY)["planning"] is False


def test_the_deadlines_are_those_the_sweep_reminds_of(engine, region):
    """Every reminder the sweep decides on DAY is about the deadline the worklist shows for that case."""
    sweep.plan_notices(engine, day=DAY, policy=POLICY, render=render)
    by_ref = {row.case_ref: row for row in _rows(engine)}
    with Session(engine) as s:
        refs = {c.id: c.ref for c in s.exec(select(Case)).all()}
        notices = [
            n for n in s.exec(select(Notice).where(Notice.sweep_date == DAY)).all() if n.kind != "verwijzing_verzonden"
        ]
    reminded = {refs[n.case_id] for n in notices} & set(by_ref)
    names = {ref: name for name, ref in region.items()}
    assert {names[ref] for ref in reminded} == {
        "triage_late",
        "triage_acute",
        "planning",
        "planning_acute",
        "referred_late",
        "active_late",
        "reviewed_late",  # the decision not taken
    }
    for n in notices:
        if refs[n.case_id] in by_ref:
            assert by_ref[refs[n.case_id]].due_on == n.due_on, (names[refs[n.case_id]], n.kind)


def test_the_markdown_marks_what_is_late_and_holds_no_personal_data(engine, region):
    rows = _rows(engine)
    text = worklist_markdown("40AB", rows, DAY)
    lines = text.splitlines()
    assert lines[0] == "# Werklijst 40AB, 2027-03-01"
    assert "| Referentie | Status | Niveau | Volgende termijn | Wat | Regiehouder | Volgende stap |" in lines
    table = [line for line in lines if line.startswith("| OJA-")]
    assert [line.split(" | ")[0].removeprefix("| ") for line in table] == [row.case_ref for row in rows]
    late = [line for line in table if "**te laat**" in line]
    assert (
        len(late) == 4
        and f"| {region['reviewed_late']} | geëvalueerd, besluit nodig | 2 | **te laat** 2027-02-19 | besluit |"
        in late[3]
        and late[3].endswith("| 08 Besluit nemen |")
    )
    # Dutch words, not the codes of states, deadlines and steps (issue 23: "codes and English in Dutch screens")
    for code in ("wacht_op_triage", "geevalueerd", "verwijzing-opvolgen", "evaluatie-vastleggen", "besluit-nemen"):
        assert f"| {code} |" not in text
    assert "13 open casussen, waarvan 4 te laat" in text
    assert not [secret for secret in _personal_data(engine) if secret in text]


def test_a_school_without_open_cases_says_so(engine, region):
    with unit_of_work(engine) as s:
        sv.upsert_school(s, code="60EF", name="Lege School", holiday_region="zuid", municipality_code="GM0164")
    assert _rows(engine, school="60EF") == []
    assert "Geen open casussen." in worklist_markdown("60EF", [], DAY)


def test_an_unknown_school_is_refused_naming_the_field(engine):
    with Session(engine) as s, pytest.raises(InvalidInput) as refused:
        worklist(s, school_code="99ZZ", today=DAY, policy=POLICY)
    assert refused.value.field == "school_code" and "99ZZ" in refused.value.rule


def test_a_few_queries_per_school_whatever_its_number_of_cases(engine, region):
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        _rows(engine, school="40AB")  # 13 open cases
        many = len(statements)
        statements.clear()
        _rows(engine, school="50CD")  # 1 open case
        one = len(statements)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert one <= many <= 12  # fewer for one case: only the kinds of deadline its state can have (issue 27)


def test_every_schools_list_at_once_takes_the_queries_of_one(engine, region):
    """The daily sweep refreshes every school's list: the same few queries for all, not a round per school."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with Session(engine) as s:
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            both = worklists(s, school_codes=["40AB", "50CD"], today=DAY, policy=POLICY)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    assert both == {"40AB": _rows(engine), "50CD": _rows(engine, school="50CD")}
    assert len(statements) <= 12


def test_every_next_step_is_a_lifecycle_flow():
    from prefect import Flow

    import flows.intake
    import flows.planning
    import flows.referral
    import flows.review

    modules = (flows.intake, flows.planning, flows.referral, flows.review)
    names = {obj.name for module in modules for obj in vars(module).values() if isinstance(obj, Flow)}
    assert set(NEXT_STEPS) == set(CaseState)
    assert {*(step for steps in NEXT_STEPS.values() for step in steps), ANSWER_REFERRAL} <= names


# ---- oja case list --------------------------------------------------------------------------------------------


@pytest.fixture
def case_list(engine, monkeypatch):
    """`oja case list ...` on the test's database, on a wide terminal."""
    monkeypatch.setenv("OJA_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("OJA_POLICY_FILE", raising=False)
    get_settings.cache_clear()
    yield lambda *args: runner.invoke(app, ["case", "list", *args], env={"COLUMNS": "200"})
    get_settings.cache_clear()


def test_oja_case_list_prints_the_worklist_as_a_table(engine, region, case_list):
    result = case_list("--school", "40ab", "--date", DAY.isoformat())
    assert result.exit_code == 0, result.output
    assert "Werklijst 40AB, 2027-03-01" in result.stdout
    places = [result.stdout.find(row.case_ref) for row in _rows(engine)]
    assert -1 not in places and places == sorted(places)
    assert result.stdout.count("te laat") == 4
    assert region["closed"] not in result.stdout and region["other_school"] not in result.stdout
    assert not [secret for secret in _personal_data(engine) if secret in result.output]


def test_oja_case_list_json_is_the_same_list(engine, region, case_list):
    result = case_list("--school", "40AB", "--date", DAY.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["school"] == "40AB" and data["date"] == "2027-03-01"
    assert data["cases"] == [row.as_dict() for row in _rows(engine)]
    assert data["cases"][0] == {
        "case_ref": region["triage_late"],
        "state": "wacht_op_triage",
        "level": 0,
        "urgency": "normaal",
        "due_on": "2027-02-15",
        "due": "triage",
        "overdue": True,
        "regie_holder": None,
        "next_step": "triage",
        "next_step_on": None,  # a step that cannot succeed before a later day names it (issue 25)
    }


def test_oja_case_list_refuses_an_unknown_school_naming_the_option(engine, case_list):
    result = case_list("--school", "99ZZ")
    assert result.exit_code == 1
    assert "--school" in result.stderr and "99ZZ" in result.stderr and "niet bekend" in result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert result.stdout == ""


def test_a_school_whose_cases_are_all_in_one_state_asks_only_that_states_deadlines(engine, region):
    """A kind of deadline is of a state (a review of an active case, a triage of a case awaiting it, ...): the list
    of cases that cannot have one does not ask for it (a case page lists one case, issue 27)."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        rows = _rows(engine, school="50CD")  # 1 open case
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len({row.state for row in rows}) == 1
    assert len(statements) <= 5, statements  # the calendar, the cases, and one or two kinds: not all eight
