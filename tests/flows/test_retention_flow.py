"""Erasure requests and the retention sweep as real flow runs: codes in, codes out, refusals named."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from flows import forms
from flows import retention as fr
from models.schooldays import today as amsterdam_today
from models.tables import AuditRecord, ErasureRequest, Pupil
from oja import services as sv
from oja.db import get_engine, unit_of_work

pytestmark = pytest.mark.prefect


def test_an_erasure_request_is_registered_refused_without_reason_and_granted(engine_url):
    today = amsterdam_today()
    with unit_of_work(get_engine(engine_url)) as s:
        ref = sv.register_pupil(
            s, given_name="Wessel", family_name="Oudeboerrigter", birth_date=dt.date(today.year - 13, 2, 2),
            bsn="200000019", school_code="20XY", municipality_code="GM0147", today=today,
        )  # fmt: skip
    request = fr.request_erasure(form=forms.RequestErasure(pupil_ref=ref, requested_by="leerling", actor="PRF-T1"))
    assert request["request_ref"].startswith(f"VV-{today.year}-") and request["outcome"] is None
    assert dt.date.fromisoformat(request["due_on"]) <= today + dt.timedelta(days=92)

    refused = fr.decide_erasure(
        form=forms.DecideErasure(request_ref=request["request_ref"], grant=False, actor="PRF-T1"), return_state=True
    )
    assert refused.is_failed() and "refusal_reason" in refused.message

    granted = fr.decide_erasure(
        form=forms.DecideErasure(request_ref=request["request_ref"], grant=True, actor="PRF-T1")
    )
    assert granted["outcome"] == "toegewezen"
    with Session(get_engine(engine_url)) as s:
        pupil = s.exec(select(Pupil).where(Pupil.ref == ref)).one()
        assert (pupil.given_name, pupil.bsn, pupil.birth_date) == ("", None, None) and pupil.destroyed_on == today
        assert s.exec(select(ErasureRequest).where(ErasureRequest.pupil_ref == ref)).one().decided_by == "PRF-T1"
        actions = [a.action for a in s.exec(select(AuditRecord).where(AuditRecord.case_ref == ref))]
    assert actions == ["erasure_requested", "erasure_toegewezen"]


def test_the_retention_flow_destroys_nothing_that_is_young(engine_url):
    assert fr.apply_retention() == {"pupils": 0, "cases": 0}
