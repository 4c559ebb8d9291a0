"""The monitoring deployment publishes its tables as keyed artifacts."""

from __future__ import annotations

import json

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows.monitoring import daily_monitoring
from models.schooldays import today as amsterdam_today

pytestmark = pytest.mark.prefect


def test_the_monitoring_flow_publishes_keyed_tables_with_small_numbers_hidden(engine_url, pupils):
    result = daily_monitoring(day=amsterdam_today())
    assert set(result) == {
        "oja-caseload-per-school",
        "oja-tijdigheid-per-school",
        "oja-evaluaties-per-school",
        "oja-caseload-aanbieder-gemeente",
        "oja-uitkomsten",
        "oja-uren-en-kosten",
        "oja-groepsarrangementen",
        "oja-besluiten",
    }
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["oja-caseload-per-school"])), limit=1
        )
    table = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    assert artifact.type == "table"
    school = next(row for row in table if row["school"] == "20XY")
    # the test school has fewer than 6 open cases: nothing about it is shown as a number
    assert all(value in ("0", "≤5") for key, value in school.items() if key != "school")
