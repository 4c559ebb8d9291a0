"""Scheduled work that does not happen is loud: the Prefect server itself tells the operators, without any worker.

Two automations: a sweep or dispatch run that turns Late (reactive), and no sweep completed within the
window (proactive; 26 hours in production, 10 seconds here).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import pendulum
import pytest
from prefect.automations import Automation, DoNothing, EventTrigger, Posture
from prefect.blocks.notifications import SlackWebhook
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Completed, Late

from oja.adapters.alerts import (
    AUTOMATION_NAME,
    SILENT_AUTOMATION_NAME,
    late_sweep_automation,
    silent_sweep_automation,
)
from oja.config import get_settings
from oja.deployments import deployment_name
from tests.smtp import SMTPServer

FORMER_NAMES = ("oja-herinneringsronde-te-laat", "oja-herinneringsronde-stil")  # before issue 25


def _deploy(client, flow_name: str):
    """A deployment as prefect.yaml makes it: named after its step (`17 Herinneringsronde`)."""
    flow_id = client.create_flow_from_name(flow_name)
    return client.create_deployment(flow_id=flow_id, name=deployment_name(flow_name))


def _wait_for_mail(server: SMTPServer, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not server.messages and time.monotonic() < deadline:
        time.sleep(0.5)


@pytest.fixture
def operators(prefect_server, monkeypatch):
    """The operators' mailbox (a real SMTP server), configured as OJA_OPERATOR_URLS; alerts removed afterwards."""
    server = SMTPServer()
    server.start()
    monkeypatch.setenv("OJA_OPERATOR_URLS", json.dumps([server.url + "&to=ops@region.example"]))
    get_settings.cache_clear()
    yield server
    with get_client(sync_client=True) as client:
        for name in (AUTOMATION_NAME, SILENT_AUTOMATION_NAME):
            for existing in client.read_automations_by_name(name):
                client.delete_automation(existing.id)
    server.stop()
    get_settings.cache_clear()


def test_a_late_sweep_run_mails_the_operators(operators):
    with get_client(sync_client=True) as client:
        deployment_id = _deploy(client, "dagelijkse-herinneringen")
        automation = late_sweep_automation(get_settings())
        assert automation is not None and automation.name == AUTOMATION_NAME
        again = late_sweep_automation(get_settings())  # installing twice replaces, never doubles
        assert [a.id for a in client.read_automations_by_name(AUTOMATION_NAME)] == [again.id]

        time.sleep(2)  # the server's trigger service loads the automation
        run = client.create_flow_run_from_deployment(deployment_id, name="sweep-2027-01-04")
        client.set_flow_run_state(run.id, Late(scheduled_time=pendulum.now("UTC").subtract(minutes=30)), force=True)
        _wait_for_mail(operators, 30)
    [alert] = operators.messages
    assert alert.rcpt_tos == ["ops@region.example"]
    assert "sweep-2027-01-04" in alert.subject and "te laat" in alert.subject
    assert "worker" in alert.text


def test_without_operator_urls_nothing_is_installed(prefect_server, monkeypatch):
    monkeypatch.delenv("OJA_OPERATOR_URLS", raising=False)
    get_settings.cache_clear()
    assert late_sweep_automation(get_settings()) is None
    assert silent_sweep_automation(get_settings()) is None
    get_settings.cache_clear()


def test_no_completed_sweep_within_the_window_mails_the_operators(operators):
    """Proactive: nothing happens at all (no run is ever created), and the server still tells the operators."""
    with get_client(sync_client=True) as client:
        _deploy(client, "dagelijkse-herinneringen")
        automation = silent_sweep_automation(get_settings(), within=dt.timedelta(seconds=10))
        assert automation is not None and automation.name == SILENT_AUTOMATION_NAME
        assert [a.id for a in client.read_automations_by_name(SILENT_AUTOMATION_NAME)] == [automation.id]
    _wait_for_mail(operators, 45)
    assert operators.messages, "the proactive alert fired"
    alert = operators.messages[0]
    assert alert.rcpt_tos == ["ops@region.example"]
    assert "geen herinneringsronde voltooid" in alert.subject and "10 seconden" in alert.subject
    assert "worker" in alert.text and "pauze" in alert.text
    assert "Deployments -> 17 Herinneringsronde -> Upcoming" in alert.text  # where to look, by its name in the UI


def test_a_sweep_that_completes_in_every_window_keeps_the_alert_quiet(operators):
    with get_client(sync_client=True) as client:
        deployment_id = _deploy(client, "dagelijkse-herinneringen")
        other_id = _deploy(client, "dagelijkse-monitoring")
        silent_sweep_automation(get_settings(), within=dt.timedelta(seconds=10))
        # a sweep completes every 3 s for 22 s: two windows, none without a completed sweep
        deadline = time.monotonic() + 22
        while time.monotonic() < deadline:
            run = client.create_flow_run_from_deployment(deployment_id)
            client.set_flow_run_state(run.id, Completed(), force=True)
            time.sleep(3)
        assert not operators.messages, [m.subject for m in operators.messages]
        # the sweep stops; another deployment completing does not count, and the alert comes
        for _ in range(3):
            run = client.create_flow_run_from_deployment(other_id)
            client.set_flow_run_state(run.id, Completed(), force=True)
        _wait_for_mail(operators, 30)
    assert operators.messages, "the alert fires once the sweep stops completing"


def _ui_line(block) -> str:
    """The line Prefect 3.8's UI shows for a send-notification action (the automation's page and list):
    `Send a <block type, lowercase> using <block document>`."""
    return f"Send a {block.block_type_name.lower()} using {block.name}"


def test_the_alerts_are_named_in_the_ui_for_what_they_do(operators):
    """Issue 25: the Prefect UI showed the alerts as `Send a slack webhook ...`, although they send e-mail."""
    with get_client(sync_client=True) as client:
        for former in FORMER_NAMES:  # installed by an earlier version: replaced, never doubled
            Automation(
                name=former,
                trigger=EventTrigger(expect={"prefect.flow-run.Late"}, posture=Posture.Reactive),
                actions=[DoNothing()],
            ).create()
        SlackWebhook(url=operators.url).save("oja-operator-0", overwrite=True)  # the block they sent through
        _deploy(client, "dagelijkse-herinneringen")
        late = late_sweep_automation(get_settings())
        silent = silent_sweep_automation(get_settings())
        assert late is not None and silent is not None
        for former in FORMER_NAMES:
            assert client.read_automations_by_name(former) == []
        with pytest.raises(ObjectNotFound):
            client.read_block_document_by_name("oja-operator-0", block_type_slug="slack-webhook")
        lines = []
        for automation in (late, silent):
            assert automation.name.startswith("Beheerders waarschuwen: "), automation.name
            assert automation.description.startswith("Waarschuwt de beheerders per e-mail")
            [action] = automation.actions
            lines.append(_ui_line(client.read_block_document(action.block_document_id)))
    assert lines == ["Send a e-mail aan beheerders using beheerders-e-mail-1"] * 2
    assert late.name == "Beheerders waarschuwen: herinneringsronde te laat"
    assert silent.name == "Beheerders waarschuwen: geen herinneringsronde voltooid"


def test_the_prefect_ui_shows_the_alert_as_an_e_mail_to_the_operators(operators, ui_server, tmp_path):
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "chromium is needed for the browser tests: apt-get install -y chromium (make test does)"
    with temporary_settings({PREFECT_API_URL: f"{ui_server}/api"}), get_client(sync_client=True) as client:
        _deploy(client, "dagelijkse-herinneringen")
        automation = late_sweep_automation(get_settings())
        assert automation is not None
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(f"{ui_server}/v2/automations")
            page.get_by_text("Send a ").first.wait_for(timeout=30_000)
            page.screenshot(path=tmp_path / "automations.png")  # kept with the test's files, to look at
            shown = page.locator("body").inner_text()
            browser.close()
    assert "Beheerders waarschuwen: herinneringsronde te laat" in shown
    assert "Send a e-mail aan beheerders using" in shown and "beheerders-e-mail-1" in shown
    assert "slack" not in shown.lower()
