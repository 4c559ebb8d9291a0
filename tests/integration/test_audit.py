"""Audit completeness: every legal transition writes exactly one audit record with actor, time, from, to, reason."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from models.lifecycle import TRANSITIONS, AuditAction, CaseState
from models.tables import AuditRecord, Case, Professional, Pupil
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services import kernel
from tests.integration.test_services import POLICY, TODAY, pupil


def test_every_legal_transition_writes_exactly_one_complete_audit_record(engine):
    pupil_ref = pupil(engine)
    with unit_of_work(engine) as s:
        pupil_id = s.exec(select(Pupil.id).where(Pupil.ref == pupil_ref)).one()
    n = 0
    for state, moves in TRANSITIONS.items():
        for action, after in moves.items():
            n += 1
            ref = f"OJA-2026-{900000 + n:06d}"
            with unit_of_work(engine) as s:
                # closed: the partial unique index allows one open case per pupil, so each sits closed first
                s.add(Case(ref=ref, pupil_id=pupil_id, school_code="40AB", state=CaseState.CLOSED.value, level=2,
                           urgency="normaal", opened_on=TODAY))  # fmt: skip
            with unit_of_work(engine) as s:
                case = s.exec(select(Case).where(Case.ref == ref)).one()
                case.state = state.value
                t0 = dt.datetime.now(dt.UTC)
                result = kernel.transition(s, case, action, s.get(Professional, "PRF-1"))
                assert result is after
            with unit_of_work(engine) as s:
                records = s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref)).all()
                assert len(records) == 1, (state, action)
                [r] = records
                assert (r.actor, r.action, r.from_state, r.to_state) == (
                    "PRF-1",
                    action.value,
                    state.value,
                    after.value,
                )
                assert r.reason and action.value in r.reason and "zorgcoordinator" in r.reason
                at = r.at if r.at.tzinfo else r.at.replace(tzinfo=dt.UTC)
                assert abs((at - t0).total_seconds()) < 60
                # leave the case closed again for the next one (a direct update: this is test set-up)
                case = s.exec(select(Case).where(Case.ref == ref)).one()
                case.state = CaseState.CLOSED.value
    assert n == sum(len(m) for m in TRANSITIONS.values()) and n > 20


def test_one_professional_action_writes_exactly_one_audit_record(engine):
    """The README's rule: the last consent is one transition (to consented), not a record and then another."""
    with unit_of_work(engine) as s:
        sv.upsert_professional(s, code="PRF-W", name="Wijkteam", role="wijkteam", municipality_code="GM0164")
    ref = None

    def act(use_case, **kwargs):
        nonlocal ref
        before = _count(engine)
        with unit_of_work(engine) as s:
            outcome = use_case(s, **kwargs)
        ref = ref or outcome.case_ref
        assert _count(engine) == before + 1, f"{use_case.__name__} ({kwargs.get('party') or kwargs.get('kind', '')})"
        with Session(engine) as s:
            last = s.exec(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
        assert (last.case_ref, last.to_state) == (ref, outcome.state)
        return outcome

    day = dict(actor="PRF-1", today=TODAY)
    signal = dict(school_code="40AB", source="school", domains=["leren"], urgency="normaal", received_on=TODAY)
    pupil_ref = pupil(engine)  # 12 on TODAY: the pupil and both parents consent
    act(sv.register_signal, pupil_ref=pupil_ref, policy=POLICY, **signal, **day)
    act(sv.register_signal, pupil_ref=pupil_ref, policy=POLICY, **signal, **day)  # joins
    act(sv.triage, case_ref=ref, outcome="oja", level=2, **day, policy=sv.DEFAULT_POLICY)
    act(
        sv.draft_plan, case_ref=ref, goals=[sv.GoalSpec("leren")], interventions=[sv.InterventionSpec("PRV-A", 2)],
        regie_holder="PRF-1", start_on=TODAY, planned_end_on=TODAY + dt.timedelta(weeks=20), policy=POLICY, **day,
    )  # fmt: skip
    for party in ("ouder_1", "ouder_2", "leerling"):
        last = act(sv.record_consent, case_ref=ref, party=party, granted=True, recorded_on=TODAY, **day)
    assert (last.action, last.state) == (AuditAction.CONSENT_COMPLETE, CaseState.CONSENTED)
    with Session(engine) as s:
        record = s.exec(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert (record.action, record.from_state, record.to_state) == (
        AuditAction.CONSENT_COMPLETE,
        CaseState.PLAN_DRAFTED,
        CaseState.CONSENTED,
    )
    assert "leerling=granted" in record.reason  # whose consent completed it
    act(sv.activate, case_ref=ref, **day)
    act(sv.record_measurement, case_ref=ref, goal_number=1, value=1.0, measured_on=TODAY, **day)
    act(sv.record_review, case_ref=ref, held_on=TODAY, gas_scores={1: 0}, **day)
    act(sv.decide, case_ref=ref, kind="voortzetten", **day, policy=sv.DEFAULT_POLICY)
    act(sv.refer, case_ref=ref, **day)
    act(
        sv.respond_to_referral,
        case_ref=ref,
        accepted=False,
        level_on_decline=2,
        actor="PRF-W",
        today=TODAY,
        policy=sv.DEFAULT_POLICY,
    )
    act(sv.decide, case_ref=ref, kind="afsluiten", end_reason="volgens_plan", **day, policy=sv.DEFAULT_POLICY)
    act(sv.reopen, case_ref=ref, policy=POLICY, **day)


def _count(engine) -> int:
    with Session(engine) as s:
        return len(s.exec(select(AuditRecord.id)).all())
