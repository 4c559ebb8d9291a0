"""A deployment renamed in prefect.yaml leaves the old one behind, still scheduled; `oja start` removes it.

Every deployment was once named `oja`: without this, an engine started again on the same Prefect database
lists each step twice and runs the old schedules next to the new ones.
"""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL

from oja.deployments import deployment_name, remove_undeclared

pytestmark = pytest.mark.prefect


def test_the_engines_deployments_that_prefect_yaml_no_longer_declares_are_removed(prefect_server):
    with get_client(sync_client=True) as client:
        reopen = client.create_flow_from_name("casus-heropenen")
        old = client.create_deployment(flow_id=reopen, name="oja")
        current = client.create_deployment(flow_id=reopen, name=deployment_name("casus-heropenen"))
        foreign = client.create_deployment(flow_id=client.create_flow_from_name("iets-anders"), name="oja")

        removed = remove_undeclared(str(PREFECT_API_URL.value()))

        left = {d.id for d in client.read_deployments()}
    assert "casus-heropenen/oja" in removed
    assert old not in left and {current, foreign} <= left  # the declared one, and another project's, stay
    assert remove_undeclared(str(PREFECT_API_URL.value())) == []  # nothing left to remove
