"""Consent online (issue 26, 4): a parent's or the pupil's own word on consent, waiting as a request bound to their
login, taken once by the consent step; a withdrawal pauses the arrangement until consent is given again."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from models.errors import IllegalTransition, InvalidInput
from models.lifecycle import AuditAction, CaseState
from models.tables import AuditRecord, Case, ConsentRecord, Plan, PlanPeriod
from models.tables_family import FamilyConsentRequest, FamilyLogin
from models.tables_outbox import Outbox
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy
from oja.services import family_consent
from oja.services.cost import deliveries
from oja.services.retention import destroy_dossiers
from oja.services.status import case_status, next_steps
from oja.services.worklist import Due
from tests.integration.test_services import TODAY, consent, do, plan, pupil, signal

LATER = TODAY + dt.timedelta(days=14)


def _case(engine, born=dt.date(2012, 1, 1), bsn="111222333") -> str:  # 14 on TODAY: pupil and parents
    ref = signal(engine, pupil(engine, born=born, bsn=bsn)).case_ref
    do(engine, sv.triage, case_ref=ref, outcome="oja", level=2, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    plan(engine, ref)
    return ref


def _login(engine, ref: str, party: str) -> int:
    with unit_of_work(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        login = FamilyLogin(pupil_id=case.pupil_id, party=party, email=f"{party}.{ref}@example.org")
        s.add(login)
        s.flush()
        assert login.id is not None
        return login.id


def _ask(engine, ref: str, login_id: int, granted: bool = True) -> str:
    with unit_of_work(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        login = s.get(FamilyLogin, login_id)
        return family_consent.ask(s, login=login, case=case, granted=granted).token


def _run(engine, ref: str, party: str, token: str | None, granted: bool = True, today=TODAY, actor=None):
    """What the consent step's run does with the family's request."""
    return do(
        engine, sv.record_consent, case_ref=ref, party=party, granted=granted, actor=actor or party,
        recorded_on=None, today=today, family_request=token,
    )  # fmt: skip


def _state(engine, ref):
    with Session(engine) as s:
        return s.exec(select(Case).where(Case.ref == ref)).one()


def test_a_parents_own_consent_counts_as_consent_recorded_by_the_parent(engine):
    ref = _case(engine)
    login = _login(engine, ref, "ouder_1")
    token = _ask(engine, ref, login)
    outcome = _run(engine, ref, "ouder_1", token)
    assert outcome.action == AuditAction.RECORD_CONSENT.value
    with Session(engine) as s:
        [record] = s.exec(select(ConsentRecord)).all()
        assert (record.party, record.granted, record.recorded_by) == ("ouder_1", True, "ouder_1")
        request = s.exec(select(FamilyConsentRequest)).one()
        assert (request.status, request.outcome) == ("verwerkt", AuditAction.RECORD_CONSENT.value)
        last = s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref).order_by(AuditRecord.id.desc())).first()
        assert last.actor == "ouder_1" and last.action == AuditAction.RECORD_CONSENT.value
    consent(engine, ref, "ouder_2")
    pupil_login = _login(engine, ref, "leerling")
    done = _run(engine, ref, "leerling", _ask(engine, ref, pupil_login))
    assert done.action == AuditAction.CONSENT_COMPLETE.value and done.state == CaseState.CONSENTED.value


def test_a_professional_cannot_act_as_a_parent_without_the_parents_request(engine):
    ref = _case(engine)
    with pytest.raises(InvalidInput) as refused:
        _run(engine, ref, "ouder_1", None)
    assert refused.value.field == "family_request"
    with pytest.raises(InvalidInput) as made_up:
        _run(engine, ref, "ouder_1", "niet-bestaand-verzoek")
    assert made_up.value.field == "family_request"
    # nor name the parent as party with a request of the family while acting as themselves
    token = _ask(engine, ref, _login(engine, ref, "ouder_1"))
    with pytest.raises(InvalidInput):
        _run(engine, ref, "ouder_1", token, actor="PRF-1")
    with Session(engine) as s:
        assert s.exec(select(ConsentRecord)).all() == []


def test_a_request_is_taken_once_and_only_for_what_it_says(engine):
    ref = _case(engine)
    login = _login(engine, ref, "ouder_1")
    token = _ask(engine, ref, login)
    with pytest.raises(InvalidInput):  # the request said: consent given
        _run(engine, ref, "ouder_1", token, granted=False)
    with pytest.raises(InvalidInput):  # another party than the login's
        _run(engine, ref, "ouder_2", token)
    _run(engine, ref, "ouder_1", token)
    with pytest.raises(InvalidInput) as twice:
        _run(engine, ref, "ouder_1", token)
    assert "al verwerkt" in twice.value.rule
    with Session(engine) as s:
        assert len(s.exec(select(ConsentRecord)).all()) == 1


def test_another_familys_request_is_refused(engine):
    ref = _case(engine)
    other = _case(engine, bsn="123456782")
    token = _ask(engine, other, _login(engine, other, "ouder_1"))
    with pytest.raises(InvalidInput) as refused:
        _run(engine, ref, "ouder_1", token)
    assert refused.value.field == "family_request"
    with Session(engine) as s:
        assert s.exec(select(ConsentRecord)).all() == []
        assert s.exec(select(FamilyConsentRequest)).one().status == "wacht"


def test_a_word_nobody_needs_is_a_note_and_the_request_is_taken(engine):
    ref = _case(engine, born=dt.date(2009, 1, 1))  # 17: the pupil alone
    token = _ask(engine, ref, _login(engine, ref, "ouder_1"))
    outcome = _run(engine, ref, "ouder_1", token)
    assert outcome.action == AuditAction.CONSENT_NOT_NEEDED.value and outcome.not_needed == "ouder_1"
    with Session(engine) as s:
        assert s.exec(select(ConsentRecord)).all() == []
        request = s.exec(select(FamilyConsentRequest)).one()
        assert (request.status, request.outcome) == ("verwerkt", AuditAction.CONSENT_NOT_NEEDED.value)


def _active(engine, ref):
    for party in ("ouder_1", "ouder_2", "leerling"):
        consent(engine, ref, party)
    do(engine, sv.activate, case_ref=ref, actor="PRF-1", today=TODAY)


def test_withdrawing_while_active_pauses_the_arrangement_and_mails_the_regie_holder(engine):
    ref = _case(engine)
    _active(engine, ref)
    token = _ask(engine, ref, _login(engine, ref, "leerling"), granted=False)
    outcome = _run(engine, ref, "leerling", token, granted=False, today=LATER)
    assert outcome.action == AuditAction.WITHDRAW_CONSENT.value and outcome.state == CaseState.PLAN_DRAFTED.value
    case = _state(engine, ref)
    assert case.next_review_on is None and case.consent_due_on is not None and case.consent_due_on > LATER
    with Session(engine) as s:
        current = s.exec(select(Plan).where(Plan.case_id == case.id)).one()
        assert current.active_until == LATER  # cost stops
        [mail] = s.exec(select(Outbox)).all()
        assert mail.recipient_code == "PRF-1" and ref in mail.subject and ref in mail.text
        assert "Anna" not in mail.text + mail.html and "Test" not in mail.subject
        assert f"/casus/{ref}" in mail.text
    with Session(engine) as s:  # the worklist: consent is due again, no review; the steps: consent, or a new plan
        status = case_status(s, case_ref=ref, today=LATER, policy=Policy())
        assert status.row is not None and (status.row.due, status.row.due_on) == (Due.CONSENT, case.consent_due_on)
        assert next_steps(status) == ("toestemming-vastleggen", "plan-opstellen")
        assert status.consent_missing == ("leerling",)
    # consent given again: complete, and the arrangement starts again under the same plan
    again = _run(engine, ref, "leerling", _ask(engine, ref, _login_of(engine, ref, "leerling")), today=LATER)
    assert again.state == CaseState.CONSENTED.value
    restart = LATER + dt.timedelta(days=7)
    assert do(engine, sv.activate, case_ref=ref, actor="PRF-1", today=restart).state == CaseState.ACTIVE.value
    with Session(engine) as s:
        [period] = s.exec(select(PlanPeriod)).all()
        assert period.active_until == LATER
        spans = sorted((d.start, d.until) for d in deliveries(s))
        assert spans[0][1] == LATER and spans[1][0] >= restart and spans[1][1] is None  # the pause not counted


def _login_of(engine, ref, party) -> int:
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        return s.exec(
            select(FamilyLogin.id).where(FamilyLogin.pupil_id == case.pupil_id, FamilyLogin.party == party)
        ).one()


def test_a_professional_records_a_withdrawal_through_the_same_step(engine):
    ref = _case(engine)
    _active(engine, ref)
    outcome = do(
        engine, sv.record_consent, case_ref=ref, party="ouder_2", granted=False, actor="PRF-1", recorded_on=LATER,
        today=LATER,
    )  # fmt: skip
    assert outcome.action == AuditAction.WITHDRAW_CONSENT.value and outcome.state == CaseState.PLAN_DRAFTED.value
    # consent once more while active: not a step of an active arrangement
    ref2 = _case(engine, bsn="123456782")
    _active(engine, ref2)
    with pytest.raises(IllegalTransition):
        consent(engine, ref2, "ouder_1")


def test_withdrawing_a_consent_not_needed_leaves_the_arrangement_running(engine):
    ref = _case(engine, born=dt.date(2009, 1, 1))  # 17: the pupil alone
    consent(engine, ref, "leerling")
    do(engine, sv.activate, case_ref=ref, actor="PRF-1", today=TODAY)
    token = _ask(engine, ref, _login(engine, ref, "ouder_1"), granted=False)
    outcome = _run(engine, ref, "ouder_1", token, granted=False, today=LATER)
    assert outcome.action == AuditAction.CONSENT_NOT_NEEDED.value and outcome.state == CaseState.ACTIVE.value


def test_a_paused_and_restarted_dossier_with_the_familys_requests_is_destroyed_whole(engine):
    ref = _case(engine)
    _active(engine, ref)
    _run(engine, ref, "leerling", _ask(engine, ref, _login(engine, ref, "leerling"), granted=False), False, LATER)
    consent(engine, ref, "leerling", on=LATER)
    do(engine, sv.activate, case_ref=ref, actor="PRF-1", today=LATER)
    with unit_of_work(engine) as s:
        pupil_id = s.exec(select(Case).where(Case.ref == ref)).one().pupil_id
        assert destroy_dossiers(s, [pupil_id], actor="PRF-1", reason="test", today=LATER) == 1
    with Session(engine) as s:
        assert s.exec(select(FamilyConsentRequest)).all() == [] and s.exec(select(PlanPeriod)).all() == []
