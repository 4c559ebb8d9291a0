"""03 Plan opstellen can start a case in a group arrangement: the run's result names the group, a wrong group is
refused in Dutch naming the field and every rule it breaks (issue 23, item 19)."""

from __future__ import annotations

import datetime as dt

import pytest

from flows import forms
from flows import intake as f_intake
from flows import planning as f_planning
from models.schooldays import today as amsterdam_today
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from tests.flows.test_run_results import _artifacts, _run

pytestmark = pytest.mark.prefect


def _triaged(url: str, bsn: str, level: int) -> str:
    today = amsterdam_today()
    with unit_of_work(get_engine(url)) as s:
        pupil = sv.register_pupil(
            s, given_name="Gijs", family_name="Groepsplan", birth_date=dt.date(today.year - 15, 2, 2), bsn=bsn,
            school_code="20XY", municipality_code="GM0164", parents=[sv.ParentSpec("Ouder 1")], today=today,
        )  # fmt: skip
    ref = f_intake.register_signal(
        form=forms.RegisterSignal(
            pupil_ref=pupil, school_code="20XY", source="school", domains=["leren"], actor="PRF-T1"
        )
    )["case_ref"]
    f_intake.triage(form=forms.Triage(case_ref=ref, outcome="oja", level=level, actor="PRF-T1"))
    return ref


def _plan(ref: str, group_code: str | None):
    today = amsterdam_today()
    return f_planning.draft_plan(
        form=forms.DraftPlan(
            case_ref=ref, goals=[forms.GoalForm(domain="leren")],
            interventions=[forms.InterventionForm(provider_code="PRV-A", hours_per_week=1, setting="groep")],
            regie_holder="PRF-T1", start_on=today, planned_end_on=today + dt.timedelta(weeks=12),
            group_code=group_code, actor="PRF-T1",
        ),
        return_state=True,
    )  # fmt: skip


def test_a_plan_starts_the_case_in_a_group_and_a_wrong_group_is_refused_with_every_rule(engine_url):
    with unit_of_work(get_engine(engine_url)) as s:
        sv.upsert_group(
            s, code="GRP-PLAN", provider_code="PRV-A", professional_code="PRF-T2", capacity=2, hours_per_week=2,
            school_code="20XY",
        )  # fmt: skip
    ref = _triaged(engine_url, "100000903", level=1)
    state = _plan(ref, "GRP-PLAN")
    assert state.is_completed(), state.message
    [shown] = _artifacts(_run(state).id)
    assert "| Groepsarrangement | GRP-PLAN |" in shown

    other = _triaged(engine_url, "100000915", level=2)
    refused = _plan(other, "GRP-PLAN")
    assert refused.is_failed()
    assert "Groepsarrangement (alleen bij niveau 1) (group_code): een groep is voor niveau 1" in refused.message
    assert "deze casus heeft niveau 2" in refused.message
    assert "Traceback" not in refused.message
