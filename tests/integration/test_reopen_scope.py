"""Issue 23, item 18: a closed case that is reopened starts a new episode. A plan from before the reopen no longer
makes its providers part of the case (the access check, a professional's own worklist, a pupil's scope), and the
old regie holder no longer holds regie: until a new plan names one, the school's coordinators are reminded. A new
plan brings its providers (and its regie holder) back. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.errors import AccessDenied
from models.reminders import NoticeKind
from models.tables import Case, Pupil
from models.tables_outbox import Notice
from notifications.render import render
from oja import services as sv
from oja.adapters import migrate
from oja.services import sweep
from oja.services.dossier import actor_of, case_in_scope, my_cases, pupil_in_scope
from oja.services.worklist import worklist
from tests.integration.test_services import POLICY, TODAY, consent, do, pupil, signal

LATER = dt.date(2027, 2, 1)  # a Monday after the first episode


def _plan(engine, ref: str, day: dt.date) -> None:
    """A plan with PRV-A delivering (PRF-2), and PRF-2 holding regie."""
    do(
        engine,
        sv.draft_plan,
        case_ref=ref,
        goals=[sv.GoalSpec("leren")],
        interventions=[sv.InterventionSpec("PRV-A", 2, professional_code="PRF-2")],
        regie_holder="PRF-2",
        start_on=day,
        planned_end_on=day + dt.timedelta(weeks=20),
        actor="PRF-1",
        today=day,
        policy=POLICY,
    )


def _closed_and_reopened(engine) -> str:
    """A case whose first plan had PRV-A deliver and PRF-2 hold regie, closed and reopened, triaged again to an
    arrangement: its new plan is due."""
    ref = signal(engine, pupil(engine, born=dt.date(2009, 1, 1), parents=())).case_ref  # 17: consents alone
    do(engine, sv.triage, case_ref=ref, outcome="oja", level=2, actor="PRF-1", today=TODAY, policy=POLICY)
    _plan(engine, ref, TODAY)
    consent(engine, ref, "leerling")
    do(engine, sv.activate, case_ref=ref, actor="PRF-1", today=TODAY)
    _check(engine, "PRF-2", ref)  # the provider delivers: its professional may act
    for use_case, kwargs in (
        (sv.decide, {"kind": "afsluiten", "reason_code": "volgens_plan"}),
        (sv.reopen, {}),
        (sv.triage, {"outcome": "oja", "level": 2}),
    ):
        do(engine, use_case, case_ref=ref, actor="PRF-1", today=LATER, policy=POLICY, **kwargs)
    return ref


def _check(engine, code: str, ref: str) -> None:
    with Session(engine) as s:
        case_in_scope(s, actor_of(s, code), ref, "view_case")


def test_a_provider_of_the_plan_before_the_reopen_has_no_access_to_the_reopened_case(engine):
    ref = _closed_and_reopened(engine)
    with pytest.raises(AccessDenied):
        _check(engine, "PRF-2", ref)
    with pytest.raises(AccessDenied):  # a step too, through the kernel
        do(engine, sv.triage, case_ref=ref, outcome="oja", level=2, actor="PRF-2", today=LATER, policy=POLICY)
    with Session(engine) as s:
        worker = actor_of(s, "PRF-2")
        assert [r.case_ref for r in my_cases(s, worker, today=LATER, policy=POLICY).cases] == []
        with pytest.raises(AccessDenied):
            pupil_in_scope(s, worker, _pupil_ref(s, ref))
    _check(engine, "PRF-1", ref)  # the school keeps it


def _pupil_ref(s: Session, ref: str) -> str:
    case = s.exec(select(Case).where(Case.ref == ref)).one()
    return s.exec(select(Pupil.ref).where(Pupil.id == case.pupil_id)).one()


def test_a_new_plan_after_the_reopen_brings_its_provider_back(engine):
    ref = _closed_and_reopened(engine)
    _plan(engine, ref, LATER)
    _check(engine, "PRF-2", ref)
    with Session(engine) as s:
        assert [r.case_ref for r in my_cases(s, actor_of(s, "PRF-2"), today=LATER, policy=POLICY).cases] == [ref]
        assert s.exec(select(Case.regie_holder_code).where(Case.ref == ref)).one() == "PRF-2"


def test_a_reopened_case_has_no_regie_holder_until_a_new_plan_and_its_reminders_go_to_the_coordinators(engine):
    ref = _closed_and_reopened(engine)
    with Session(engine) as s:
        assert s.exec(select(Case.regie_holder_code).where(Case.ref == ref)).one() is None
        [row] = [r for r in worklist(s, school_code="40AB", today=LATER, policy=POLICY) if r.case_ref == ref]
        assert row.regie_holder is None
    late = LATER + dt.timedelta(weeks=5)  # past the plan's deadline (15 school days)
    sweep.plan_notices(engine, day=late, policy=POLICY, render=render)
    with Session(engine) as s:
        found = s.exec(select(Notice.recipient_code).where(Notice.kind == NoticeKind.PLAN_LATE.value)).all()
    assert found == ["PRF-1"]


def test_migration_0011_finds_the_episode_of_a_case_reopened_before_it(engine):
    """A case reopened under 0010 kept its old regie holder and had no episode: 0011 reads both from the audit."""
    ref = _closed_and_reopened(engine)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    migrate.downgrade(url, "0010")
    with engine.begin() as conn:  # as the engine before 0011 left it
        conn.execute(sa.text("UPDATE oja_case SET regie_holder_code = 'PRF-2' WHERE ref = :ref"), {"ref": ref})
    engine.dispose()
    migrate.upgrade(url)
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        assert (case.reopened_after_plan, case.regie_holder_code) == (1, None)
    with pytest.raises(AccessDenied):
        _check(engine, "PRF-2", ref)
