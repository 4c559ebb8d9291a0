"""Access on a real database: a professional outside the case's scope is refused, audited, and changes nothing."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from models.errors import AccessDenied
from models.lifecycle import AuditAction, CaseState
from models.tables import AuditRecord, Case
from oja import services as sv
from oja.adapters.db import unit_of_work
from tests.integration.test_services import POLICY, TODAY, _active_case, counts, do, pupil, signal


@pytest.fixture
def region(engine):
    with unit_of_work(engine) as s:
        sv.upsert_municipality(s, code="GM0147", name="Borne")
        sv.upsert_school(s, code="50CD", name="Andere School", holiday_region="noord", municipality_code="GM0147")
        sv.upsert_provider(s, code="PRV-B", name="Aanbieder B")
        for code, role, where in [
            ("PRF-OS", "zorgcoordinator", {"school_code": "50CD"}),
            ("PRF-WB", "jeugdhulpverlener", {"provider_code": "PRV-B"}),
            ("PRF-DT", "wijkteam", {"municipality_code": "GM0164"}),
            ("PRF-DB", "wijkteam", {"municipality_code": "GM0147"}),
            ("PRF-MG", "manager", {"school_code": "40AB"}),
        ]:
            sv.upsert_professional(s, code=code, name=f"Prof {code}", role=role, **where)
    return engine


def _last_audit(engine) -> AuditRecord:
    with Session(engine) as s:
        return s.exec(select(AuditRecord).order_by(AuditRecord.id.desc())).first()


@pytest.mark.parametrize("actor", ["PRF-OS", "PRF-WB", "PRF-DB", "PRF-MG"])
def test_an_actor_outside_the_scope_is_refused_and_the_refusal_is_audited(region, actor):
    ref = _active_case(region)
    before = counts(region)
    with pytest.raises(AccessDenied) as refused:
        do(region, sv.refer, case_ref=ref, actor=actor, today=TODAY)
    assert refused.value.field == "actor" and actor in str(refused.value)
    after = counts(region)
    assert after.pop("auditrecord") == before.pop("auditrecord") + 1 and after == before
    audit = _last_audit(region)
    assert (audit.case_ref, audit.actor, audit.action, audit.from_state, audit.to_state) == (
        ref,
        actor,
        AuditAction.REFUSED,
        CaseState.ACTIVE,
        CaseState.ACTIVE,
    )
    assert audit.reason.startswith("refer: ")
    with Session(region) as s:
        assert s.exec(select(Case.state).where(Case.ref == ref)).one() == CaseState.ACTIVE


@pytest.mark.parametrize("actor", ["PRF-1", "PRF-2", "PRF-DT"])
def test_the_school_the_delivering_provider_and_the_district_team_may_act(region, actor):
    ref = _active_case(region)
    outcome = do(region, sv.refer, case_ref=ref, actor=actor, today=TODAY)
    assert outcome.state == CaseState.ESCALATED


def test_a_signal_about_a_pupil_of_another_school_is_refused(region):
    ref = pupil(region)
    with pytest.raises(AccessDenied):
        do(
            region,
            sv.register_signal,
            pupil_ref=ref,
            school_code="40AB",
            source="school",
            domains=["leren"],
            urgency="normaal",
            actor="PRF-OS",
            received_on=TODAY,
            today=TODAY,
            policy=POLICY,
        )
    audit = _last_audit(region)
    assert (audit.case_ref, audit.action) == (ref, AuditAction.REFUSED)
    assert signal(region, ref).state == CaseState.AWAITING_TRIAGE  # the pupil's own school may
