"""The forms in the Prefect UI offer the known codes as labelled choices (`oja forms publish`, `oja start`).

On the Prefect test server: the deployments' schemas get the choices with their labels, in nested forms
too; the server takes a bare code and a chosen label and refuses an unknown code; publishing again changes
nothing; the schemas hold no personal data. One test opens a form in a real Prefect UI (Chromium).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import Session
from typer.testing import CliRunner

from flows.intake import register_signal
from flows.planning import activate, draft_plan
from flows.review import take_decision
from oja import services as sv
from oja.adapters.db import get_engine
from oja.adapters.form_choices import CODE, PICK, PLAIN, publish_choices, with_choices
from oja.entrypoints.cli import app
from oja.services.choices import code_of, known_codes

pytestmark = pytest.mark.prefect

FLOWS = {  # entrypoint -> the flow, as prefect.yaml deploys them
    "flows/intake.py:register_signal": register_signal,
    "flows/planning.py:draft_plan": draft_plan,
    "flows/review.py:take_decision": take_decision,
}
PROFESSIONAL_NAMES = ("Coördinator T", "Hulpverlener T", "Wijkcoach T")  # conftest's professionals


def _schema(entrypoint: str) -> dict[str, Any]:
    """The form's schema as `prefect deploy` stores it."""
    return dict(FLOWS[entrypoint].parameters.model_dump_for_openapi())


def _deploy(client: SyncPrefectClient, entrypoint: str, name: str = "keuzes-test") -> Any:
    flow = FLOWS[entrypoint]
    flow_id = client.create_flow_from_name(flow.name)
    return client.create_deployment(
        flow_id=flow_id,
        name=name,
        entrypoint=entrypoint,
        parameter_openapi_schema=_schema(entrypoint),
        enforce_parameter_schema=True,
    )


@pytest.fixture(scope="module")
def published(engine_url, pupils) -> Iterator[dict[str, Any]]:
    """Three deployments of the engine's flows, and one of another project with an `actor` field; published once."""
    with get_client(sync_client=True) as client:
        ids = {entrypoint: _deploy(client, entrypoint) for entrypoint in FLOWS}
        other = client.create_deployment(
            flow_id=client.create_flow_from_name("ander-project"),
            name="keuzes-test",
            entrypoint="elders/flows.py:iets",
            parameter_openapi_schema=_schema("flows/planning.py:draft_plan"),
        )
        first = publish_choices(get_engine(engine_url), client)
        yield {"ids": ids, "other": other, "first": first}
        for deployment_id in [*ids.values(), other]:
            client.delete_deployment(deployment_id)


def _form(client: SyncPrefectClient, published: dict[str, Any], entrypoint: str) -> dict[str, Any]:
    schema = client.read_deployment(published["ids"][entrypoint]).parameter_openapi_schema
    assert schema is not None
    return schema


def test_the_code_fields_offer_the_known_codes_with_labels_in_nested_forms_too(published):
    assert published["first"] >= 3
    with get_client(sync_client=True) as client:
        signal = _form(client, published, "flows/intake.py:register_signal")["definitions"]["RegisterSignal"]
        plan = _form(client, published, "flows/planning.py:draft_plan")["definitions"]
        decision = _form(client, published, "flows/review.py:take_decision")["definitions"]["TakeDecision"]

    actor = signal["properties"]["actor"]
    assert actor["title"] == "Uitgevoerd door" and "PRF-0001" in actor["description"]  # kept
    pick, code = actor["anyOf"]
    assert pick["title"] == PICK and code["title"] == CODE
    assert {"PRF-T1 — zorgcoördinator 20XY", "PRF-T2 — jeugdhulpverlener PRV-A", "PRF-T3 — wijkteam GM0147"} <= set(
        pick["enum"]
    )
    assert {"PRF-T1", "PRF-T2", "PRF-T3"} <= set(code["enum"])
    assert code["pattern"] == actor[PLAIN]["pattern"]  # the form's own check stays on the bare code
    assert "20XY — Test College" in signal["properties"]["school_code"]["anyOf"][0]["enum"]
    assert "school_code" in signal["required"]
    assert "actor" not in signal["required"]  # left empty, the gateway fills in who is logged in

    intervention = plan["InterventionForm"]["properties"]  # inside the plan's list of interventions
    assert "PRV-A — Aanbieder A" in intervention["provider_code"]["anyOf"][0]["enum"]
    assert "PRF-T2 — jeugdhulpverlener PRV-A" in intervention["professional_code"]["anyOf"][0]["enum"]
    assert "PRF-T1" in plan["DraftPlan"]["properties"]["regie_holder"]["anyOf"][1]["enum"]
    assert plan["GoalForm"] == _schema("flows/planning.py:draft_plan")["definitions"]["GoalForm"]  # untouched
    assert decision["properties"]["actor"]["anyOf"][1]["enum"] == code["enum"]  # every form offers the same
    # (the group field: see the group test below; the flow tests' shared region may hold a group by now)


def test_a_bare_code_and_a_chosen_label_are_taken_and_an_unknown_code_is_refused(published, pupils):
    deployment_id = published["ids"]["flows/intake.py:register_signal"]

    def form(actor: str) -> dict[str, Any]:
        return {
            "form": {
                "pupil_ref": pupils["child"]["ref"],
                "school_code": "20XY",
                "source": "school",
                "domains": ["leren"],
                "actor": actor,
            }
        }

    with get_client(sync_client=True) as client:
        bare = client.create_flow_run_from_deployment(deployment_id, parameters=form("PRF-T1"))
        label = client.create_flow_run_from_deployment(deployment_id, parameters=form("PRF-T1 — zorgcoördinator 20XY"))
        try:
            assert bare.parameters["form"]["actor"] == "PRF-T1"  # stored as sent: the bare code
            assert code_of(label.parameters["form"]["actor"]) == "PRF-T1"
            for unknown in ("PRF-XX", "PRF-T1 — teamleider 20XY"):
                with pytest.raises(PrefectHTTPStatusError, match="409"):
                    client.create_flow_run_from_deployment(deployment_id, parameters=form(unknown))
        finally:
            for run in (bare, label):
                client.delete_flow_run(run.id)


def test_publishing_again_changes_nothing_and_another_projects_form_is_left_alone(published, engine_url):
    with get_client(sync_client=True) as client:
        before = {e: _form(client, published, e) for e in FLOWS}
        assert publish_choices(get_engine(engine_url), client) == 0
        assert {e: _form(client, published, e) for e in FLOWS} == before
        other = client.read_deployment(published["other"]).parameter_openapi_schema
    assert other == _schema("flows/planning.py:draft_plan")


def test_a_group_arrangement_is_offered_and_a_form_without_reference_data_returns_to_plain(engine_url):
    plain = _schema("flows/review.py:take_decision")
    with Session(get_engine(engine_url)) as session:  # rolled back: the other tests' region stays as it was
        sv.upsert_group(
            session, code="GRP-T", provider_code="PRV-A", professional_code="PRF-T2", capacity=8, hours_per_week=4
        )
        session.flush()
        codes = known_codes(session)
        session.rollback()
    offered = with_choices(plain, codes)
    group = offered["definitions"]["TakeDecision"]["properties"]["group_code"]
    # (the flow tests share one region: another test's group may be there too)
    assert "GRP-T — groep PRV-A" in group["anyOf"][0]["enum"] and "GRP-T" in group["anyOf"][1]["enum"]
    assert with_choices(offered, codes) == offered
    assert with_choices(offered, {}) == with_choices(plain, {})  # reference data gone: the form's own field again
    assert with_choices(plain, {})["properties"]["form"]["title"] == "Formulier"  # its name is no label


def test_the_forms_hold_no_personal_data(published, pupils):
    with get_client(sync_client=True) as client:
        text = json.dumps([_form(client, published, e) for e in FLOWS], ensure_ascii=False)
    assert "PRF-T1 — zorgcoördinator 20XY" in text
    for pupil in pupils.values():
        for value in (pupil["given_name"], pupil["family_name"], pupil["bsn"], pupil["birth_date"].isoformat()):
            assert value not in text
    for name in PROFESSIONAL_NAMES:
        assert name not in text


def test_oja_forms_publish_says_how_many_forms_it_refreshed_and_stops_clearly_without_a_server(published):
    runner = CliRunner()
    done = runner.invoke(app, ["forms", "publish"])
    assert done.exit_code == 0, done.output
    assert "geen formulier gewijzigd" in done.output  # the fixture published already
    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{_free_port()}/api"}):
        down = runner.invoke(app, ["forms", "publish"])
    assert down.exit_code == 1
    assert "niet bereikbaar" in down.output and "Traceback" not in down.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory) -> Iterator[str]:
    """A Prefect server with its UI (the test server has none), on a free port; its address."""
    home = tmp_path_factory.mktemp("prefect-ui")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_API_PORT=str(port))
    prefect = str(Path(sys.executable).parent / "prefect")
    with (home / "server.log").open("wb") as log:
        server = subprocess.Popen([prefect, "server", "start", "--port", str(port)], env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/api/health", timeout=2):
                        break
                except OSError:
                    assert server.poll() is None and time.monotonic() < deadline, "the Prefect server did not start"
                    time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_a_professional_picks_a_labelled_code_in_the_prefect_ui(ui_server, engine_url, pupils, tmp_path):
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "chromium is needed for the browser tests: apt-get install -y chromium (make test does)"
    with temporary_settings({PREFECT_API_URL: f"{ui_server}/api"}), get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name(activate.name)
        schema = dict(activate.parameters.model_dump_for_openapi())
        deployment_id = client.create_deployment(
            flow_id=flow_id,
            name="keuzes-ui",
            entrypoint="flows/planning.py:activate",
            parameter_openapi_schema=schema,
            enforce_parameter_schema=True,
        )
        assert publish_choices(get_engine(engine_url), client) == 1
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(f"{ui_server}/v2/deployments/deployment/{deployment_id}/run")  # the UI Prefect opens by default
            page.get_by_label("Casusreferentie").fill("OJA-2026-000001")
            page.get_by_label(f"Select {PICK}").click()
            page.keyboard.type("20XY")
            choice = page.get_by_role("option", name="PRF-T1 — zorgcoördinator 20XY")
            choice.wait_for(timeout=30_000)
            page.screenshot(path=tmp_path / "form-choices.png")  # kept with the test's files, to look at
            body = page.locator("body").inner_text()
            choice.click()
            page.get_by_role("button", name="Submit").click()
            page.wait_for_url("**/deployments/deployment/*?tab=Runs", timeout=30_000)
            browser.close()
        [run] = client.read_flow_runs()
    assert run.parameters["form"] == {"case_ref": "OJA-2026-000001", "actor": "PRF-T1 — zorgcoördinator 20XY"}
    assert not [p["family_name"] for p in pupils.values() if p["family_name"] in body]
    assert not [name for name in PROFESSIONAL_NAMES if name in body]
