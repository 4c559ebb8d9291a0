"""Every role against Prefect's API through the gateway, on SQLite and on PostgreSQL: reading runs, logs, artifacts
and events; starting a step as oneself and as someone else; touching blocks, variables, deployments, automations and
work pools; deleting a run. What is refused creates nothing, and is in the access log; without a login (or with an
ended session) the answer is the login page, or 401 for an API call."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from models.prefect_access import ALLOW_LIST, ROLE_CAPABILITIES, Capability
from tests.gateway.conftest import PROFESSIONALS, SMTP_SECRET, Front

ROLES = list(PROFESSIONALS)
CASE = "OJA-2026-000006"  # the demo's active case of 10HV


def _may(role: str, capability: Capability) -> bool:
    return capability in ROLE_CAPABILITIES[role]


def _triage(actor: str | None = None, **extra) -> dict:
    form = {"case_ref": CASE, "outcome": "oja", "level": 2}
    if actor is not None:
        form["actor"] = actor
    return {"parameters": {"form": form}, **extra}


READS = {
    "runs": ("POST", "/api/flow_runs/filter", {}, Capability.READ_RUNS),
    "a run's deployment": ("POST", "/api/deployments/filter", {}, Capability.READ_RUNS),
    "logs": ("POST", "/api/logs/filter", {}, Capability.READ_LOGS),
    "artifacts": ("POST", "/api/artifacts/filter", {}, Capability.READ_ARTIFACTS),
    "events": ("POST", "/api/events/filter", {"filter": {}}, Capability.READ_EVENTS),
    "work pools": ("POST", "/api/work_pools/filter", {}, Capability.READ_RUNS),
    "blocks": ("POST", "/api/block_documents/filter", {"include_secrets": True}, Capability.ADMINISTER),
    "variables": ("POST", "/api/variables/filter", {}, Capability.ADMINISTER),
    "automations": ("POST", "/api/automations/filter", {}, Capability.ADMINISTER),
}


@pytest.mark.parametrize("what", list(READS))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_what_its_capabilities_allow_and_a_refused_read_is_logged(front: Front, role, what):
    method, path, body, capability = READS[what]
    code = PROFESSIONALS[role]
    client = front.as_user(code)
    mark = front.log_mark()
    answer = client.request(method, path, json=body)
    if _may(role, capability):
        assert answer.status_code == 200, answer.text
        assert front.log_since(mark) == []  # an allowed read is not logged: codes only in Prefect
    else:
        assert answer.status_code == 403, answer.text
        assert answer.json()["detail"].startswith("Geweigerd:")
        [line] = front.log_since(mark)
        assert (line.professional_code, line.action, line.outcome) == (code, "prefect_gelezen", "geweigerd")
        assert line.path == path


@pytest.mark.parametrize("role", ROLES)
def test_a_step_as_oneself_is_started_bound_to_the_person_and_tagged(front: Front, role):
    code = PROFESSIONALS[role]
    client = front.as_user(code)
    before = front.prefect.run_ids()
    mark = front.log_mark()
    answer = client.post(f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run", json=_triage())
    if not _may(role, Capability.START_STEPS):
        assert answer.status_code == 403, answer.text
        assert front.prefect.run_ids() == before
        [line] = front.log_since(mark)
        assert (line.action, line.outcome) == ("stap_gestart", "geweigerd")
        return
    assert answer.status_code == 201, answer.text
    run = answer.json()
    assert run["parameters"]["form"]["actor"] == code  # the empty actor filled in with who is logged in
    assert f"door:{code}" in run["tags"]
    assert front.prefect.run_ids() == before | {run["id"]}
    [line] = front.log_since(mark)
    assert (line.professional_code, line.action, line.outcome) == (code, "stap_gestart", "toegestaan")
    assert (line.step, line.run_id, line.case_ref) == ("02 Triage", run["id"], CASE)
    assert line.pupil_ref and re.fullmatch(r"LL-\d{6}", line.pupil_ref)  # the pupil of the case: found by pupil too


@pytest.mark.parametrize("role", ROLES)
def test_a_step_in_someone_elses_name_is_refused_in_dutch_creates_nothing_and_is_logged(front: Front, role):
    code = PROFESSIONALS[role]
    other = "PRF-0002" if code != "PRF-0002" else "PRF-0001"
    client = front.as_user(code)
    before = front.prefect.run_ids()
    mark = front.log_mark()
    answer = client.post(
        f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run", json=_triage(other)
    )
    assert answer.status_code in (403, 422), answer.text
    assert front.prefect.run_ids() == before  # no run, so the case cannot move
    [line] = front.log_since(mark)
    assert (line.professional_code, line.action, line.outcome) == (code, "stap_gestart", "geweigerd")
    if _may(role, Capability.START_STEPS):
        assert answer.status_code == 422
        assert answer.json()["detail"] == (
            f"Geweigerd: Uitgevoerd door (actor): u bent ingelogd als {code} en kunt geen stap zetten namens "
            f"{other}. Laat het veld leeg of vul {code} in; er is geen run gestart."
        )
        assert (line.step, line.case_ref) == ("02 Triage", CASE)


def test_a_label_chosen_from_the_list_and_ones_own_code_in_lower_case_are_the_person(front: Front):
    client = front.as_user("PRF-0001")
    url = f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run"
    for given in ("PRF-0001 — zorgcoördinator 10HV", " prf-0001 ", ""):
        answer = client.post(url, json=_triage(given))
        assert answer.status_code == 201, (given, answer.text)
        assert answer.json()["parameters"]["form"]["actor"] == "PRF-0001"


def test_tags_naming_someone_else_are_dropped_and_the_persons_own_added(front: Front):
    client = front.as_user("PRF-0001")
    url = f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run"
    answer = client.post(url, json=_triage(tags=["door:PRF-0002", "eigen-tag"]))
    assert answer.status_code == 201
    assert {t for t in answer.json()["tags"] if t.startswith("door:")} == {"door:PRF-0001"}
    assert "eigen-tag" in answer.json()["tags"]


@pytest.mark.parametrize("role", ROLES)
def test_job_variables_from_anyone_but_the_operator_are_refused_and_run_no_command(front: Front, role):
    code = PROFESSIONALS[role]
    client = front.as_user(code)
    before = front.prefect.run_ids()
    shell = {"command": "sh -c 'id; env; sqlite3 $OJA_HOME/oja.db \"select bsn from pupil\"'"}
    answer = client.post(
        f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run",
        json=_triage(job_variables=shell),
    )
    assert answer.status_code in (403, 422), answer.text  # the operator passes the gateway; the pool's template
    assert front.prefect.run_ids() == before  # refuses a command from a run: the server says 422 to them too
    if _may(role, Capability.START_STEPS) and role != "beheerder":
        assert "job_variables" in answer.json()["detail"]


def test_the_work_pool_takes_no_command_or_environment_from_a_run_even_with_the_servers_secret(front: Front):
    with front.prefect.client() as client:
        pool = client.get("/work_pools/oja").json()
        variables = pool["base_job_template"]["variables"]
        assert set(variables["properties"]) == {"name", "labels"} and variables["additionalProperties"] is False
        assert pool["base_job_template"]["job_configuration"]["command"] == "python -m oja.entrypoints.engine"
        before = {r["id"] for r in client.post("/flow_runs/filter", json={}).json()}
        deployment = front.prefect.deployments["02 Triage"]
        for job_variables in ({"command": "sh -c id"}, {"env": {"PYTHONSTARTUP": "/tmp/x.py"}}, {"working_dir": "/"}):
            answer = client.post(
                f"/deployments/{deployment}/create_flow_run",
                json={**_triage("PRF-0001"), "job_variables": job_variables},
            )
            assert answer.status_code == 422, (job_variables, answer.text)
        assert {r["id"] for r in client.post("/flow_runs/filter", json={}).json()} == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_operator_starts_a_scheduled_deployment_by_hand(front: Front, role):
    client = front.as_user(PROFESSIONALS[role])
    before = front.prefect.run_ids()
    answer = client.post(
        f"/api/deployments/{front.prefect.deployments['17 Herinneringsronde']}/create_flow_run", json={}
    )
    if role == "beheerder":
        assert answer.status_code == 201, answer.text
        assert "door:PRF-0061" in answer.json()["tags"]
    else:
        assert answer.status_code == 403, answer.text
        assert front.prefect.run_ids() == before


def _writes(front: Front) -> dict[str, tuple[str, str, dict | None]]:
    sweep = front.prefect.deployments["17 Herinneringsronde"]
    return {
        "pause the reminders": ("POST", f"/api/deployments/{sweep}/pause_deployment", None),
        "change a deployment": ("PATCH", f"/api/deployments/{sweep}", {"description": "veranderd"}),
        "change a schedule": ("POST", f"/api/deployments/{sweep}/schedules", []),
        "read the SMTP secret": ("GET", f"/api/block_documents/{front.prefect.block_id}?include_secrets=true", None),
        "change the SMTP secret": ("PATCH", f"/api/block_documents/{front.prefect.block_id}", {"data": {"value": "x"}}),
        "set a variable": ("PATCH", "/api/variables/name/oja_drempel", {"value": 1}),
        "switch off an alert": ("PATCH", f"/api/automations/{front.prefect.automation_id}", {"enabled": False}),
        "change the work pool": ("PATCH", f"/api/work_pools/{'oja'}", {"description": "veranderd"}),
        "add a concurrency limit": ("POST", "/api/v2/concurrency_limits/", {"name": "x", "limit": 1}),
    }


WRITES = [
    "pause the reminders",
    "change a deployment",
    "change a schedule",
    "read the SMTP secret",
    "change the SMTP secret",
    "set a variable",
    "switch off an alert",
    "change the work pool",
    "add a concurrency limit",
]


@pytest.mark.parametrize("what", WRITES)
@pytest.mark.parametrize("role", [r for r in ROLES if r != "beheerder"])
def test_nobody_but_the_operator_touches_the_engines_settings_and_a_refusal_changes_nothing(front: Front, role, what):
    method, path, body = _writes(front)[what]
    code = PROFESSIONALS[role]
    client = front.as_user(code)
    mark = front.log_mark()
    answer = client.request(method, path, json=body)
    assert answer.status_code == 403, answer.text
    assert SMTP_SECRET not in answer.text
    [line] = front.log_since(mark)
    assert (line.professional_code, line.outcome) == (code, "geweigerd")
    with front.prefect.client() as client:  # nothing changed
        sweep = client.get(f"/deployments/{front.prefect.deployments['17 Herinneringsronde']}").json()
        assert sweep["paused"] is False and sweep["description"] != "veranderd"
        assert client.get("/variables/name/oja_drempel").json()["value"] == 5
        assert client.get(f"/automations/{front.prefect.automation_id}").json()["enabled"] is True


def test_the_operator_may_change_the_settings_and_every_change_is_logged(front: Front):
    client = front.as_user("PRF-0061")
    mark = front.log_mark()
    sweep = front.prefect.deployments["17 Herinneringsronde"]
    assert client.post(f"/api/deployments/{sweep}/pause_deployment").status_code == 200
    assert client.post(f"/api/deployments/{sweep}/resume_deployment").status_code == 200
    secret = client.get(f"/api/block_documents/{front.prefect.block_id}", params={"include_secrets": "true"})
    assert secret.status_code == 200 and secret.json()["data"]["value"] == SMTP_SECRET  # the operator's block
    lines = front.log_since(mark)
    assert [(x.action, x.outcome) for x in lines] == [("prefect_gewijzigd", "toegestaan")] * 2  # reads not logged
    assert lines[0].reason.startswith("POST /deployments/") and "pause_deployment" in lines[0].reason


@pytest.mark.parametrize("role", ROLES)
def test_only_the_operator_deletes_a_run(front: Front, role):
    run = front.as_user("PRF-0001").post(
        f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run", json=_triage()
    )
    run_id = run.json()["id"]
    answer = front.as_user(PROFESSIONALS[role]).delete(f"/api/flow_runs/{run_id}")
    if role == "beheerder":
        assert answer.status_code == 204, answer.text
        assert run_id not in front.prefect.run_ids()
    else:
        assert answer.status_code == 403, answer.text
        assert run_id in front.prefect.run_ids()


def _own_failed_run(front: Front, code: str = "PRF-0001") -> str:
    run = front.as_user(code).post(
        f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run", json=_triage()
    )
    assert run.status_code == 201, run.text
    with front.prefect.client() as client:  # as a worker would end it
        client.post(
            f"/flow_runs/{run.json()['id']}/set_state", json={"state": {"type": "FAILED"}, "force": True}
        ).raise_for_status()
    return run.json()["id"]


@pytest.mark.parametrize("role", ROLES)
def test_a_retry_is_only_of_ones_own_step(front: Front, role):
    run_id = _own_failed_run(front)
    code = PROFESSIONALS[role]
    client = front.as_user(code)
    mark = front.log_mark()
    answer = client.post(
        f"/api/flow_runs/{run_id}/set_state", json={"state": {"type": "SCHEDULED", "name": "AwaitingRetry"}}
    )
    with front.prefect.client() as client:
        state = client.get(f"/flow_runs/{run_id}").json()["state"]["type"]
    if code in ("PRF-0001", "PRF-0061"):  # who took the step, and the operator
        assert answer.status_code == 201, answer.text
        assert state == "SCHEDULED"
    else:
        assert answer.status_code == 403, answer.text
        assert state == "FAILED"
    lines = front.log_since(mark)
    assert len(lines) == 1, [(x.action, x.reason, x.path) for x in lines]
    [line] = lines
    assert (line.professional_code, line.action, line.run_id) == (code, "run_gewijzigd", run_id)
    if _may(role, Capability.START_STEPS):
        assert line.step == "02 Triage"


def test_a_professional_may_not_mark_their_own_run_completed(front: Front):
    run_id = _own_failed_run(front)
    answer = front.as_user("PRF-0001").post(f"/api/flow_runs/{run_id}/set_state", json={"state": {"type": "COMPLETED"}})
    assert answer.status_code == 422 and "opnieuw starten of annuleren" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/flow_runs/"),  # a run without a deployment: no form, no actor check
        ("POST", "/api/logs/"),  # the workers write logs
        ("POST", "/api/events"),  # and events
        ("POST", "/api/work_pools/oja/get_scheduled_flow_runs"),  # and claim runs
        ("POST", "/api/deployments/get_scheduled_flow_runs"),
        ("POST", "/api/work_pools/oja/workers/heartbeat"),
        ("POST", "/api/flow_runs/00000000-0000-0000-0000-000000000000/input"),
        ("PUT", "/api/admin/storage"),
        ("DELETE", "/api/admin/storage"),
        ("POST", "/api/admin/database/clear"),
        ("POST", "/api/v2/concurrency_limits/increment"),
        ("GET", "/api/../api/flows/filter"),
        ("GET", "/api/bestaat-niet"),
    ],
)
def test_what_is_not_on_the_list_is_refused_for_every_role_the_operators_too(front: Front, method, path):
    for code in PROFESSIONALS.values():
        answer = front.as_user(code).request(method, path, json={})
        assert answer.status_code in (403, 404), (code, answer.status_code, answer.text)
        assert answer.status_code == 403 or path.endswith("bestaat-niet") or ".." in path


def test_without_a_login_the_ui_sends_to_the_login_page_and_the_api_says_401(front: Front):
    anonymous = front.anonymous()
    page = anonymous.get("/prefect/deployments/deployment/x/run", params={"parameters": '{"form":{}}'})
    assert page.status_code == 303
    assert page.headers["location"].startswith("/inloggen?volgende=%2Fprefect%2Fdeployments")
    assert anonymous.get(page.headers["location"]).status_code == 200  # the login page
    for method, path in (("GET", "/prefect/"), ("GET", "/prefect/assets/index.js"), ("GET", "/prefect/ui-settings")):
        assert anonymous.request(method, path).status_code == 303
    before = front.prefect.run_ids()
    api = anonymous.post(f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run", json=_triage())
    assert api.status_code == 401 and "niet ingelogd" in api.json()["detail"]
    assert front.prefect.run_ids() == before
    assert anonymous.post("/api/flow_runs/filter", json={}).status_code == 401


def test_an_ended_session_is_no_login(front: Front):
    for age in (dt.timedelta(minutes=31), dt.timedelta(hours=11)):  # idle, and too old
        client = front.as_user("PRF-0001", age=age)
        assert client.get("/prefect/").status_code == 303
        assert client.post("/api/flow_runs/filter", json={}).status_code == 401


def test_a_session_cookie_made_up_is_no_login(front: Front):
    client = front.anonymous(Origin=front.base_url)
    client.cookies.set("oja_sessie", "verzonnen-token")
    assert client.post("/api/flow_runs/filter", json={}).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": ""},
        {"Referer": "http://evil.example/pagina"},
        {"Origin": "http://127.0.0.1.evil.example"},
    ],
    ids=["other-site", "null", "none", "referer-other-site", "lookalike"],
)
def test_a_change_from_another_site_is_refused_with_a_valid_session(front: Front, headers):
    client = front.as_user("PRF-0001")
    client.headers.pop("Origin")
    before = front.prefect.run_ids()
    answer = client.post(
        f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run", json=_triage(), headers=headers
    )
    assert answer.status_code == 403 and "niet van de pagina's van de engine" in answer.json()["detail"]
    assert front.prefect.run_ids() == before


def test_a_change_with_the_engines_own_referer_and_no_origin_is_taken(front: Front):
    client = front.as_user("PRF-0001")
    client.headers.pop("Origin")
    answer = client.post(
        f"/api/deployments/{front.prefect.deployments['02 Triage']}/create_flow_run",
        json=_triage(),
        headers={"Referer": front.base_url + "/prefect/deployments"},
    )
    assert answer.status_code == 201, answer.text


def test_a_browser_saying_cross_site_is_refused_whatever_its_origin_claims(front: Front):
    client = front.as_user("PRF-0001")
    answer = client.post("/api/flow_runs/filter", json={}, headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403


def test_prefects_own_port_asks_for_its_secret_csrf_and_allows_no_other_origin(front: Front):
    url = front.prefect.url
    assert httpx.post(f"{url}/api/flows/filter", json={}).status_code in (401, 403)
    assert httpx.get(f"{url}/api/flows/00000000-0000-0000-0000-000000000000").status_code == 401
    with front.prefect.client() as client:
        client.headers.pop("Prefect-Csrf-Token")
        assert client.post("/flows/filter", json={}).status_code == 403  # CSRF protection is on
    preflight = httpx.options(
        f"{url}/api/flows/filter",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers.get("access-control-allow-origin") in (None, "http://127.0.0.1:4201")
    assert "evil" not in preflight.headers.get("access-control-allow-origin", "")


def test_the_ui_settings_point_the_ui_at_the_gateway_without_prefects_own_password(front: Front):
    settings = front.as_user("PRF-0001").get("/prefect/ui-settings").json()
    assert settings["api_url"] == front.base_url + "/api"
    assert settings["auth"] is None and settings["csrf_enabled"] is True
    assert settings["available_uis"] == ["v1"]


def test_the_servers_settings_are_the_operators_anyone_else_gets_what_the_ui_reads(front: Front):
    professional = front.as_user("PRF-0001").get("/api/admin/settings").json()
    assert professional["PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT"] is False
    assert "api" not in professional and "home" not in professional
    operator = front.as_user("PRF-0061").get("/api/admin/settings").json()
    assert "api" in operator and SMTP_SECRET not in str(operator)


def test_every_rule_on_the_allow_list_names_a_route_prefect_has():
    """A typo in the list would leave a route the UI needs refused; a route Prefect renamed the same."""
    from prefect.server.api.server import create_api_app

    spec = create_api_app().openapi()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    routes |= {("WS", "/logs/out"), ("WS", "/events/out")}  # websockets are not in the OpenAPI document

    def same(rule_path: str, route: str) -> bool:
        return re.sub(r"\{[^}]+\}", "{}", rule_path) == re.sub(r"\{[^}]+\}", "{}", route)

    missing = [r for r in ALLOW_LIST if not any(m == r.method and same(r.path, p) for m, p in routes)]
    assert not missing, missing
