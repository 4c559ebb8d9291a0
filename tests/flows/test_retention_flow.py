"""Erasure requests and the retention sweep as real flow runs: codes in, codes out, refusals named."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from flows import forms
from flows import retention as fr
from models.lifecycle import AuditAction
from models.schooldays import today as amsterdam_today
from models.tables import AuditRecord, Case, ErasureRequest, Pupil
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from tests.factories import active_case

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
    assert actions == [AuditAction.ERASURE_REQUESTED, AuditAction.ERASURE_GRANTED]


def _age(engine, case_ref: str, *, years: int) -> None:
    """Make a dossier's last change (the case and the pupil's registration) `years` years and a week old."""
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=365 * years + years // 4 + 7)
    with Session(engine) as s:
        pupil_id = s.exec(select(Case.pupil_id).where(Case.ref == case_ref)).one()
        s.exec(sa.update(Case).where(Case.ref == case_ref).values(updated_at=then))
        s.exec(sa.update(Pupil).where(Pupil.id == pupil_id).values(created_at=then))
        s.commit()


def _pupil_of(engine, case_ref: str) -> Pupil:
    with Session(engine) as s:
        return s.exec(select(Pupil).join(Case, Case.pupil_id == Pupil.id).where(Case.ref == case_ref)).one()


def test_the_retention_flow_destroys_an_expired_dossier_and_nothing_young_or_open(engine_url):
    engine, today = get_engine(engine_url), amsterdam_today()
    cases = {}
    for key, bsn in (("expired", "200000032"), ("young", "200000044"), ("open", "200000056")):
        cases[key] = active_case(  # 16 or over: the pupil consents alone
            engine, school="20XY", coordinator="PRF-T1", bsn=bsn, born=dt.date(today.year - 17, 5, 5), today=today,
            names=("Bewaar", key.capitalize()),
        )  # fmt: skip
    for key in ("expired", "young"):
        with unit_of_work(engine) as s:
            sv.decide(
                s,
                case_ref=cases[key],
                kind="afsluiten",
                end_reason="volgens_plan",
                actor="PRF-T1",
                today=today,
                policy=sv.DEFAULT_POLICY,
            )
    _age(engine, cases["expired"], years=21)
    _age(engine, cases["open"], years=21)  # old, but its case is open

    assert fr.apply_retention() == {"pupils": 1, "cases": 1}

    gone = _pupil_of(engine, cases["expired"])
    assert (gone.given_name, gone.family_name, gone.bsn, gone.birth_date) == ("", "", None, None)
    assert gone.destroyed_on == today
    with Session(engine) as s:
        trail = s.exec(select(AuditRecord).where(AuditRecord.case_ref == cases["expired"]).order_by(AuditRecord.id))
        last = trail.all()[-1]
    assert (last.action, last.actor) == (AuditAction.DESTROYED, "SYSTEEM") and "20 jaar" in last.reason
    for key, bsn in (("young", "200000044"), ("open", "200000056")):
        kept = _pupil_of(engine, cases[key])
        assert (kept.given_name, kept.bsn, kept.destroyed_on) == ("Bewaar", bsn, None)
    assert fr.apply_retention() == {"pupils": 0, "cases": 0}  # nothing is destroyed twice


def _result_of(state) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    only_this_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=only_this_run)
    [shown] = [a.data for a in found if a.type == "markdown" and not a.key]
    return shown


def test_the_erasure_steps_show_what_changed_and_what_comes_next(engine_url):
    """Issue 23 (15): steps 13 and 14 showed no result on the run, unlike every other step."""
    today = amsterdam_today()
    with unit_of_work(get_engine(engine_url)) as s:
        ref = sv.register_pupil(
            s, given_name="Maartje", family_name="Vennegoor", birth_date=dt.date(today.year - 14, 5, 5),
            bsn="100000113", school_code="20XY", municipality_code="GM0147", today=today,
        )  # fmt: skip
    state = fr.request_erasure(
        form=forms.RequestErasure(pupil_ref=ref, requested_by="leerling", actor="PRF-T1"), return_state=True
    )
    request = state.result()["request_ref"]
    shown = _result_of(state)
    due = dt.date.fromisoformat(state.result()["due_on"])
    assert shown.startswith(f"## Verzoek vernietiging: {request}")
    assert f"| Leerling | {ref} |" in shown and "| Besluit | nog te nemen |" in shown
    assert f"uiterlijk {due.isoformat()}" in shown.replace(")", "") or f"({due.isoformat()})" in shown
    assert "herinnering" in shown and "Besluit vernietiging" in shown  # what comes next, and its step
    assert "Maartje" not in shown and "Vennegoor" not in shown
    assert state.message.startswith(f"{request}: verzoek om vernietiging geregistreerd")
    assert "Artifacts" in state.message

    state = fr.decide_erasure(
        form=forms.DecideErasure(request_ref=request, grant=False, refusal_reason="wettelijke_plicht", actor="PRF-T1"),
        return_state=True,
    )
    shown = _result_of(state)
    assert shown.startswith(f"## Besluit vernietiging: {request}")
    assert "| Besluit | afgewezen |" in shown and "wettelijke plicht" in shown
    assert "blijft bewaard" in shown and "laat de verzoeker" in shown.lower()
    assert state.message.startswith(f"{request}: verzoek om vernietiging afgewezen")
