"""One login for both surfaces, on the engine `oja start` runs, in Chromium: a coordinator signs in once, opens the
dossier and then the Prefect UI, takes a step from the dossier's link and watches its run page change while the
worker runs it (the UI polls Prefect's API through the gateway); then changes "Uitgevoerd door" by hand to another
coordinator and gets the Dutch refusal: no run, the case as it was, the refusal in the access log.

Also, against the same engine: the exploits that opened this work (a shell through `job_variables`, a step in
another's name, the SMTP secret, pausing the reminders, another origin) all fail, and the engine's files are its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import random
import re
import signal
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

from models.schooldays import previous_school_day
from oja.adapters.db import get_engine
from oja.deployments import DEPLOYMENTS, deployment_path
from oja.entrypoints.local_setup import descendants
from tests.factories import active_case, valid_bsn
from tests.system.conftest import wait

pytestmark = pytest.mark.system

COORDINATOR, OTHER = "PRF-0001", "PRF-0002"  # of 10HV, of 11HE
FINAL = {"Completed", "Failed", "Crashed", "Cancelled"}


def _select(page, label: str, option: str) -> None:
    field = page.locator(
        ".schema-form-property",
        has=page.locator(".schema-form-property__label", has_text=re.compile(f"^{label}( \\(Optional\\))?$")),
    ).last
    field.locator(".p-select-button__control").click()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name=option, exact=True).click()


def _new_active_case(engine) -> str:
    # as of the last school day: an arrangement started on a Saturday starts on Monday, with no review before it
    today = previous_school_day(dt.datetime.now(ZoneInfo("Europe/Amsterdam")).date(), "noord")
    return active_case(
        get_engine(f"sqlite:///{engine.home / 'oja.db'}"), school="10HV", coordinator=COORDINATOR,
        bsn=valid_bsn(random.randint(0, 9999), base=620000000), born=dt.date(2009, 4, 4), today=today,
        provider="JEUGDPUNT", names=("Poort", f"Wachter{uuid.uuid4().hex[:6]}"),
    )  # fmt: skip


def _case(engine, ref: str) -> tuple[str, int]:
    with engine.engine_db() as db:
        [state] = db.execute("SELECT state FROM oja_case WHERE ref = ?", (ref,)).fetchone()
        [records] = db.execute("SELECT count(*) FROM auditrecord WHERE case_ref = ?", (ref,)).fetchone()
    return state, records


def _step_from_the_dossier(page, engine, ref: str, flow: str) -> None:
    """Follow the case's link to `flow`'s form on Mijn casussen, and wait for the form filled in."""
    page.goto(engine.dossier_url + "/")
    row = page.locator("tr", has_text=ref)
    row.get_by_role("link", name=DEPLOYMENTS[flow]).click()
    page.wait_for_url(f"{engine.ui_url}/deployments/deployment/**")
    page.wait_for_function(
        "ref => [...document.querySelectorAll('textarea, input')].some(i => i.value === ref)", arg=ref, timeout=60_000
    )


def _watch_run(page, engine, run_id: str, paused: int | None = None) -> list[str]:
    """Open the run's page once and read its state as it changes, until it is final (no reload). `paused`: the
    worker's process, stopped so that the run waits until its page is open (the worker takes a step in about a
    second, sooner than a browser opens a page), let go once the page shows the run."""
    page.goto(f"{engine.ui_url}/flow-runs/flow-run/{run_id}")
    badge = page.locator(".state-badge").first
    try:
        badge.wait_for(timeout=30_000)
    finally:
        if paused is not None:
            os.kill(paused, signal.SIGCONT)
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = badge.inner_text().strip()
        if not seen or seen[-1] != text:
            seen.append(text)
        if text in FINAL:
            return seen
        page.wait_for_timeout(100)
    pytest.fail(f"the run page did not reach a final state; it showed {seen}")


def _worker_process(engine) -> int:
    """The engine's worker (`oja worker`, not its warm parent or a run)."""
    for pid in sorted(descendants(engine.proc.pid)):
        try:
            if b"\0worker\0" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    pytest.fail("no worker under oja start")


def test_one_login_a_step_from_the_dossier_live_in_the_ui_and_none_in_anothers_name(engine, browser, tmp_path):
    context, page = engine.signed_in(browser, COORDINATOR)  # signed in once
    assert page.url == engine.dossier_url + "/"
    assert page.get_by_role("heading", name="Mijn casussen").is_visible()
    page.get_by_role("link", name="Stappen en runs (Prefect)").click()
    page.wait_for_url(f"{engine.ui_url}/**")  # the Prefect UI, with no second login
    page.locator('a[href="/prefect/deployments"]').first.wait_for(timeout=30_000)
    bar = page.locator(".oja-balk")
    assert COORDINATOR in bar.inner_text() and bar.get_by_role("link", name="← Dossier").is_visible()
    assert page.locator('a[href="/prefect/blocks"]').is_hidden()  # the operator's pages are not in the menu
    page.screenshot(path=tmp_path / "01-prefect-ui-after-one-login.png")

    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if r.url.startswith(engine.dossier_url + "/api/") else None)
    documents: list[str] = []  # pages loaded from the server (the UI's own route changes load none)
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else None)
    ref = _new_active_case(engine)
    _step_from_the_dossier(page, engine, ref, "evaluatie-vastleggen")
    page.screenshot(path=tmp_path / "02-form-from-the-dossier.png", full_page=True)
    worker = _worker_process(engine)
    os.kill(worker, signal.SIGSTOP)  # the run waits for its page to be open (let go in _watch_run)
    try:
        with page.expect_response(lambda r: r.url.endswith("/create_flow_run")) as created:
            page.get_by_role("button", name="Submit").click()
        run = created.value.json()
    except BaseException:
        os.kill(worker, signal.SIGCONT)
        raise
    assert created.value.status == 201 and run["parameters"]["form"]["actor"] == COORDINATOR
    assert f"door:{COORDINATOR}" in run["tags"]
    opened = len(documents)
    seen = _watch_run(page, engine, run["id"], paused=worker)
    page.screenshot(path=tmp_path / "03-run-page-live.png", full_page=True)
    assert seen[-1] == "Completed" and len(seen) > 1, f"the page showed {seen}: no change while it was open"
    assert documents[opened:] == [f"{engine.ui_url}/flow-runs/flow-run/{run['id']}"]  # loaded once: no reload
    assert sum(f"/api/flow_runs/{run['id']}" in url for url in api_calls) >= 2  # polled through the gateway
    assert _case(engine, ref)[0] == "geevalueerd"

    # the same coordinator, the decision's form, and by hand someone else's code in "Uitgevoerd door"
    before_case = _case(engine, ref)
    with engine.client() as client:
        deployment = client.read_deployment_by_name(deployment_path("besluit-nemen"))
        of_step = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))  # not the scheduler's runs
        before_runs = len(client.read_flow_runs(deployment_filter=of_step))
    _step_from_the_dossier(page, engine, ref, "besluit-nemen")
    _select(page, "Besluit", "voortzetten")  # as recommended after a first review
    _select(page, "Uitgevoerd door", f"{OTHER} — zorgcoördinator 11HE")
    page.get_by_text("Run Name", exact=True).click()  # closes the options
    with page.expect_response(lambda r: r.url.endswith("/create_flow_run")) as refused:
        page.get_by_role("button", name="Submit").click()
    assert refused.value.status == 422
    message = (
        f"Geweigerd: Uitgevoerd door (actor): u bent ingelogd als {COORDINATOR} en kunt geen stap zetten namens "
        f"{OTHER}. Laat het veld leeg of vul {COORDINATOR} in; er is geen run gestart."
    )
    page.get_by_text(message).first.wait_for(timeout=10_000)  # the UI shows it under Submit
    page.screenshot(path=tmp_path / "04-refused.png")
    assert re.search(r"/deployments/deployment/[^/]+/run(\?|$)", page.url)  # still on the form
    time.sleep(3)  # a worker would have picked up a run by now
    with engine.client() as client:
        assert len(client.read_flow_runs(deployment_filter=of_step)) == before_runs
        assert deployment.id  # (the step's deployment exists: the refusal was the gateway's)
    assert _case(engine, ref) == before_case  # the case unchanged, no audit record
    with engine.engine_db() as db:
        logged = db.execute(
            "SELECT action, outcome, step, case_ref FROM access_log WHERE professional_code = ? ORDER BY id DESC",
            (COORDINATOR,),
        ).fetchone()
    assert logged == ("stap_gestart", "geweigerd", DEPLOYMENTS["besluit-nemen"], ref)

    bar = page.locator(".oja-balk")  # log out from the Prefect UI: both surfaces are closed
    bar.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(re.compile(r"/inloggen$"))
    page.goto(engine.ui_url + "/deployments")
    page.wait_for_url(re.compile(r"/inloggen\?volgende="))
    context.close()


def _as(engine, code: str) -> httpx.Client:
    """A browser of `code` as the gateway sees one: the session cookie from a login, its Origin, Prefect's CSRF."""
    client = httpx.Client(base_url=engine.dossier_url, timeout=30, headers={"Origin": engine.dossier_url})
    form = client.get("/inloggen")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    engine.allow_code_again(code)
    import pyotp

    from oja.services.logins import DEMO_PASSWORD, DEMO_TOTP_SECRET

    login = client.post(
        "/inloggen",
        data={
            "gebruikersnaam": code,
            "wachtwoord": DEMO_PASSWORD,
            "code": pyotp.TOTP(DEMO_TOTP_SECRET).now(),
            "csrf": csrf,
        },
    )
    assert login.status_code == 303, login.text
    csrf_client = str(uuid.uuid4())
    token = client.get("/api/csrf-token", params={"client": csrf_client}).json()["token"]
    client.headers.update({"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": csrf_client})
    return client


def test_the_exploits_that_opened_this_work_fail_against_oja_start(engine):
    with engine.client() as client:
        ids = {flow: str(client.read_deployment_by_name(deployment_path(flow)).id) for flow in DEPLOYMENTS}
        runs_before = len(client.read_flow_runs())
    with engine.engine_db() as db:
        [other_case] = db.execute(
            "SELECT ref FROM oja_case WHERE school_code = '11HE' AND state = 'wacht_op_triage'"
        ).fetchone()
    before = _case(engine, other_case)
    triage = f"/api/deployments/{ids['triage']}/create_flow_run"
    shell = {"command": "sh -c \"id; env; sqlite3 $OJA_HOME/oja.db 'select given_name, family_name, bsn from pupil'\""}
    form = {"case_ref": other_case, "outcome": "oja", "level": 3}

    # no login at all: not through the engine's front, not on Prefect's own port
    anonymous = httpx.Client(base_url=engine.dossier_url, timeout=30)
    assert anonymous.post(triage, json={"parameters": {"form": form}, "job_variables": shell}).status_code == 401
    prefect = httpx.Client(base_url=engine.api_url, timeout=30)
    assert prefect.post(f"/deployments/{ids['triage']}/create_flow_run", json={}).status_code in (401, 403)
    assert prefect.get(f"/deployments/{ids['triage']}").status_code == 401
    preflight = prefect.options(
        "/flows/filter", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "evil" not in preflight.headers.get("access-control-allow-origin", "")

    coordinator = _as(engine, COORDINATOR)  # a coordinator of 10HV, logged in
    answer = coordinator.post(triage, json={"parameters": {"form": {**form, "actor": OTHER}}})
    assert answer.status_code == 422 and f"namens {OTHER}" in answer.json()["detail"]  # not in 11HE's name
    answer = coordinator.post(triage, json={"parameters": {"form": form}, "job_variables": shell})
    assert answer.status_code == 422 and "job_variables" in answer.json()["detail"]  # no shell
    secrets = coordinator.post("/api/block_documents/filter", json={"include_secrets": True})
    assert secrets.status_code == 403  # no SMTP secret
    pause = coordinator.post(f"/api/deployments/{ids['dagelijkse-herinneringen']}/pause_deployment")
    assert pause.status_code == 403
    automations = coordinator.post("/api/automations/filter", json={})
    assert automations.status_code == 403  # the alerts when no sweep ran stay on
    elsewhere = coordinator.post(triage, json={"parameters": {"form": form}}, headers={"Origin": "http://evil.example"})
    assert elsewhere.status_code == 403

    # even with the server's secret (the engine's own processes), a run takes no command from its job variables
    auth = "Basic " + base64.b64encode(engine.secret.encode()).decode()
    csrf_client = str(uuid.uuid4())
    token = prefect.get("/csrf-token", params={"client": csrf_client}, headers={"Authorization": auth}).json()["token"]
    direct = prefect.post(
        f"/deployments/{ids['triage']}/create_flow_run",
        json={"parameters": {"form": {**form, "actor": OTHER}}, "job_variables": shell},
        headers={"Authorization": auth, "Prefect-Csrf-Token": token, "Prefect-Csrf-Client": csrf_client},
    )
    assert direct.status_code == 422, direct.text

    time.sleep(3)
    with engine.client() as client:
        assert len(client.read_flow_runs()) == runs_before  # nothing was created, so nothing ran
        sweep = client.read_deployment(ids["dagelijkse-herinneringen"])
        assert not sweep.paused
    assert _case(engine, other_case) == before  # the other school's case did not move


def test_the_engines_files_are_its_own(engine):
    assert engine.home.stat().st_mode & 0o777 == 0o700
    assert (engine.home / "oja.db").stat().st_mode & 0o777 == 0o600
    assert (engine.home / "prefect-api.secret").stat().st_mode & 0o777 == 0o600
    for folder in ("logs", "prefect", "tmp"):
        assert (engine.home / folder).stat().st_mode & 0o077 == 0, folder  # nothing for group or others


def test_prefects_own_port_is_on_loopback_only(engine):
    from tests.system.test_production_start import listening, other_addresses

    assert listening(engine.port) == {"127.0.0.1"}
    for address in other_addresses():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{address}:{engine.port}/api/health", timeout=3)
    wait(lambda: httpx.get(f"{engine.api_url}/health", timeout=3).status_code == 200, 10, "Prefect on loopback")


def test_the_latency_bench_runs_through_the_gateway(engine):
    """`bench/latency.py` against this engine and its own worker, briefly: a line per path and one for the reads
    (the figures are the README's)."""
    import os
    import subprocess
    import sys

    from oja.config import PROJECT_DIR

    with engine.engine_db() as db:
        [case] = db.execute("SELECT ref FROM oja_case WHERE state = 'actief' AND school_code = '10HV'").fetchone()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OJA_"))}
    env["OJA_HOME"] = str(engine.home)
    result = subprocess.run(
        [sys.executable, "bench/latency.py", "--workers", "running", "--runs", "2", "--concurrent", "3",
         "--reads", "20", "--case", case, "--front", engine.dossier_url, "--api-url", engine.api_url],
        env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [dict(part.split("=") for part in text.split()) for text in result.stdout.splitlines()]
    assert [(f.get("worker"), f.get("path")) for f in lines] == [
        ("running", "direct"), ("running", "gateway"), ("running", "concurrent3"), (None, None)
    ], result.stdout  # fmt: skip
    assert [f["runs"] for f in lines[:3]] == ["2", "2", "6"]
    assert all(0 < float(f["p50_s"]) <= float(f["max_s"]) for f in lines[:3]), result.stdout
    assert float(lines[3]["read_gateway_p50_ms"]) > 0 and int(lines[3]["reads"]) == 20
