"""After a varied history written through the use cases, every code stored is a member of its column's enum."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.errors import AccessDenied
from models.lifecycle import AuditAction, CaseState
from models.tables import Case
from notifications.render import render
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services import calendar, retention, sweep
from oja.services.audit import NO_STATE
from tests.factories import active_case
from tests.integration.test_services import POLICY, TODAY, do
from tests.unit.test_vocabulary import CODE_COLUMNS

OVERRIDE = {"override_reason": "professioneel_oordeel"}


@pytest.fixture
def history(engine):
    """Referrals accepted and declined, returns, closing and reopening, a refusal, a moved deadline, erasure
    requests, reminders and their messages."""
    with unit_of_work(engine) as s:
        sv.upsert_school(s, code="50CD", name="Andere School", holiday_region="noord", municipality_code="GM0164")
        sv.upsert_professional(s, code="PRF-OS", name="Elders", role="zorgcoordinator", school_code="50CD")
        sv.upsert_professional(s, code="PRF-WT", name="Wijkcoach", role="wijkteam", municipality_code="GM0164",
                               email="wijkteam@hengelo.example")  # fmt: skip
    case = dict(school="40AB", coordinator="PRF-1", born=dt.date(2014, 6, 15), today=TODAY, worker="PRF-2")
    day = dict(actor="PRF-1", today=TODAY)

    declined = active_case(engine, bsn="111222333", parents=("Ouder A",), **case)
    do(engine, sv.record_measurement, case_ref=declined, goal_number=1, value=1, measured_on=TODAY, **day)
    do(engine, sv.record_review, case_ref=declined, held_on=TODAY, gas_scores={1: -2}, **day)
    with Session(engine) as s:
        advice = sv.recommendation(s, case_ref=declined, policy=sv.DEFAULT_POLICY)
    do(
        engine, sv.decide, case_ref=declined, kind=advice.kind, **day, policy=sv.DEFAULT_POLICY
    )  # as recommended: its rule is stored
    do(engine, sv.record_review, case_ref=declined, held_on=TODAY, gas_scores={1: 0}, pupil_view="positief", **day)
    do(engine, sv.decide, case_ref=declined, kind="specialistische_zorg", **OVERRIDE, **day, policy=sv.DEFAULT_POLICY)
    do(engine, sv.respond_to_referral, case_ref=declined, accepted=False, level_on_decline=2, actor="PRF-WT",
       today=TODAY, policy=sv.DEFAULT_POLICY)  # fmt: skip
    do(
        engine,
        sv.decide,
        case_ref=declined,
        kind="afsluiten",
        end_reason="volgens_plan",
        **day,
        policy=sv.DEFAULT_POLICY,
    )
    do(engine, sv.reopen, case_ref=declined, policy=POLICY, **day)
    do(
        engine,
        sv.triage,
        case_ref=declined,
        outcome="geen_actie",
        no_action_reason="al_hulp_elders",
        **day,
        policy=sv.DEFAULT_POLICY,
    )

    accepted = active_case(engine, bsn="123456782", parents=("Ouder B",), **case)
    with pytest.raises(AccessDenied):
        sv.execute(sv.refer, engine, case_ref=accepted, actor="PRF-OS", today=TODAY)
    do(engine, sv.refer, case_ref=accepted, **day)
    do(
        engine,
        sv.respond_to_referral,
        case_ref=accepted,
        accepted=True,
        actor="PRF-WT",
        today=TODAY,
        policy=sv.DEFAULT_POLICY,
    )
    do(engine, sv.return_from_specialised, case_ref=accepted, level=1, **day, policy=sv.DEFAULT_POLICY)
    with Session(engine) as s:  # a study day on the day its plan is due moves the deadline
        due = s.exec(select(Case.plan_due_on).where(Case.ref == accepted)).one()
    with unit_of_work(engine) as s:
        calendar.add_closures(s, calendar.validate_closures(s, [("", "40AB", due, "studiedag")]))

    with Session(engine) as s:
        pupil = s.exec(select(Case.pupil_id).where(Case.ref == declined)).one()
        pupil_ref = f"LL-{pupil:06d}"
    request = do(engine, retention.request_erasure, pupil_ref=pupil_ref, requested_by="ouder_1", policy=POLICY, **day,
                 received_on=TODAY)  # fmt: skip
    do(
        engine,
        retention.decide_erasure,
        request_ref=request.ref,
        grant=False,
        refusal_reason="wettelijke_plicht",
        **day,
    )
    for n in range(12):
        sweep.plan_notices(engine, day=TODAY + dt.timedelta(days=n), policy=POLICY, render=render)
    return engine


def _stored(engine: sa.Engine, table: str, column: str) -> set[str]:
    with engine.connect() as conn:
        values = conn.execute(sa.text(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL")).scalars()
        return {code for value in values for code in (value.split(",") if column == "domains" else [value])}


def _strangers(engine: sa.Engine, columns) -> dict[str, set[str]]:
    found = {}
    for table, column in columns:
        allowed = {m.value for enum in CODE_COLUMNS[(table, column)] for m in enum}
        if column in ("from_state", "to_state"):
            allowed.add(NO_STATE)
        stored = _stored(engine, table, column)
        found[f"{table}.{column}"] = stored - allowed
    return {k: v for k, v in found.items() if v}


def test_every_code_stored_is_a_member_of_its_enum(history):
    assert _strangers(history, sorted(CODE_COLUMNS)) == {}
    actions = _stored(history, "auditrecord", "action")
    A = AuditAction  # noqa: N806
    assert {A.REFUSED, A.REFERRAL_ACCEPTED, A.RETURN, A.RECORD_MEASUREMENT, A.RESCHEDULED, A.ERASURE_REFUSED} <= actions
    assert _stored(history, "oja_case", "state") == {CaseState.CLOSED, CaseState.PLANNING}
    retention.apply_retention(history, today=TODAY.replace(year=TODAY.year + 21), policy=POLICY)
    assert AuditAction.DESTROYED in _stored(history, "auditrecord", "action")
    assert _strangers(history, [("auditrecord", "action")]) == {}
