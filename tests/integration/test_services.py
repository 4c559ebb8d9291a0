"""The use cases on a migrated database: every change with its audit record, every refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, func, select

from models.errors import ConsentMissing, IllegalTransition, InvalidInput, OjaError, UnknownReference
from models.lifecycle import Action, AuditAction, CaseState
from models.tables import AuditRecord, Case, Signal
from models.words import action_word
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy
from oja.services import kernel
from tests.factories import active_case

TODAY = dt.date(2026, 11, 23)
POLICY = Policy()

# decisions after a review that are not (or need not be) what the engine recommends carry a reason
OVERRIDE = {"override_reason": "professioneel_oordeel"}


def pupil(engine, *, born=dt.date(2014, 6, 15), parents=("Ouder A", "Ouder B"), bsn="111222333") -> str:
    with unit_of_work(engine) as s:
        return sv.register_pupil(
            s,
            given_name="Anna",
            family_name="Test",
            birth_date=born,
            school_code="40AB",
            municipality_code="GM0164",
            bsn=bsn,
            parents=[sv.ParentSpec(p) for p in parents],
            today=TODAY,
        )


def do(engine, use_case, **kwargs):
    return sv.execute(use_case, engine, **kwargs)


def signal(engine, pupil_ref, on=TODAY):
    return do(
        engine,
        sv.register_signal,
        pupil_ref=pupil_ref,
        school_code="40AB",
        source="school",
        domains=["leren"],
        urgency="normaal",
        actor="PRF-1",
        received_on=on,
        today=on,
        policy=POLICY,
    )


def plan(engine, ref, today=TODAY):
    return do(
        engine,
        sv.draft_plan,
        case_ref=ref,
        goals=[sv.GoalSpec("leren")],
        interventions=[sv.InterventionSpec("PRV-A", 2, professional_code="PRF-2")],
        regie_holder="PRF-1",
        start_on=today,
        planned_end_on=today + dt.timedelta(weeks=20),
        actor="PRF-1",
        today=today,
        policy=POLICY,
    )


def consent(engine, ref, party, on=TODAY):
    return do(
        engine, sv.record_consent, case_ref=ref, party=party, granted=True, actor="PRF-1", recorded_on=on, today=on
    )


def counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {t.name: s.exec(select(func.count()).select_from(t)).one() for t in SQLModel.metadata.sorted_tables}


def audit(engine, ref) -> list[tuple[str, str | None, str]]:
    with Session(engine) as s:
        rows = s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref).order_by(AuditRecord.id)).all()
        assert all(r.actor and r.at for r in rows)
        return [(r.action, r.from_state, r.to_state) for r in rows]


def test_a_case_goes_through_every_kind_of_decision(engine):
    ref = signal(engine, pupil(engine)).case_ref  # 12 on TODAY: the pupil and both parents consent
    do(engine, sv.triage, case_ref=ref, outcome="oja", level=2, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    plan(engine, ref)
    for party in ("ouder_1", "ouder_2", "leerling"):
        consent(engine, ref, party)
    do(engine, sv.activate, case_ref=ref, actor="PRF-1", today=TODAY)
    review = dict(case_ref=ref, held_on=TODAY, actor="PRF-2", today=TODAY, gas_scores={1: 0})
    for kind, level in (("voortzetten", None), ("opschalen", 3), ("afschalen", 1)):
        do(engine, sv.record_review, **review)
        outcome = do(
            engine,
            sv.decide,
            case_ref=ref,
            kind=kind,
            new_level=level,
            actor="PRF-1",
            today=TODAY,
            **({} if kind == "voortzetten" else OVERRIDE),  # reviews of one day: the engine recommends continuing
            policy=sv.DEFAULT_POLICY,
        )
        assert outcome.state == CaseState.ACTIVE
    do(engine, sv.record_review, **review)
    escalated = do(
        engine,
        sv.decide,
        case_ref=ref,
        kind="specialistische_zorg",
        actor="PRF-1",
        today=TODAY,
        **OVERRIDE,
        policy=sv.DEFAULT_POLICY,
    )
    assert escalated.level == 4
    returned = do(
        engine, sv.return_from_specialised, case_ref=ref, level=2, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY
    )
    assert returned.state == CaseState.PLANNING
    closed = do(
        engine,
        sv.decide,
        case_ref=ref,
        kind="afsluiten",
        reason_code="naar_ander_domein",
        actor="PRF-1",
        today=TODAY,
        policy=sv.DEFAULT_POLICY,
    )
    assert closed.state == CaseState.CLOSED
    reopened = do(engine, sv.reopen, case_ref=ref, actor="PRF-1", today=TODAY, policy=POLICY)
    assert reopened.state == CaseState.AWAITING_TRIAGE

    trail = audit(engine, ref)
    assert [a for a, _, _ in trail] == [
        AuditAction.REGISTER_SIGNAL,
        AuditAction.TRIAGE_OJA,
        AuditAction.DRAFT_PLAN,
        AuditAction.RECORD_CONSENT,
        AuditAction.RECORD_CONSENT,
        AuditAction.CONSENT_COMPLETE,  # the last consent: one record, to toestemming_compleet
        AuditAction.ACTIVATE,
        AuditAction.RECORD_REVIEW,
        AuditAction.CONTINUE,
        AuditAction.RECORD_REVIEW,
        AuditAction.SCALE_UP,
        AuditAction.RECORD_REVIEW,
        AuditAction.SCALE_DOWN,
        AuditAction.RECORD_REVIEW,
        AuditAction.ESCALATE,
        AuditAction.RETURN,
        AuditAction.CLOSE,
        AuditAction.REOPEN,
    ]
    assert all(prev[2] == cur[1] for prev, cur in zip(trail, trail[1:], strict=False))


def test_a_second_signal_joins_the_open_case_and_one_after_closure_opens_a_new_one(engine):
    ref_pupil = pupil(engine)
    first = signal(engine, ref_pupil)
    second = signal(engine, ref_pupil)
    assert second.case_ref == first.case_ref and second.joined
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Case)).one() == 1
        assert s.exec(select(func.count()).select_from(Signal)).one() == 2
    do(
        engine,
        sv.triage,
        case_ref=first.case_ref,
        outcome="geen_actie",
        no_action_reason="geen_zorgbehoefte",
        actor="PRF-1",
        today=TODAY,
        policy=sv.DEFAULT_POLICY,
    )
    third = signal(engine, ref_pupil)
    assert third.case_ref != first.case_ref and not third.joined
    with pytest.raises(InvalidInput, match="open casus"):  # the old case cannot be reopened beside the new one
        do(engine, sv.reopen, case_ref=first.case_ref, actor="PRF-1", today=TODAY, policy=POLICY)


def _triage_due(engine, ref) -> dt.date:
    with Session(engine) as s:
        return s.exec(select(Case.triage_due_on).where(Case.ref == ref)).one()


@pytest.mark.parametrize(
    ("received", "urgency", "domains", "due"),
    [
        (dt.date(2026, 11, 23), "acuut", ["gedrag"], dt.date(2026, 11, 23)),  # a Monday: that same day
        (dt.date(2026, 11, 27), "acuut", ["gedrag"], dt.date(2026, 11, 27)),  # a Friday: that Friday, not Monday
        (dt.date(2026, 11, 27), "normaal", ["veiligheid"], dt.date(2026, 11, 27)),  # a safety concern, too
        (dt.date(2026, 11, 28), "acuut", ["gedrag"], dt.date(2026, 11, 30)),  # a Saturday: the next school day
        (dt.date(2026, 11, 27), "normaal", ["gedrag"], dt.date(2026, 12, 11)),  # otherwise 10 school days
    ],
)
def test_an_acute_or_safety_signal_is_due_for_triage_the_same_school_day(engine, received, urgency, domains, due):
    ref = do(
        engine, sv.register_signal, pupil_ref=pupil(engine), school_code="40AB", source="school", domains=domains,
        urgency=urgency, actor="PRF-1", received_on=received, today=received, policy=POLICY,
    ).case_ref  # fmt: skip
    assert _triage_due(engine, ref) == due


@pytest.mark.parametrize(("urgency", "domains"), [("acuut", ["gedrag"]), ("normaal", ["veiligheid"])])
def test_an_acute_or_safety_signal_joining_a_case_brings_its_triage_forward(engine, urgency, domains):
    pupil_ref = pupil(engine)
    ref = signal(engine, pupil_ref, on=dt.date(2026, 11, 23)).case_ref  # normal: due 7 December
    assert _triage_due(engine, ref) == dt.date(2026, 12, 7)
    friday = dt.date(2026, 11, 27)
    joined = do(
        engine, sv.register_signal, pupil_ref=pupil_ref, school_code="40AB", source="ouder", domains=domains,
        urgency=urgency, actor="PRF-1", received_on=friday, today=friday, policy=POLICY,
    )  # fmt: skip
    assert joined.joined and _triage_due(engine, ref) == friday


def test_the_database_allows_one_open_case_per_pupil(engine):
    first = signal(engine, pupil(engine))
    with Session(engine) as s, pytest.raises(sa.exc.IntegrityError):
        existing = s.exec(select(Case).where(Case.ref == first.case_ref)).one()
        s.add(
            Case(
                pupil_id=existing.pupil_id,
                school_code="40AB",
                state=CaseState.PLANNING.value,
                urgency="normaal",
                opened_on=TODAY,
            )
        )
        s.commit()


def test_activation_needs_the_consent_of_the_age_at_activation(engine):
    # 11 when the parents consent, 12 when the arrangement would start: the pupil must consent too
    born = dt.date(2014, 11, 25)
    ref = signal(engine, pupil(engine, born=born)).case_ref
    do(engine, sv.triage, case_ref=ref, outcome="oja", level=1, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    plan(engine, ref)
    consent(engine, ref, "ouder_1")
    assert consent(engine, ref, "ouder_2").state == CaseState.CONSENTED
    before = counts(engine)
    with pytest.raises(ConsentMissing) as raised:
        do(engine, sv.activate, case_ref=ref, actor="PRF-1", today=dt.date(2026, 11, 25))
    assert raised.value.missing == ("leerling",)
    assert counts(engine) == before


def test_consent_from_a_parent_without_authority_is_refused(engine):
    ref = signal(engine, pupil(engine, parents=("Ouder A",))).case_ref
    do(engine, sv.triage, case_ref=ref, outcome="oja", level=1, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    plan(engine, ref)
    with pytest.raises(InvalidInput) as raised:
        consent(engine, ref, "ouder_2")
    assert raised.value.field == "party" and "gezag" in raised.value.rule


def _active_case(engine) -> str:
    # 17: the pupil consents alone
    return active_case(
        engine, school="40AB", coordinator="PRF-1", bsn="111222333", born=dt.date(2009, 1, 1), today=TODAY
    )


REFUSALS = {
    "unknown school": (
        sv.register_signal,
        dict(
            pupil_ref="LL-000001",
            school_code="99ZZ",
            source="school",
            domains=["leren"],
            urgency="normaal",
            actor="PRF-1",
            received_on=TODAY,
            today=TODAY,
            policy=POLICY,
        ),
        "school_code",
    ),
    "unknown actor": (sv.activate, dict(actor="PRF-404", today=TODAY), "actor"),
    "signal from the future": (
        sv.register_signal,
        dict(
            pupil_ref="LL-000001",
            school_code="40AB",
            source="school",
            domains=["leren"],
            urgency="normaal",
            actor="PRF-1",
            received_on=TODAY + dt.timedelta(days=1),
            today=TODAY,
            policy=POLICY,
        ),
        "received_on",
    ),
    "unknown provider": (
        sv.draft_plan,
        dict(
            goals=[sv.GoalSpec("leren")],
            interventions=[sv.InterventionSpec("NOPE", 2)],
            regie_holder="PRF-1",
            start_on=TODAY,
            planned_end_on=TODAY + dt.timedelta(weeks=4),
            actor="PRF-1",
            today=TODAY,
            policy=POLICY,
        ),
        "interventions[1].provider_code",
    ),
    "too many hours": (
        sv.draft_plan,
        dict(
            goals=[sv.GoalSpec("leren")],
            interventions=[sv.InterventionSpec("PRV-A", 60)],
            regie_holder="PRF-1",
            start_on=TODAY,
            planned_end_on=TODAY + dt.timedelta(weeks=4),
            actor="PRF-1",
            today=TODAY,
            policy=POLICY,
        ),
        "interventions[1].hours_per_week",
    ),
    "plan starting in the past": (
        sv.draft_plan,
        dict(
            goals=[sv.GoalSpec("leren")],
            interventions=[sv.InterventionSpec("PRV-A", 2)],
            regie_holder="PRF-1",
            start_on=TODAY - dt.timedelta(days=1),
            planned_end_on=TODAY + dt.timedelta(weeks=4),
            actor="PRF-1",
            today=TODAY,
            policy=POLICY,
        ),
        "start_on",
    ),
    "gas out of range": (
        sv.record_review,
        dict(held_on=TODAY, actor="PRF-2", today=TODAY, gas_scores={1: 3}),
        "gas_scores[1]",
    ),
    "review before activation": (
        sv.record_review,
        dict(held_on=TODAY - dt.timedelta(days=7), actor="PRF-2", today=TODAY),
        "held_on",
    ),
    "scale up beyond the ladder": (None, None, "new_level"),
}


@pytest.mark.parametrize("kind", list(REFUSALS))
def test_a_refusal_names_the_field_and_writes_nothing(engine, kind):
    ref = _active_case(engine)
    use_case, kwargs, field = REFUSALS[kind]
    if kind == "scale up beyond the ladder":
        do(engine, sv.record_review, case_ref=ref, held_on=TODAY, actor="PRF-2", today=TODAY)
        use_case, kwargs = sv.decide, dict(kind="opschalen", new_level=4, actor="PRF-1", today=TODAY, **OVERRIDE)
        kwargs["policy"] = POLICY
    if "pupil_ref" not in kwargs:
        kwargs = {"case_ref": ref, **kwargs}
    if kind == "review before activation":
        with unit_of_work(engine) as s:  # pretend the arrangement started later than the review date
            case = s.exec(select(Case).where(Case.ref == ref)).one()
            case.activated_on = TODAY
            s.add(case)
    if use_case is sv.draft_plan:  # a plan is drafted while planning: use a fresh case in that state
        fresh = signal(engine, pupil(engine, bsn="123456782")).case_ref
        do(
            engine,
            sv.triage,
            case_ref=fresh,
            outcome="oja",
            level=1,
            actor="PRF-1",
            today=TODAY,
            policy=sv.DEFAULT_POLICY,
        )
        kwargs = {**kwargs, "case_ref": fresh}
    before = counts(engine)
    with pytest.raises(InvalidInput) as raised:
        do(engine, use_case, **kwargs)
    assert raised.value.field == field
    assert counts(engine) == before


def test_an_illegal_transition_writes_nothing(engine):
    ref = _active_case(engine)
    before = counts(engine)
    with pytest.raises(IllegalTransition) as raised:
        do(engine, sv.decide, case_ref=ref, kind="voortzetten", actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    allowed = (Action.JOIN_SIGNAL, Action.RECORD_REVIEW, Action.WITHDRAW_CONSENT, Action.ESCALATE, Action.CLOSE)
    assert f"mogelijk: {', '.join(action_word(a) for a in allowed)}" in str(raised.value)  # in words
    assert counts(engine) == before


def test_an_unknown_case_is_named(engine):
    with pytest.raises(UnknownReference) as raised:
        do(engine, sv.activate, case_ref="OJA-2026-999999", actor="PRF-1", today=TODAY)
    assert raised.value.field == "case_ref" and isinstance(raised.value, OjaError)


def test_a_decision_on_a_case_without_its_own_cadence_plans_the_next_review_by_the_policy(engine):
    from models.schooldays import add_school_weeks, next_school_day

    ref = active_case(
        engine,
        school="40AB",
        coordinator="PRF-1",
        worker="PRF-2",
        bsn="111222333",
        born=dt.date(2014, 6, 15),
        today=TODAY,
        parents=("Ouder A", "Ouder B"),
    )
    for weeks in (8, 3):
        do(engine, sv.record_review, case_ref=ref, held_on=TODAY, actor="PRF-2", today=TODAY, gas_scores={1: 0})
        with unit_of_work(engine) as s:
            case = s.exec(select(Case).where(Case.ref == ref)).one()
            case.review_cadence_weeks = None
            s.add(case)
        policy = Policy(review_cadence_weeks=weeks)
        do(engine, sv.decide, case_ref=ref, kind="voortzetten", actor="PRF-1", today=TODAY, policy=policy)
        with Session(engine) as s:
            case = s.exec(select(Case).where(Case.ref == ref)).one()
            region = kernel.case_calendar(s, case)
            assert case.next_review_on == add_school_weeks(next_school_day(TODAY, region), weeks, region)
