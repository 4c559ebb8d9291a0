"""Escalation follows the referral until the district team answers; group arrangements keep their places right."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from models.errors import InvalidInput
from models.lifecycle import AuditAction, CaseState
from models.reminders import NoticeKind
from models.tables import AuditRecord, Case, GroupMember, Referral
from models.tables_outbox import Notice, Outbox
from models.vocabulary import ReferralStatus
from notifications.render import render
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy
from oja.services import sweep
from tests.factories import active_case
from tests.integration.test_services import TODAY, _active_case, counts, do

# decisions after a review that are not (or need not be) what the engine recommends carry a reason
OVERRIDE = {"override_reason": "professioneel_oordeel"}


@pytest.fixture
def region(engine):
    with unit_of_work(engine) as s:
        sv.upsert_municipality(s, code="GM0147", name="Borne")
        sv.upsert_professional(
            s,
            code="PRF-WT",
            name="Wijkcoach",
            role="wijkteam",
            municipality_code="GM0164",
            email="wijkteam@hengelo.example",
        )
        sv.upsert_professional(s, code="PRF-WB", name="Wijkcoach Borne", role="wijkteam", municipality_code="GM0147")
        sv.upsert_group(
            s,
            code="GRP-1",
            provider_code="PRV-A",
            professional_code="PRF-2",
            capacity=2,
            hours_per_week=3,
            school_code="40AB",
        )
    return engine


def _escalated(engine) -> str:
    ref = _active_case(engine)
    do(engine, sv.refer, case_ref=ref, actor="PRF-1", today=TODAY)
    return ref


def test_an_escalation_tells_the_district_team_of_the_pupils_municipality_in_the_same_transaction(region):
    ref = _escalated(region)
    with Session(region) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        notices = s.exec(select(Notice).where(Notice.case_id == case.id)).all()
        assert [(n.kind, n.recipient_code) for n in notices] == [(NoticeKind.REFERRAL_SENT, "PRF-WT")]
        message = s.get(Outbox, notices[0].outbox_id)
    assert message.to_address == "wijkteam@hengelo.example"
    assert ref in message.text and "Nieuwe verwijzing naar specialistische zorg" in message.text
    assert "Anna" not in message.text and "Test" not in message.html


def test_the_district_team_accepts_and_the_case_stays_in_specialised_care(region):
    ref = _escalated(region)
    outcome = do(
        region,
        sv.respond_to_referral,
        case_ref=ref,
        accepted=True,
        actor="PRF-WT",
        today=TODAY,
        policy=sv.DEFAULT_POLICY,
    )
    assert (outcome.state, outcome.action) == (CaseState.ESCALATED, AuditAction.REFERRAL_ACCEPTED)
    with Session(region) as s:
        referral = s.exec(select(Referral)).one()
    assert (referral.status, referral.responded_by) == (ReferralStatus.ACCEPTED, "PRF-WT")


def test_a_declined_referral_brings_the_case_back_to_school(region):
    ref = _escalated(region)
    outcome = do(
        region,
        sv.respond_to_referral,
        case_ref=ref,
        accepted=False,
        level_on_decline=3,
        actor="PRF-WT",
        today=TODAY,
        policy=sv.DEFAULT_POLICY,
    )
    assert (outcome.state, outcome.level) == (CaseState.PLANNING, 3)


def test_a_level_given_with_an_accepted_referral_is_refused_not_dropped(region):
    """Issue 25 (3), the same cause: a level "bij afwijzing" on an acceptance has nothing to apply to."""
    ref = _escalated(region)
    before = counts(region)
    with pytest.raises(InvalidInput) as raised:
        do(region, sv.respond_to_referral, case_ref=ref, accepted=True, level_on_decline=1, actor="PRF-WT",
           today=TODAY, policy=sv.DEFAULT_POLICY)  # fmt: skip
    assert (raised.value.field, raised.value.rule) == (
        "level_on_decline",
        "een niveau op school hoort alleen bij afwijzen: bij aanvaarden blijft de leerling in specialistische zorg;"
        " laat het veld leeg",
    )
    assert counts(region) == before


def test_a_declined_referral_without_a_level_returns_at_the_highest_in_school(region):
    ref = _escalated(region)
    outcome = do(region, sv.respond_to_referral, case_ref=ref, accepted=False, actor="PRF-WT", today=TODAY,
                 policy=sv.DEFAULT_POLICY)  # fmt: skip
    assert (outcome.state, outcome.level) == (CaseState.PLANNING, 3)


@pytest.mark.parametrize("actor", ["PRF-1", "PRF-WB"])
def test_only_the_district_team_of_the_municipality_answers(region, actor):
    ref = _escalated(region)
    before = counts(region)
    with pytest.raises(InvalidInput) as raised:
        do(
            region,
            sv.respond_to_referral,
            case_ref=ref,
            accepted=True,
            actor=actor,
            today=TODAY,
            policy=sv.DEFAULT_POLICY,
        )
    assert raised.value.field == "actor"
    after = counts(region)
    assert after.pop("auditrecord") == before.pop("auditrecord") + 1 and after == before  # only the refusal
    with Session(region) as s:
        refusal = s.exec(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert (refusal.case_ref, refusal.actor, refusal.action) == (ref, actor, AuditAction.REFUSED)


def test_an_unanswered_referral_is_followed_up_once_after_five_school_days(region):
    _escalated(region)  # referred on Monday 23 November 2026
    policy = Policy()
    days = {}
    for day in (dt.date(2026, 11, 27), dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 2)):
        report = sweep.plan_notices(region, day=day, policy=policy, render=render)
        days[day] = report.by_kind.get(NoticeKind.REFERRAL_OPEN, 0)
    assert days == {
        dt.date(2026, 11, 27): 0,
        dt.date(2026, 11, 30): 0,
        dt.date(2026, 12, 1): 1,
        dt.date(2026, 12, 2): 0,
    }


def _case_at_level_2(engine, bsn: str) -> str:
    ref = active_case(  # 17: the pupil consents alone
        engine, school="40AB", coordinator="PRF-1", bsn=bsn, born=dt.date(2009, 1, 1), today=TODAY,
        parents=("Ouder A", "Ouder B"), names=("Anna", "Test"),
    )  # fmt: skip
    do(engine, sv.record_review, case_ref=ref, held_on=TODAY, actor="PRF-2", today=TODAY)
    return ref


def test_scaling_down_into_a_full_group_is_refused_and_leaving_it_frees_a_place(region):
    refs = [_case_at_level_2(region, bsn) for bsn in ("100000009", "100000022", "100000034")]
    for ref in refs[:2]:
        assert (
            do(
                region,
                sv.decide,
                case_ref=ref,
                kind="afschalen",
                new_level=1,
                group_code="GRP-1",
                actor="PRF-1",
                today=TODAY,
                **OVERRIDE,
                policy=sv.DEFAULT_POLICY,
            ).level
            == 1
        )
    before = counts(region)
    with pytest.raises(InvalidInput) as raised:
        do(
            region,
            sv.decide,
            case_ref=refs[2],
            kind="afschalen",
            new_level=1,
            group_code="GRP-1",
            actor="PRF-1",
            today=TODAY,
            **OVERRIDE,
            policy=sv.DEFAULT_POLICY,
        )
    assert raised.value.field == "group_code" and "vol (2 plaatsen)" in raised.value.rule
    assert counts(region) == before
    # one pupil scales up out of the group: the place comes free
    do(region, sv.record_review, case_ref=refs[0], held_on=TODAY, actor="PRF-2", today=TODAY)
    do(
        region,
        sv.decide,
        case_ref=refs[0],
        kind="opschalen",
        new_level=2,
        actor="PRF-1",
        today=TODAY,
        **OVERRIDE,
        policy=sv.DEFAULT_POLICY,
    )
    do(
        region,
        sv.decide,
        case_ref=refs[2],
        kind="afschalen",
        new_level=1,
        group_code="GRP-1",
        actor="PRF-1",
        today=TODAY,
        **OVERRIDE,
        policy=sv.DEFAULT_POLICY,
    )
    with Session(region) as s:
        current = s.exec(select(GroupMember).where(GroupMember.left_on.is_(None))).all()
    assert len(current) == 2


def test_a_group_place_is_for_level_one_only(region):
    ref = _case_at_level_2(region, "100000009")
    with pytest.raises(InvalidInput) as raised:
        do(
            region,
            sv.decide,
            case_ref=ref,
            kind="voortzetten",
            group_code="GRP-1",
            actor="PRF-1",
            today=TODAY,
            policy=sv.DEFAULT_POLICY,
        )
    assert raised.value.field == "group_code"
