"""Consent from a party the pupil's age does not ask for (issue 25, 4): kept as a note, never as consent."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from models.lifecycle import AuditAction, CaseState
from models.tables import AuditRecord, ConsentRecord
from models.words import reason_words
from oja import services as sv
from oja.config import Policy
from oja.services.dossier_case import case_view
from oja.services.kernel import load_actor
from oja.services.status import case_status
from tests.integration.test_services import TODAY, consent, do, plan, pupil, signal


def _planned(engine, born: dt.date) -> str:
    ref = signal(engine, pupil(engine, born=born)).case_ref
    do(engine, sv.triage, case_ref=ref, outcome="oja", level=2, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    plan(engine, ref)
    return ref


def test_a_parents_consent_to_a_plan_for_a_seventeen_year_old_is_a_note_not_consent(engine):
    ref = _planned(engine, dt.date(2009, 1, 1))  # 17 on TODAY: the pupil consents alone
    outcome = consent(engine, ref, "ouder_1")
    assert outcome.action == AuditAction.CONSENT_NOT_NEEDED.value
    assert outcome.not_needed == "ouder_1" and outcome.as_dict()["not_needed"] == "ouder_1"
    assert outcome.state == CaseState.PLAN_DRAFTED.value  # nothing counted towards the plan's consent
    with Session(engine) as s:
        assert s.exec(select(ConsentRecord).where(ConsentRecord.party == "ouder_1")).all() == []
        note = s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref).order_by(AuditRecord.id.desc())).first()
        assert note.action == AuditAction.CONSENT_NOT_NEEDED.value and note.from_state == note.to_state
        words = reason_words(note.reason)
        assert "ouder 1" in words and "niet nodig" in words and "toestemming gegeven" not in words
        status = case_status(s, case_ref=ref, today=TODAY, policy=Policy())
        assert status.consent_missing == ("leerling",)
        view = case_view(s, load_actor(s, "PRF-1"), ref, today=TODAY, policy=Policy())
        assert view.consent is not None and view.consent.records == ()  # never shown as consent
    # the pupil's own consent completes it, the note did not count
    assert consent(engine, ref, "leerling").state == CaseState.CONSENTED.value


def test_the_pupils_consent_under_twelve_is_a_note_and_the_parents_complete_it(engine):
    ref = _planned(engine, dt.date(2016, 1, 1))  # 10: the parents with authority
    outcome = consent(engine, ref, "leerling")
    assert outcome.action == AuditAction.CONSENT_NOT_NEEDED.value and outcome.not_needed == "leerling"
    consent(engine, ref, "ouder_1")
    assert consent(engine, ref, "ouder_2").state == CaseState.CONSENTED.value
    with Session(engine) as s:
        assert [r.party for r in s.exec(select(ConsentRecord)).all()] == ["ouder_1", "ouder_2"]


def test_a_needed_partys_consent_is_still_consent(engine):
    ref = _planned(engine, dt.date(2012, 1, 1))  # 14: pupil and parents
    outcome = consent(engine, ref, "ouder_1")
    assert outcome.action == AuditAction.RECORD_CONSENT.value and outcome.not_needed is None
    assert "not_needed" not in outcome.as_dict()
