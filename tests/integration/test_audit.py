"""Audit completeness: every legal transition writes exactly one audit record with actor, time, from, to, reason."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from models.lifecycle import TRANSITIONS
from models.tables import AuditRecord, Case, Professional, Pupil
from oja import services as sv
from oja.db import unit_of_work
from tests.integration.test_services import TODAY, pupil


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
                s.add(Case(ref=ref, pupil_id=pupil_id, school_code="40AB", state="closed", level=2,
                           urgency="normaal", opened_on=TODAY))  # fmt: skip
            with unit_of_work(engine) as s:
                case = s.exec(select(Case).where(Case.ref == ref)).one()
                case.state = state.value
                t0 = dt.datetime.now(dt.UTC)
                result = sv._transition(s, case, action, s.get(Professional, "PRF-1"))
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
                case.state = "closed"
    assert n == sum(len(m) for m in TRANSITIONS.values()) and n > 20
