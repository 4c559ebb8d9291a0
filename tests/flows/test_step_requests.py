"""A step asks the Prefect server as little as it can: its one process serves every run (issue 27)."""

from __future__ import annotations

import datetime as dt

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    ArtifactFilter,
    ArtifactFilterFlowRunId,
)

from flows import forms
from flows import review as f_review
from models.schooldays import today as amsterdam_today
from oja.adapters.db import get_engine
from tests.factories import active_case
from tests.flows.test_worklist_flow import _deployment

pytestmark = pytest.mark.prefect


def test_a_step_looks_its_deployments_up_once_for_its_result_and_its_schools_worklist(engine_url, monkeypatch):
    """The result's links and the worklist's (published by the run's on-completion hook) go to the same deployments:
    read once per run, not once for each (a look-up is two requests: the deployments, and their flows' names)."""
    today = amsterdam_today()
    ref = active_case(
        get_engine(engine_url), school="20XY", coordinator="PRF-T1", bsn="100000289", born=dt.date(2012, 3, 4),
        parents=("Ouder Aanvraag",), today=today,
    )  # fmt: skip
    deployment_id = _deployment("evaluatie-vastleggen")
    lookups: list[object] = []
    read_deployments = SyncPrefectClient.read_deployments

    def counted(self: SyncPrefectClient, *args: object, **kwargs: object) -> object:
        lookups.append(kwargs.get("flow_filter"))
        return read_deployments(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SyncPrefectClient, "read_deployments", counted)
    state = f_review.record_measurement(
        form=forms.RecordMeasurement(case_ref=ref, goal_number=1, value=1, actor="PRF-T1"), return_state=True
    )
    monkeypatch.undo()
    assert state.is_completed(), state.message
    assert len(lookups) == 1

    link = f"/deployments/deployment/{deployment_id}/run?parameters="
    with get_client(sync_client=True) as client:
        [result] = [
            a.data
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
                )
            )
            if a.type == "markdown" and not a.key  # the worklists have keys
        ]
        [worklist] = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=["werklijst-20xy"]))
        )
    assert link in result  # the result links the review's form
    [line] = [line for line in worklist.data.splitlines() if ref in line]
    assert link in line  # and so does the case's row on the school's worklist, published after Completed
