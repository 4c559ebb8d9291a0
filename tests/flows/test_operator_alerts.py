"""A late sweep is loud: the Prefect server itself tells the operators, without any worker."""

from __future__ import annotations

import json
import time

import pendulum
from prefect.client.orchestration import get_client
from prefect.states import Late

from oja.alerts import AUTOMATION_NAME, late_sweep_automation
from oja.config import get_settings
from tests.smtp import SMTPServer


def _deploy(client, flow_name: str):
    """A deployment as prefect.yaml makes it: named `oja`, told apart by its flow."""
    flow_id = client.create_flow_from_name(flow_name)
    return client.create_deployment(flow_id=flow_id, name="oja")


def test_a_late_sweep_run_mails_the_operators(prefect_server, monkeypatch):
    operators = SMTPServer()
    operators.start()
    try:
        monkeypatch.setenv("OJA_OPERATOR_URLS", json.dumps([operators.url + "&to=ops@region.example"]))
        get_settings.cache_clear()
        with get_client(sync_client=True) as client:
            deployment_id = _deploy(client, "dagelijkse-herinneringen")
            automation = late_sweep_automation(get_settings())
            assert automation is not None and automation.name == AUTOMATION_NAME
            again = late_sweep_automation(get_settings())  # installing twice replaces, never doubles
            assert [a.id for a in client.read_automations_by_name(AUTOMATION_NAME)] == [again.id]

            time.sleep(2)  # the server's trigger service loads the automation
            run = client.create_flow_run_from_deployment(deployment_id, name="sweep-2027-01-04")
            client.set_flow_run_state(run.id, Late(scheduled_time=pendulum.now("UTC").subtract(minutes=30)), force=True)

            deadline = time.monotonic() + 30
            while not operators.messages and time.monotonic() < deadline:
                time.sleep(0.5)
        [alert] = operators.messages
        assert alert.rcpt_tos == ["ops@region.example"]
        assert "sweep-2027-01-04" in alert.subject and "te laat" in alert.subject
        assert "worker" in alert.text
    finally:
        operators.stop()
        get_settings.cache_clear()


def test_without_operator_urls_nothing_is_installed(prefect_server, monkeypatch):
    monkeypatch.delenv("OJA_OPERATOR_URLS", raising=False)
    get_settings.cache_clear()
    assert late_sweep_automation(get_settings()) is None
