"""The dossier's services on a real database (SQLite and PostgreSQL): each professional's cases with names, only in
their scope; the case page; the pupils in scope; the goals' texts, written whole with one audit record or not at all."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, func, select

from models.errors import AccessDenied, InvalidInput, UnknownReference
from models.lifecycle import AuditAction, CaseState
from models.schooldays import today as amsterdam_today
from models.tables import AuditRecord, Case, Pupil
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy
from oja.services.dossier import (
    REGISTER_SIGNAL,
    Reach,
    actor_of,
    describe_goals,
    my_cases,
    pupil_in_scope,
)
from oja.services.dossier_case import GasScore, case_view
from oja.services.retention import destroy_dossiers
from oja.services.worklist import Due, worklist
from tests.factories import active_case, valid_bsn

TODAY = dt.date(2026, 11, 23)  # a Monday
POLICY = Policy()
BORN = dt.date(2016, 2, 3)  # 10 on TODAY: the parents with authority consent
SECRET = ("Sterre", "Geheimhouder")
NUMBERS = {"a1": 1, "b1": 2, "b2": 3, "a2": 4, "a3": 5}  # each case's pupil: their BSN's and family name's number


@dataclasses.dataclass
class Region:
    """Two schools in two municipalities, two providers, and cases and pupils in and out of every scope."""

    engine: sa.Engine
    cases: dict[str, str]  # name -> case reference
    pupils: dict[str, str]  # name -> pupil reference


def _bsn(i: int) -> str:
    return valid_bsn(i, base=310000000)


def _pupil(s: Session, n: int, *, school: str, lives: str, parents=(("Ouder Een", True),)) -> str:
    return sv.register_pupil(
        s,
        given_name=SECRET[0],
        family_name=f"{SECRET[1]}{n}",
        birth_date=BORN,
        bsn=_bsn(n),
        school_code=school,
        municipality_code=lives,
        parents=[sv.ParentSpec(name, authority) for name, authority in parents],
        today=TODAY,
    )


def _signal(s: Session, pupil_ref: str, *, school: str, actor: str) -> str:
    return sv.register_signal(
        s,
        pupil_ref=pupil_ref,
        school_code=school,
        source="school",
        domains=["leren"],
        urgency="normaal",
        actor=actor,
        received_on=TODAY,
        today=TODAY,
        policy=POLICY,
    ).case_ref


def _plan(s: Session, ref: str, *, provider: str, goals=("leren",), actor: str = "PRF-1") -> None:
    sv.draft_plan(
        s,
        case_ref=ref,
        goals=[sv.GoalSpec(d) for d in goals],
        interventions=[sv.InterventionSpec(provider, 2)],
        regie_holder=actor,
        start_on=TODAY,
        planned_end_on=TODAY + dt.timedelta(weeks=20),
        actor=actor,
        today=TODAY,
        policy=POLICY,
    )


def _active(engine, n: int, *, school: str, coordinator: str, provider: str, worker: str, lives: str) -> str:
    names = (SECRET[0], f"{SECRET[1]}{n}")
    return active_case(
        engine, school=school, coordinator=coordinator, bsn=_bsn(n), born=BORN, today=TODAY, parents=("Ouder Een",),
        worker=worker, provider=provider, names=names, municipality=lives,
    )  # fmt: skip


@pytest.fixture
def region(engine) -> Region:
    with unit_of_work(engine) as s:
        sv.upsert_municipality(s, code="GM0147", name="Borne")
        sv.upsert_school(s, code="50CD", name="Andere School", holiday_region="noord", municipality_code="GM0147")
        sv.upsert_provider(s, code="PRV-B", name="Aanbieder B")
        for code, role, where in [
            ("PRF-5", "zorgcoordinator", {"school_code": "50CD"}),
            ("PRF-T", "teamleider", {"school_code": "40AB"}),
            ("PRF-TA", "teamleider", {"provider_code": "PRV-A"}),
            ("PRF-WB", "jeugdhulpverlener", {"provider_code": "PRV-B"}),
            ("PRF-DT", "wijkteam", {"municipality_code": "GM0164"}),
            ("PRF-DB", "wijkteam", {"municipality_code": "GM0147"}),
            ("PRF-MG", "manager", {"school_code": "40AB"}),
            ("PRF-PO", "privacyfunctionaris", {}),
        ]:
            sv.upsert_professional(s, code=code, name=f"Prof {code}", role=role, **where)
    cases = {
        "a1": _active(engine, 1, school="40AB", coordinator="PRF-1", provider="PRV-A", worker="PRF-2", lives="GM0164"),
        "b1": _active(engine, 2, school="50CD", coordinator="PRF-5", provider="PRV-B", worker="PRF-WB", lives="GM0164"),
        "b2": _active(engine, 3, school="50CD", coordinator="PRF-5", provider="PRV-A", worker="PRF-2", lives="GM0147"),
    }
    pupils: dict[str, str] = {}
    with unit_of_work(engine) as s:
        pupils["a2"] = _pupil(s, 4, school="40AB", lives="GM0147")
        cases["a2"] = _signal(s, pupils["a2"], school="40AB", actor="PRF-1")  # awaiting triage
        pupils["a3"] = _pupil(s, 5, school="40AB", lives="GM0147", parents=(("Ouder Een", True), ("Ouder Twee", True)))
        cases["a3"] = _signal(s, pupils["a3"], school="40AB", actor="PRF-1")
        sv.triage(s, case_ref=cases["a3"], outcome="oja", level=2, actor="PRF-1", today=TODAY, policy=POLICY)
        _plan(s, cases["a3"], provider="PRV-A")
        _plan(s, cases["a3"], provider="PRV-B", goals=("leren", "gedrag"))  # PRV-A no longer delivers
        pupils["closed"] = _pupil(s, 6, school="40AB", lives="GM0164")
        cases["closed"] = _signal(s, pupils["closed"], school="40AB", actor="PRF-1")
        sv.triage(s, case_ref=cases["closed"], outcome="basisondersteuning", actor="PRF-1", today=TODAY, policy=POLICY)
        pupils["fresh"] = _pupil(s, 7, school="40AB", lives="GM0164")  # registered, no case yet
        pupils["other"] = _pupil(s, 8, school="50CD", lives="GM0164")
        pupils["destroyed"] = _pupil(s, 9, school="40AB", lives="GM0164")
    with unit_of_work(engine) as s:
        for name in ("a1", "b1", "b2"):
            stmt = select(Pupil.ref).join(Case, Case.pupil_id == Pupil.id).where(Case.ref == cases[name])
            pupils[name] = s.exec(stmt).one()
        gone = s.exec(select(Pupil).where(Pupil.ref == pupils["destroyed"])).one()
        destroy_dossiers(s, [gone.id], actor="PRF-1", reason="test", today=TODAY)
    return Region(engine, cases, pupils)


def mine(engine, code: str, today: dt.date = TODAY):
    with Session(engine) as s:
        return my_cases(s, actor_of(s, code), today=today, policy=POLICY)


def view(engine, code: str, ref: str):
    with Session(engine) as s:
        return case_view(s, actor_of(s, code), ref, today=TODAY, policy=POLICY)


def counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {t.name: s.exec(select(func.count()).select_from(t)).one() for t in SQLModel.metadata.sorted_tables}


def last_audit(engine) -> AuditRecord:
    with Session(engine) as s:
        return s.exec(select(AuditRecord).order_by(AuditRecord.id.desc())).first()


def descriptions(engine, ref: str) -> dict[int, str | None]:
    with Session(engine) as s:
        plan = case_view(s, actor_of(s, "PRF-1"), ref, today=TODAY, policy=POLICY).plan
        return {g.number: g.description for g in plan.goals}


def describe(engine, code: str, ref: str, texts):
    with Session(engine) as s:
        who = actor_of(s, code)
    return sv.execute(describe_goals, engine, actor=who, case_ref=ref, texts=texts, today=TODAY)


# ---- my_cases --------------------------------------------------------------------------------


SCOPES = [  # who sees which open cases
    ("PRF-1", Reach.SCHOOL, {"a1", "a2", "a3"}),  # coordinator of 40AB
    ("PRF-T", Reach.SCHOOL, {"a1", "a2", "a3"}),  # team lead of 40AB
    ("PRF-5", Reach.SCHOOL, {"b1", "b2"}),  # coordinator of 50CD
    ("PRF-2", Reach.PROVIDER, {"a1", "b2"}),  # PRV-A delivers; a3's current plan is PRV-B's
    ("PRF-TA", Reach.PROVIDER, {"a1", "b2"}),  # team lead of PRV-A
    ("PRF-WB", Reach.PROVIDER, {"b1", "a3"}),
    ("PRF-DT", Reach.DISTRICT, {"a1", "b1"}),  # residents of GM0164, at either school
    ("PRF-DB", Reach.DISTRICT, {"a2", "b2", "a3"}),
]


def test_my_cases_shows_each_professional_only_the_open_cases_of_their_scope(region):
    for code, reach, expected in SCOPES:
        found = mine(region.engine, code)
        assert (found.reach, found.actor) == (reach, code)
        assert {row.case_ref for row in found.cases} == {region.cases[name] for name in expected}, code
        for row in found.cases:  # the name is that of the case's own pupil
            name = next(n for n, ref in region.cases.items() if ref == row.case_ref)
            assert (row.pupil_ref, row.given_name, row.birth_date) == (region.pupils[name], SECRET[0], BORN)
            assert row.family_name == f"{SECRET[1]}{NUMBERS[name]}"
        if reach is not Reach.SCHOOL:
            assert found.pupils_without_case == (), code


def test_a_manager_or_privacy_officer_has_no_cases_and_is_refused_and_audited(region):
    for code in ("PRF-MG", "PRF-PO"):
        with pytest.raises(AccessDenied) as refused:
            mine(region.engine, code)
        assert refused.value.field == "actor" and code in str(refused.value)
        with Session(region.engine) as s:
            who = actor_of(s, code)
        before = counts(region.engine)["auditrecord"]
        with pytest.raises(AccessDenied):
            sv.execute(my_cases, region.engine, actor=who, today=TODAY, policy=POLICY)
        record = last_audit(region.engine)
        assert counts(region.engine)["auditrecord"] == before + 1
        assert (record.actor, record.action, record.case_ref) == (code, AuditAction.REFUSED, "werklijst")
        assert record.reason.startswith("my_cases: ")


def test_the_rows_are_the_school_worklist_in_its_order_with_the_names(region):
    found = mine(region.engine, "PRF-1")
    with Session(region.engine) as s:
        rows = worklist(s, school_code="40AB", today=TODAY, policy=POLICY)
    assert [r.case_ref for r in found.cases] == [r.case_ref for r in rows]
    assert found.cases[0].case_ref != region.cases["a1"]  # the triage due first, not the oldest case
    for mine_row, row in zip(found.cases, rows, strict=True):
        fields = ("state", "level", "urgency", "due_on", "due", "overdue", "regie_holder", "next_step")
        assert [getattr(mine_row, f) for f in fields] == [getattr(row, f) for f in fields]
        assert mine_row.school_code == "40AB"
    a2 = next(r for r in found.cases if r.case_ref == region.cases["a2"])
    assert (a2.state, a2.next_step, a2.due) == (CaseState.AWAITING_TRIAGE, "triage", Due.TRIAGE)
    late = mine(region.engine, "PRF-1", today=TODAY + dt.timedelta(weeks=4))  # the triage norm has passed
    assert late.cases[0].case_ref == region.cases["a2"] and late.cases[0].overdue


def test_the_pupils_of_the_school_without_an_open_case_are_listed_to_open_one(region):
    found = mine(region.engine, "PRF-1")
    rows = {row.pupil_ref: row for row in found.pupils_without_case}
    assert set(rows) == {region.pupils["fresh"], region.pupils["closed"]}  # not 50CD's, not the destroyed one
    fresh, closed = rows[region.pupils["fresh"]], rows[region.pupils["closed"]]
    assert (fresh.given_name, fresh.family_name, fresh.birth_date) == (SECRET[0], f"{SECRET[1]}7", BORN)
    assert fresh.next_step == REGISTER_SIGNAL == "signaal-registreren"
    assert (fresh.last_case_ref, closed.last_case_ref) == (None, region.cases["closed"])
    assert abs((fresh.registered_on - amsterdam_today()).days) <= 1
    assert region.pupils["other"] in {r.pupil_ref for r in mine(region.engine, "PRF-5").pupils_without_case}
    with unit_of_work(region.engine) as s:
        ref = _signal(s, region.pupils["fresh"], school="40AB", actor="PRF-1")
    after = mine(region.engine, "PRF-1")
    assert region.pupils["fresh"] not in {r.pupil_ref for r in after.pupils_without_case}
    assert next(r for r in after.cases if r.case_ref == ref).next_step == "triage"


def test_my_cases_reads_with_the_same_few_queries_however_many_cases(region):
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    def queries(code: str) -> int:
        statements.clear()
        sa.event.listen(region.engine, "before_cursor_execute", count)
        try:
            mine(region.engine, code)
        finally:
            sa.event.remove(region.engine, "before_cursor_execute", count)
        return len(statements)

    codes = ("PRF-1", "PRF-2", "PRF-DT")
    before = {code: queries(code) for code in codes}
    for n in range(20, 23):
        _active(region.engine, n, school="40AB", coordinator="PRF-1", provider="PRV-A", worker="PRF-2", lives="GM0164")
    assert all(len(mine(region.engine, code).cases) >= 5 for code in codes)
    assert {code: queries(code) for code in codes} == before
    assert max(before.values()) <= 15


# ---- case_view -------------------------------------------------------------------------------


def test_the_case_page_shows_the_pupil_the_plan_with_goal_texts_reviews_decisions_and_the_timeline(region):
    ref, engine = region.cases["a1"], region.engine
    sv.execute(sv.record_review, engine, case_ref=ref, held_on=TODAY, actor="PRF-2", today=TODAY, gas_scores={1: 1})
    sv.execute(
        sv.decide, engine, case_ref=ref, kind="voortzetten", actor="PRF-1", today=TODAY, policy=POLICY
    )  # as recommended at a first review: no reason to differ (issue 25)
    describe(engine, "PRF-1", ref, {1: "Sterre leest aan het eind van het jaar op AVI E5."})
    page = view(engine, "PRF-2", ref)  # the youth worker whose provider delivers
    assert (page.case_ref, page.state, page.level, page.school_code) == (ref, CaseState.ACTIVE, 2, "40AB")
    p = page.pupil
    assert (p.ref, p.given_name, p.family_name, p.bsn, p.birth_date, p.age) == (
        region.pupils["a1"], SECRET[0], f"{SECRET[1]}1", _bsn(1), BORN, 10,
    )  # fmt: skip
    assert (p.school_name, p.municipality_code, p.municipality_name) == ("De School", "GM0164", "Hengelo")
    assert [(x.position, x.party, x.name, x.has_authority) for x in page.parents] == [(1, "ouder_1", "Ouder Een", True)]
    assert [(x.source, x.domains, x.registered_by) for x in page.signals] == [("school", ("leren",), "PRF-1")]
    assert page.plan is not None and page.plan.version == 1 and page.plan.regie_holder == "PRF-1"
    assert [(g.number, g.domain, g.description) for g in page.plan.goals] == [
        (1, "leren", "Sterre leest aan het eind van het jaar op AVI E5.")
    ]
    assert [(i.provider_code, i.professional_code, i.hours_per_week) for i in page.plan.interventions] == [
        ("PRV-A", "PRF-2", 2)
    ]
    assert page.consent is not None and page.consent.missing == () and page.consent.granted == ("ouder_1",)
    assert [(r.held_on, r.recorded_by, r.scores) for r in page.reviews] == [(TODAY, "PRF-2", (GasScore(1, 1),))]
    assert [(d.kind, d.from_level, d.to_level, d.decided_by) for d in page.decisions] == [
        ("voortzetten", 2, 2, "PRF-1")
    ]
    assert page.referrals == ()
    actions = [t.action for t in page.timeline]
    assert actions[0] == AuditAction.REGISTER_SIGNAL and actions[-3:] == [
        "evaluatie_vastleggen",
        "voortzetten",
        "doelen_beschreven",
    ]
    assert [t.at for t in page.timeline] == sorted(t.at for t in page.timeline)
    with Session(engine) as s:
        assert len(actions) == s.exec(select(func.count()).where(AuditRecord.case_ref == ref)).one()
    assert (page.due, page.next_step, page.overdue) == (Due.REVIEW, "evaluatie-vastleggen", False)
    assert page.due_on is not None and page.due_on > TODAY


def test_the_case_page_tells_whose_consent_is_still_missing(region):
    ref, engine = region.cases["a3"], region.engine  # two parents with authority, plan version 2
    sv.execute(sv.record_consent, engine, case_ref=ref, party="ouder_1", granted=True, actor="PRF-1",
               recorded_on=TODAY, today=TODAY)  # fmt: skip
    consent = view(engine, "PRF-1", ref).consent
    assert (consent.needed, consent.granted, consent.refused, consent.missing) == (
        ("ouder_1", "ouder_2"), ("ouder_1",), (), ("ouder_2",),
    )  # fmt: skip
    sv.execute(sv.record_consent, engine, case_ref=ref, party="ouder_2", granted=False, actor="PRF-1",
               recorded_on=TODAY, today=TODAY)  # fmt: skip
    page = view(engine, "PRF-1", ref)
    assert (page.consent.refused, page.consent.missing) == (("ouder_2",), ("ouder_2",))
    assert [(c.party, c.granted) for c in page.consent.records] == [("ouder_1", True), ("ouder_2", False)]
    assert page.plan.version == 2 and [i.provider_code for i in page.plan.interventions] == ["PRV-B"]
    assert page.next_step == "toestemming-vastleggen"


def test_a_parent_without_authority_is_shown_but_not_asked_for_consent(region):
    with unit_of_work(region.engine) as s:
        pupil = _pupil(s, 30, school="40AB", lives="GM0164", parents=(("Ouder Een", True), ("Ouder Twee", False)))
        ref = _signal(s, pupil, school="40AB", actor="PRF-1")
        sv.triage(s, case_ref=ref, outcome="oja", level=1, actor="PRF-1", today=TODAY, policy=POLICY)
        _plan(s, ref, provider="PRV-A")
    page = view(region.engine, "PRF-1", ref)
    assert [(x.party, x.has_authority) for x in page.parents] == [("ouder_1", True), ("ouder_2", False)]
    assert (page.consent.needed, page.consent.missing) == (("ouder_1",), ("ouder_1",))


def test_a_case_without_a_plan_shows_no_plan_and_its_next_step(region):
    page = view(region.engine, "PRF-DB", region.cases["a2"])
    assert (page.plan, page.consent, page.reviews, page.next_step) == (None, None, (), "triage")
    assert [t.action for t in page.timeline] == [AuditAction.REGISTER_SIGNAL]


def test_reading_the_case_page_writes_nothing(region):
    before = counts(region.engine)
    view(region.engine, "PRF-1", region.cases["a1"])
    view(region.engine, "PRF-1", region.cases["closed"])
    assert counts(region.engine) == before


def test_the_case_page_is_refused_outside_the_scope_and_the_refusal_audited(region):
    ref = region.cases["a1"]
    for code in ("PRF-5", "PRF-WB", "PRF-DB", "PRF-MG", "PRF-PO"):
        with pytest.raises(AccessDenied) as refused:
            view(region.engine, code, ref)
        assert code in str(refused.value) and SECRET[1] not in str(refused.value)
        with Session(region.engine) as s:
            who = actor_of(s, code)
        with pytest.raises(AccessDenied):
            sv.execute(case_view, region.engine, actor=who, case_ref=ref, today=TODAY, policy=POLICY)
        record = last_audit(region.engine)
        assert (record.case_ref, record.actor, record.action) == (ref, code, AuditAction.REFUSED)
        assert record.reason.startswith("case_view: ")


def test_a_malformed_or_unknown_case_reference_is_refused(region):
    with pytest.raises(InvalidInput) as malformed:
        view(region.engine, "PRF-1", "XYZ")
    assert malformed.value.field == "case_ref" and not isinstance(malformed.value, UnknownReference)
    with pytest.raises(UnknownReference):
        view(region.engine, "PRF-1", "OJA-2026-999999")


# ---- pupil_in_scope ---------------------------------------------------------------------------


PUPIL_SCOPES = [  # who sees which pupils, and who not
    ("PRF-1", {"a1", "a2", "a3", "closed", "fresh"}, {"b1", "other"}),  # the pupils of 40AB, with a case or not
    ("PRF-5", {"b1", "b2", "other"}, {"a1", "fresh"}),
    ("PRF-2", {"a1", "b2"}, {"a2", "a3", "fresh"}),  # a case where PRV-A delivers in the current plan
    ("PRF-DT", {"a1", "b1", "closed"}, {"a2", "fresh", "other"}),  # residents of GM0164 with a case
    ("PRF-MG", set(), {"a1", "fresh"}),
]


def test_a_pupil_is_seen_only_within_the_scope(region):
    with Session(region.engine) as s:
        for code, seen, refused in PUPIL_SCOPES:
            who = actor_of(s, code)
            for name in seen:
                assert pupil_in_scope(s, who, region.pupils[name]).ref == region.pupils[name], (code, name)
            for name in refused:
                with pytest.raises(AccessDenied) as denied:
                    pupil_in_scope(s, who, region.pupils[name])
                message = str(denied.value)
                assert code in message and region.pupils[name] in message
                assert SECRET[0] not in message and SECRET[1] not in message


def test_a_destroyed_dossier_or_a_bad_reference_is_not_a_pupil_in_scope(region):
    with Session(region.engine) as s:
        who = actor_of(s, "PRF-1")
        with pytest.raises(InvalidInput, match="vernietigd"):
            pupil_in_scope(s, who, region.pupils["destroyed"])
        with pytest.raises(UnknownReference):
            pupil_in_scope(s, who, "LL-999999")


# ---- describe_goals ---------------------------------------------------------------------------


def test_describing_goals_writes_the_texts_and_one_audit_record_without_the_text(region):
    ref, engine = region.cases["a3"], region.engine  # plan version 2 with goals 1 and 2
    before = counts(engine)
    audited = before["auditrecord"]
    text = "  Sterre durft in de klas\r\nhulp te vragen.\t "
    outcome = describe(engine, "PRF-1", ref, {1: text, 2: "x" * 2000})
    assert (outcome.case_ref, outcome.action, outcome.state) == (ref, "doelen_beschreven", CaseState.PLAN_DRAFTED)
    assert descriptions(engine, ref) == {1: "Sterre durft in de klas\nhulp te vragen.", 2: "x" * 2000}
    after = counts(engine)
    assert after.pop("auditrecord") == before.pop("auditrecord") + 1 and after == before
    record = last_audit(engine)
    assert (record.case_ref, record.actor, record.action) == (ref, "PRF-1", AuditAction.DESCRIBE_GOALS)
    assert (record.from_state, record.to_state) == (CaseState.PLAN_DRAFTED, CaseState.PLAN_DRAFTED)
    assert record.reason == "doelen 1, 2 (plan versie 2)" and "Sterre" not in record.reason
    describe(engine, "PRF-WB", ref, {1: "Sterre durft in de klas\nhulp te vragen."})  # the same text: no change
    assert counts(engine)["auditrecord"] == audited + 1
    describe(engine, "PRF-WB", ref, {2: "   "})  # empty clears
    assert descriptions(engine, ref) == {1: "Sterre durft in de klas\nhulp te vragen.", 2: None}
    assert (last_audit(engine).actor, last_audit(engine).reason) == ("PRF-WB", "doelen 2 (plan versie 2)")


BAD_TEXTS = [  # each refused whole, naming the field
    ({1: "Een goed doel.", 3: "Dit doel bestaat niet."}, "doel_3"),
    ({1: "Een goed doel.", 2: "x" * 2001}, "doel_2"),
    ({2: "Een stuurteken\x00 erin."}, "doel_2"),
    ({1: "Onzichtbaar\u200b teken."}, "doel_1"),
    ({1: 17}, "doel_1"),
    ({}, "doelen"),
]


def test_describing_goals_refuses_bad_input_naming_the_field_and_writes_nothing(region):
    ref, engine = region.cases["a3"], region.engine
    before = counts(engine)
    for texts, field in BAD_TEXTS:
        with pytest.raises(InvalidInput) as refused:
            describe(engine, "PRF-1", ref, texts)
        assert refused.value.field == field and not isinstance(refused.value, AccessDenied)
        assert counts(engine) == before and descriptions(engine, ref) == {1: None, 2: None}, field


def test_describing_goals_outside_the_scope_is_refused_audited_and_writes_nothing(region):
    ref, engine = region.cases["a3"], region.engine  # PRF-2's provider delivered in version 1 only
    for code in ("PRF-5", "PRF-2", "PRF-DT", "PRF-MG"):
        before = counts(engine)
        with pytest.raises(AccessDenied):
            describe(engine, code, ref, {1: "Mag niet."})
        after = counts(engine)
        assert after.pop("auditrecord") == before.pop("auditrecord") + 1 and after == before
        record = last_audit(engine)
        assert (record.case_ref, record.actor, record.action) == (ref, code, AuditAction.REFUSED)
        assert record.reason.startswith("describe_goals: ")
        assert descriptions(engine, ref) == {1: None, 2: None}


def test_describing_goals_of_a_case_without_a_plan_or_closed_is_refused(region):
    before = counts(region.engine)
    for name, rule in (("a2", "nog geen plan"), ("closed", "gesloten")):
        with pytest.raises(InvalidInput, match=rule) as refused:
            describe(region.engine, "PRF-1", region.cases[name], {1: "Een doel."})
        assert refused.value.field == "case_ref"
        assert counts(region.engine) == before


def test_a_youth_worker_can_ask_for_only_the_cases_they_deliver_themselves(region):
    engine = region.engine
    with unit_of_work(engine) as s:  # a colleague at the same provider, delivering none of these cases
        sv.upsert_professional(s, code="PRF-2C", name="Collega", role="jeugdhulpverlener", provider_code="PRV-A")
    provider_wide = {region.cases["a1"], region.cases["b2"]}
    with Session(engine) as s:
        own = my_cases(s, actor_of(s, "PRF-2"), today=TODAY, policy=POLICY, own=True)
        colleague_own = my_cases(s, actor_of(s, "PRF-2C"), today=TODAY, policy=POLICY, own=True)
        colleague_all = my_cases(s, actor_of(s, "PRF-2C"), today=TODAY, policy=POLICY)
    assert {row.case_ref for row in own.cases} == provider_wide  # PRF-2 is the named worker on both
    assert colleague_own.cases == () and {row.case_ref for row in colleague_all.cases} == provider_wide
    assert all(row.due_on is not None for row in own.cases)  # the deadlines are read for these cases too
