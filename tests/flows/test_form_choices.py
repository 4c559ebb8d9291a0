"""The forms in the Prefect UI offer the known codes as labelled choices (`oja forms publish`, `oja start`).

On the Prefect test server: the deployments' schemas get the choices with their labels, in nested forms
too; the server takes a bare code and a chosen label and refuses an unknown code; publishing again changes
nothing; the schemas hold no personal data. One test opens a form in a real Prefect UI (Chromium).
"""

from __future__ import annotations

import importlib
import json
import shutil
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import Session
from typer.testing import CliRunner

from flows.form_fields import MAX_GOALS
from flows.intake import register_signal
from flows.planning import activate, draft_plan
from flows.review import take_decision
from oja import services as sv
from oja.adapters.db import get_engine
from oja.adapters.form_choices import CODE, FAMILY, PICK, PLAIN, publish_choices, with_choices
from oja.config import PROJECT_DIR
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


def _every_deployment() -> dict[str, Any]:
    """Every deployment prefect.yaml declares: its entrypoint -> the flow."""
    declared = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text())["deployments"]
    found = {}
    for deployment in declared:
        path, _, function = deployment["entrypoint"].partition(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        found[deployment["entrypoint"]] = getattr(module, function)
    return found


def _properties(node: Any, where: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every property of every (nested) form in a schema: (where, name, the property)."""
    if isinstance(node, list):
        for item in node:
            yield from _properties(item, where)
    elif isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            yield where, name, prop
        for key, value in node.items():
            yield from _properties(value, f"{where}/{key}")


ENGLISH_TITLES = {"form", "day", "sweep_date", "send", "CaseAction"}  # Prefect's and pydantic's own, before issue 25


@pytest.fixture(scope="module")
def every_form(engine_url, pupils) -> Iterator[dict[str, dict[str, Any]]]:
    """Every deployment of prefect.yaml on the test server, as `prefect deploy` makes them, published; their forms."""
    flows = _every_deployment()
    with get_client(sync_client=True) as client:
        ids = {}
        for entrypoint, fl in flows.items():
            ids[entrypoint] = client.create_deployment(
                flow_id=client.create_flow_from_name(fl.name),
                name="alle-formulieren",
                entrypoint=entrypoint,
                parameter_openapi_schema=dict(fl.parameters.model_dump_for_openapi()),
                enforce_parameter_schema=True,
            )
        try:
            publish_choices(get_engine(engine_url), client)
            yield {e: client.read_deployment(i).parameter_openapi_schema or {} for e, i in ids.items()}
        finally:
            for deployment_id in ids.values():
                client.delete_deployment(deployment_id)


def test_every_field_of_every_form_has_a_dutch_title_and_a_description(every_form):
    """Issue 25: Prefect's own checks speak English (`'source' is a required property`); the field they name shows
    a Dutch title and says what it is for."""
    assert len(every_form) == 18
    missing = []
    for entrypoint, schema in every_form.items():
        for where, name, prop in _properties(schema):
            title, description = prop.get("title"), prop.get("description")
            if not title or title == name or title in ENGLISH_TITLES or not description:
                missing.append(f"{entrypoint}{where} {name}: {title!r}, {description!r}")
            if PLAIN in prop:  # a code field's two tabs (Kiezen, Code) keep the field's own title
                tabs = {PICK, CODE} | ({FAMILY} if entrypoint == "flows/planning.py:record_consent" else set())
                assert {o.get("title") for o in prop["anyOf"]} <= tabs, (entrypoint, name)
    assert not missing, "\n".join(missing)
    text = json.dumps(every_form, ensure_ascii=False)
    for english in ENGLISH_TITLES:
        assert f'"title": "{english}"' not in text


def test_the_goal_number_is_picked_from_a_list(every_form, pupils):
    """Issue 25: `Doel nr.` (steps 06 and 07) was typed freely; a plan has at most ten goals, numbered from 1."""
    measurement = every_form["flows/review.py:record_measurement"]["definitions"]["RecordMeasurement"]
    score = every_form["flows/review.py:record_review"]["definitions"]["GoalScoreForm"]
    for goal in (measurement["properties"]["goal_number"], score["properties"]["goal_number"]):
        assert goal["enum"] == list(range(1, MAX_GOALS + 1)) and goal["type"] == "integer"
        assert goal["title"] == "Doel nr." and "plan" in goal["description"]
    plan = every_form["flows/planning.py:draft_plan"]["definitions"]["DraftPlan"]["properties"]["goals"]
    assert plan["maxItems"] == MAX_GOALS  # every number a plan can have is offered


def test_a_professional_picks_the_goal_number_from_a_list_in_the_prefect_ui(ui_server, engine_url, tmp_path):
    from playwright.sync_api import sync_playwright

    from flows.review import record_measurement

    executable = shutil.which("chromium")
    assert executable, "chromium is needed for the browser tests: apt-get install -y chromium (make test does)"
    with temporary_settings({PREFECT_API_URL: f"{ui_server}/api"}), get_client(sync_client=True) as client:
        deployment_id = client.create_deployment(
            flow_id=client.create_flow_from_name(record_measurement.name),
            name="doelnummer-ui",
            entrypoint="flows/review.py:record_measurement",
            parameter_openapi_schema=dict(record_measurement.parameters.model_dump_for_openapi()),
            enforce_parameter_schema=True,
        )
        publish_choices(get_engine(engine_url), client)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1300, "height": 1400})
            page.goto(f"{ui_server}/v2/deployments/deployment/{deployment_id}/run")
            page.get_by_label("Casusreferentie").fill("OJA-2026-000001")
            body = page.locator("body").inner_text()
            page.get_by_label("Select Doel nr.").click()
            options = page.get_by_role("option")
            options.first.wait_for(timeout=30_000)
            offered = options.all_inner_texts()
            page.screenshot(path=tmp_path / "goal-number.png")  # kept with the test's files, to look at
            page.get_by_role("option", name="3", exact=True).click()
            page.get_by_label("Waarde").fill("1")
            page.get_by_role("button", name="Submit").click()
            page.wait_for_url("**/deployments/deployment/*?tab=Runs", timeout=30_000)
            browser.close()
        [run] = [r for r in client.read_flow_runs() if r.deployment_id == deployment_id]
    assert [o.strip() for o in offered] == [str(n) for n in range(1, MAX_GOALS + 1)]
    assert "Doel nr." in body and "Het nummer van het doel in het plan" in body
    assert run.parameters["form"] == {"case_ref": "OJA-2026-000001", "goal_number": 3, "value": 1}


def test_the_consent_forms_actor_keeps_the_familys_parties_apart_from_the_professionals(every_form):
    """Issue 26, 4: a family's own consent is a run with the party as actor, which the enforced form must take;
    offered as a tab of its own, never among the professionals (the gateway refuses it from a professional)."""
    [actor] = [p for _, name, p in _properties(every_form["flows/planning.py:record_consent"]) if name == "actor"]
    tabs = {o["title"]: o["enum"] for o in actor["anyOf"]}
    assert tabs[FAMILY] == ["ouder_1", "ouder_2", "leerling"]
    assert not {"ouder_1", "ouder_2", "leerling"} & set(tabs[CODE] + tabs[PICK])
