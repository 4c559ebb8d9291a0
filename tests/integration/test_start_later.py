"""Issue 25, 5: after a start still to come, only the steps that can succeed now are offered; the others say from
when. The worklist, a step's result (`case_status`) and the case page read the same rule."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from models.errors import InvalidInput
from models.lifecycle import CaseState
from oja import services as sv
from oja.config import Policy
from oja.services.status import case_status, later_steps, next_steps
from oja.services.worklist import cells, steps_now, worklist
from tests.integration.test_services import TODAY, consent, do, pupil, signal

LATER = dt.date(2027, 1, 12)  # a Tuesday after the Christmas holiday (noord)


def _started_later(engine) -> str:
    ref = signal(engine, pupil(engine, born=dt.date(2009, 1, 1))).case_ref
    do(engine, sv.triage, case_ref=ref, outcome="oja", level=2, actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY)
    do(
        engine,
        sv.draft_plan,
        case_ref=ref,
        goals=[sv.GoalSpec("leren")],
        interventions=[sv.InterventionSpec("PRV-A", 2, professional_code="PRF-2")],
        regie_holder="PRF-1",
        start_on=LATER,
        planned_end_on=LATER + dt.timedelta(weeks=20),
        actor="PRF-1",
        today=TODAY,
        policy=sv.DEFAULT_POLICY,
    )
    consent(engine, ref, "leerling")
    do(engine, sv.activate, case_ref=ref, actor="PRF-1", today=TODAY)
    return ref


def test_the_rule_offers_a_review_or_a_measurement_only_from_the_start():
    active = CaseState.ACTIVE
    assert steps_now(active, "evaluatie-vastleggen", starts_on=LATER, today=TODAY) == (
        ("verwijzen-specialistische-zorg",),
        {"evaluatie-vastleggen": LATER, "meting-vastleggen": LATER},
    )
    for day in (LATER, LATER + dt.timedelta(days=1)):  # from the day it starts, every step
        offered, later = steps_now(active, "evaluatie-vastleggen", starts_on=LATER, today=day)
        assert offered == ("evaluatie-vastleggen", "meting-vastleggen", "verwijzen-specialistische-zorg")
        assert later == {}
    assert steps_now(CaseState.CONSENTED, "arrangement-starten", starts_on=None, today=TODAY)[1] == {}


def test_a_case_that_starts_later_offers_only_what_can_succeed_now(engine):
    ref = _started_later(engine)
    with Session(engine) as s:
        status = case_status(s, case_ref=ref, today=TODAY, policy=Policy())
        assert status.activated_on == LATER
        assert next_steps(status) == ("verwijzen-specialistische-zorg",)
        assert later_steps(status) == {"evaluatie-vastleggen": LATER, "meting-vastleggen": LATER}
        [row] = [r for r in worklist(s, school_code="40AB", today=TODAY, policy=Policy()) if r.case_ref == ref]
        assert row.next_step == "evaluatie-vastleggen" and row.next_step_on == LATER
        assert row.as_dict()["next_step_on"] == LATER.isoformat()
        assert cells(row)[-1] == "06 Evaluatie vastleggen (vanaf 2027-01-12)"
        on_the_day = case_status(s, case_ref=ref, today=LATER, policy=Policy())
        assert "evaluatie-vastleggen" in next_steps(on_the_day) and later_steps(on_the_day) == {}
    # what is not offered is indeed refused today, and succeeds from the day named
    with pytest.raises(InvalidInput) as refused:
        do(engine, sv.record_review, case_ref=ref, held_on=TODAY, actor="PRF-1", today=TODAY)
    assert refused.value.field == "held_on"
    assert do(engine, sv.record_review, case_ref=ref, held_on=LATER, actor="PRF-1", today=LATER).state == "geevalueerd"
