"""Issue 23, privacy and access: a signal belongs to the pupil's school, the subject-access export holds only the
cases in the reader's scope, a regie holder may act on the case in a role that holds regie, and the
forms offer only the professionals who may fill a field. On SQLite and
PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlmodel import Session, func, select

from models.errors import AccessDenied, InvalidInput
from models.lifecycle import CaseState
from models.tables import Case, Pupil
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services.choices import known_codes
from oja.services.dossier import actor_of, pupil_in_scope, subject_access
from tests.integration.test_services import POLICY, TODAY, do, pupil


@pytest.fixture
def region(engine):
    with unit_of_work(engine) as s:
        sv.upsert_municipality(s, code="GM0147", name="Borne")
        sv.upsert_school(s, code="50CD", name="Andere School", holiday_region="noord", municipality_code="GM0147")
        sv.upsert_provider(s, code="PRV-B", name="Aanbieder B")
        for code, role, where in [
            ("PRF-OS", "zorgcoordinator", {"school_code": "50CD"}),
            ("PRF-SW", "schoolmaatschappelijk_werker", {"school_code": "40AB"}),
            ("PRF-WB", "jeugdhulpverlener", {"provider_code": "PRV-B"}),
            ("PRF-DT", "wijkteam", {"municipality_code": "GM0164"}),
            ("PRF-DB", "wijkteam", {"municipality_code": "GM0147"}),
            ("PRF-MG", "manager", {"school_code": "40AB"}),
            ("PRF-TL", "teamleider", {"school_code": "40AB"}),
            ("PRF-PO", "privacyfunctionaris", {}),
        ]:
            sv.upsert_professional(s, code=code, name=f"Prof {code}", role=role, **where)
    return engine


def _signal(engine, pupil_ref: str, *, school: str, actor: str):
    return do(
        engine,
        sv.register_signal,
        pupil_ref=pupil_ref,
        school_code=school,
        source="school",
        domains=["verzuim"],
        urgency="normaal",
        actor=actor,
        received_on=TODAY,
        today=TODAY,
        policy=POLICY,
    )


def _cases(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Case)).one()


# ---- item 1: a signal belongs to the pupil's school --------------------------------------------------------


def test_a_coordinator_cannot_open_a_case_for_a_pupil_of_another_school_by_naming_their_own(region):
    ref = pupil(region)  # at 40AB, living in GM0164
    with pytest.raises(AccessDenied) as refused:
        _signal(region, ref, school="50CD", actor="PRF-OS")
    assert "40AB" in refused.value.scope or "50CD" in refused.value.scope
    assert _cases(region) == 0
    with Session(region) as s, pytest.raises(AccessDenied):
        pupil_in_scope(s, actor_of(s, "PRF-OS"), ref)


def test_a_refused_signal_does_not_tell_an_outsider_that_the_pupil_has_an_open_case(region):
    """Refused, a signal about a pupil with an open case elsewhere names the pupil the form named, not the case:
    whether a pupil of another school receives care is not the outsider's to learn."""
    ref = pupil(region)
    opened = _signal(region, ref, school="40AB", actor="PRF-1")
    with pytest.raises(AccessDenied) as refused:
        _signal(region, ref, school="50CD", actor="PRF-OS")
    assert refused.value.subject == ref and opened.case_ref not in str(refused.value)


def test_a_signal_names_the_pupils_own_school(region):
    ref = pupil(region)
    with pytest.raises(InvalidInput) as refused:
        _signal(region, ref, school="50CD", actor="PRF-1")
    assert refused.value.field == "school_code" and "40AB" in refused.value.rule
    assert _cases(region) == 0


def test_the_district_team_of_where_the_pupil_lives_may_raise_a_signal_at_the_pupils_school(region):
    ref = pupil(region)
    with pytest.raises(AccessDenied):
        _signal(region, ref, school="40AB", actor="PRF-DB")  # lives elsewhere
    outcome = _signal(region, ref, school="40AB", actor="PRF-DT")
    assert outcome.state == CaseState.AWAITING_TRIAGE
    with Session(region) as s:
        assert s.exec(select(Case.school_code).where(Case.ref == outcome.case_ref)).one() == "40AB"


# ---- items 1 and 4: the subject-access export ---------------------------------------------------------------


def _moved_pupil(engine) -> tuple[str, str, str]:
    """A pupil with a closed case at 50CD who moved to 40AB and has an open case there."""
    with unit_of_work(engine) as s:
        ref = sv.register_pupil(
            s, given_name="Mo", family_name="Verhuisd", birth_date=dt.date(2014, 6, 15), school_code="50CD",
            municipality_code="GM0147", bsn="123456782", parents=[sv.ParentSpec("Ouder M")], today=TODAY,
        )  # fmt: skip
    old = _signal(engine, ref, school="50CD", actor="PRF-OS").case_ref
    do(engine, sv.triage, case_ref=old, outcome="basisondersteuning", actor="PRF-OS", today=TODAY, policy=POLICY)
    with unit_of_work(engine) as s:
        moved = s.exec(select(Pupil).where(Pupil.ref == ref)).one()
        moved.school_code = "40AB"
        s.add(moved)
    new = _signal(engine, ref, school="40AB", actor="PRF-1").case_ref
    return ref, old, new


def _export(engine, code: str, ref: str) -> dict:
    with Session(engine) as s:
        return subject_access(s, actor_of(s, code), ref)


def test_the_export_holds_only_the_cases_in_the_readers_scope_unless_the_reader_is_the_pupils_own_school(region):
    ref, old, new = _moved_pupil(region)
    own = _export(region, "PRF-1", ref)  # the pupil's school now: the parents' channel
    assert [c["case"]["ref"] for c in own["cases"]] == [old, new]
    earlier = _export(region, "PRF-OS", ref)  # the school of the earlier case only
    assert [c["case"]["ref"] for c in earlier["cases"]] == [old]
    assert earlier["pupil"]["ref"] == ref and "erasure_requests" not in earlier


@pytest.mark.parametrize("code", ["PRF-DB", "PRF-WB", "PRF-MG", "PRF-PO"])
def test_the_export_is_for_school_roles_only(region, code):
    ref, _, new = _moved_pupil(region)
    with Session(region) as s:
        if code == "PRF-DB":
            assert pupil_in_scope(s, actor_of(s, code), ref).ref == ref  # the district team sees the pupil
    with pytest.raises(AccessDenied):
        _export(region, code, ref)


# ---- item 3: the regie holder -------------------------------------------------------------------------------


def _draft(engine, ref: str, regie: str, provider: str = "PRV-A"):
    return do(
        engine,
        sv.draft_plan,
        case_ref=ref,
        goals=[sv.GoalSpec("leren")],
        interventions=[sv.InterventionSpec(provider, 2)],
        regie_holder=regie,
        start_on=TODAY,
        planned_end_on=TODAY + dt.timedelta(weeks=20),
        actor="PRF-1",
        today=TODAY,
        policy=POLICY,
    )


@pytest.mark.parametrize(
    ("regie", "why"),
    [
        ("PRF-PO", "privacyfunctionaris"),  # no role that holds regie
        ("PRF-MG", "manager"),
        ("PRF-TL", "teamleider"),
        ("PRF-DT", "wijkteam"),
        ("PRF-OS", "50CD"),  # a coordinator of another school: may not act on the case
        ("PRF-WB", "PRV-B"),  # a youth worker whose provider does not deliver in this plan
    ],
)
def test_a_regie_holder_must_hold_regie_and_may_act_on_the_case(region, regie, why):
    ref = _signal(region, pupil(region), school="40AB", actor="PRF-1").case_ref
    do(region, sv.triage, case_ref=ref, outcome="oja", level=2, actor="PRF-1", today=TODAY, policy=POLICY)
    with pytest.raises(InvalidInput) as refused:
        _draft(region, ref, regie)
    assert refused.value.field == "regie_holder" and why in refused.value.rule and regie in refused.value.rule
    with Session(region) as s:
        assert s.exec(select(Case.state).where(Case.ref == ref)).one() == CaseState.PLANNING


@pytest.mark.parametrize("regie", ["PRF-1", "PRF-SW", "PRF-2"])
def test_the_core_team_may_hold_regie(region, regie):
    ref = _signal(region, pupil(region), school="40AB", actor="PRF-1").case_ref
    do(region, sv.triage, case_ref=ref, outcome="oja", level=2, actor="PRF-1", today=TODAY, policy=POLICY)
    assert _draft(region, ref, regie).state == CaseState.PLAN_DRAFTED


# ---- Lists: the forms' dropdowns ----------------------------------------------------------------------------


def test_the_regie_holder_and_professional_lists_offer_only_who_may_fill_them_by_school(region):
    with Session(region) as s:
        choices = known_codes(s)
    regie = [c.code for c in choices["regie_holders"]]
    assert regie == ["PRF-1", "PRF-SW", "PRF-OS", "PRF-2", "PRF-WB"]  # 40AB, 50CD, then providers A, B
    assert [c.code for c in choices["workers"]] == ["PRF-2", "PRF-WB"]
    assert {"PRF-PO", "PRF-MG", "PRF-TL", "PRF-DT"} <= {c.code for c in choices["professionals"]}  # `actor`
    assert all(dataclasses.is_dataclass(c) for c in choices["regie_holders"])
