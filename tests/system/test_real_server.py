"""The engine as `oja start` starts it (the `engine` fixture of conftest.py): a real Prefect server with its
scheduler, deployments from prefect.yaml, a process worker, the dossier, and a real SMTP server on localhost.

The flow tests call flows directly on a test server, so they never see the scheduler. This test
does: it proves that every scheduled deployment gets scheduled runs (SQLAlchemy 2.1 broke exactly
that, silently), that a run the scheduler creates is picked up by the worker and its mail arrives,
that the operator alerts are installed, that the server logged no error, and that SIGTERM stops it all.
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from models.lifecycle import CaseState
from oja.adapters.alerts import AUTOMATION_NAME, SILENT_AUTOMATION_NAME
from oja.config import PROJECT_DIR
from oja.deployments import DEPLOYMENTS, deployment_path
from oja.entrypoints.local_setup import descendants
from tests.system.conftest import LOGIN_PAGE
from tests.system.conftest import wait as _wait

pytestmark = pytest.mark.system

ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback \(most recent call last\)")


def _scheduled_flows() -> set[str]:
    """The flow names of every deployment in prefect.yaml that has a schedule."""
    import importlib

    spec = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text(encoding="utf-8"))
    names = set()
    for deployment in spec["deployments"]:
        if deployment.get("schedules"):
            path, func = deployment["entrypoint"].split(":")
            module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
            names.add(getattr(module, func).name)
    return names


def _deployments_by_flow(client) -> dict[str, object]:
    flows = {f.id: f.name for f in client.read_flows()}
    return {flows[d.flow_id]: d for d in client.read_deployments()}


def test_the_scheduler_creates_runs_for_every_scheduled_deployment(engine):
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    scheduled = _scheduled_flows()
    assert scheduled == {"dagelijkse-herinneringen", "berichten-versturen", "dagelijkse-monitoring", "bewaartermijn"}
    with engine.client() as client:
        deployments = _deployments_by_flow(client)
        assert len(deployments) == 18, sorted(deployments)

        def runs_of(flow_name: str) -> list:
            return client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployments[flow_name].id])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
                ),
            )

        def all_scheduled() -> dict[str, list]:
            found = {name: runs_of(name) for name in scheduled}
            return found if all(found.values()) else {}

        found = _wait(all_scheduled, 60, "scheduled runs of " + ", ".join(sorted(scheduled)))
    for name, runs in found.items():
        assert all(r.auto_scheduled for r in runs), name  # made by the scheduler, not by hand
        assert all(r.expected_start_time > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1) for r in runs)
    amsterdam = ZoneInfo("Europe/Amsterdam")
    times = {r.expected_start_time.astimezone(amsterdam).strftime("%H:%M") for r in found["dagelijkse-herinneringen"]}
    assert times == {"07:00"}, "the daily sweep runs at 07:00 Amsterdam time"


def test_a_scheduled_sweep_runs_on_the_worker_and_its_mail_arrives(engine):
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with engine.engine_db() as db:
        day, refs = db.execute(
            "SELECT next_review_on, group_concat(ref) FROM oja_case WHERE state = ? "
            "GROUP BY next_review_on ORDER BY next_review_on LIMIT 1",
            (CaseState.ACTIVE.value,),
        ).fetchone()
    assert day, "the demo region has active arrangements with a review planned"
    with engine.client() as client:
        sweep = _deployments_by_flow(client)["dagelijkse-herinneringen"]
        # a short schedule made for the test: one run in a few seconds (then hourly), for the review day
        anchor = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=8)
        response = client._client.post(
            f"/deployments/{sweep.id}/schedules",
            json=[
                {
                    "schedule": {"interval": 3600, "anchor_date": anchor.isoformat(), "timezone": "UTC"},
                    "active": True,
                    "parameters": {"sweep_date": day},
                }
            ],
        )
        response.raise_for_status()

        def finished_run():
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[sweep.id])),
            )
            done = [r for r in runs if r.parameters.get("sweep_date") == day and r.state and r.state.is_final()]
            return done[0] if done else None

        run = _wait(finished_run, 120, f"the scheduled sweep for {day} to finish on the worker")
    assert run.state.is_completed(), f"{run.state.name}: {run.state.message}"
    assert run.auto_scheduled and run.work_pool_name == "oja"
    assert run.name == f"herinneringsronde {day}"
    reminders = [m for m in engine.smtp.messages if "beheer@region.example" not in m.rcpt_tos]
    assert reminders, "the sweep's mail reached the SMTP server"
    text = "\n".join(m.text for m in reminders)
    assert any(ref in text for ref in refs.split(",")), "a review due that day is in the mail"


def _page(engine, browser, tmp_path, url: str, name: str, wait_for: str, code: str = "PRF-0001"):
    """The Prefect UI's page at `url`, through the gateway, for `code` logged in."""
    _, page = engine.signed_in(browser, code)
    page.goto(url)
    page.get_by_text(wait_for).first.wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / f"{name}.png", full_page=True)  # kept with the test's files, to look at
    return page


def _coordinator(engine, school: str) -> str:
    with engine.engine_db() as db:
        [code] = db.execute(
            "SELECT code FROM professional WHERE role = 'zorgcoordinator' AND school_code = ? ORDER BY code", (school,)
        ).fetchone()
    return code


def test_the_case_link_in_a_reminder_opens_the_case_page_in_the_dossier_after_login(engine, browser, tmp_path):
    """The link in a reminder opens the dossier (it holds the names, Prefect does not): first its login page,
    then, logged in as the coordinator of the case's school, the case page. A coordinator of another school
    who follows the same link is refused, and the refusal is in the access log."""
    reminders = [m for m in engine.smtp.messages if "/casus/" in m.text]  # not the operators' or a family's mail
    assert reminders, "the scheduled sweep (test above) sent reminders"
    text = reminders[0].text
    link = re.search(r"http://\S+", text).group(0)
    case_ref = re.search(r"OJA-\d{4}-\d{6}", link).group(0)
    assert link == f"{engine.dossier_url}/casus/{case_ref}", link  # the dossier this engine runs
    with engine.engine_db() as db:
        school, given, family = db.execute(
            "SELECT c.school_code, p.given_name, p.family_name FROM oja_case c JOIN pupil p ON p.id = c.pupil_id"
            " WHERE c.ref = ?",
            (case_ref,),
        ).fetchone()
    assert family not in text and given not in text, "the mail names no pupil"

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(link)
    page.wait_for_url(LOGIN_PAGE)  # not logged in: the login page, which returns to the case
    assert page.get_by_role("heading", name="Inloggen").is_visible()
    page.screenshot(path=tmp_path / "reminder-login.png", full_page=True)
    engine.log_in(page, _coordinator(engine, school))
    page.wait_for_url(link)
    assert page.locator("h1").inner_text().startswith(f"{given} {family}")
    assert case_ref in page.locator("h1").inner_text()
    page.screenshot(path=tmp_path / "reminder-case.png", full_page=True)
    runs = page.get_by_role("link", name="Alle stappen van deze casus in Prefect").get_attribute("href")
    assert runs.startswith(f"{engine.ui_url}/") and case_ref in runs
    context.close()

    other = "PRF-0002" if school != "11HE" else "PRF-0001"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(link)
    page.wait_for_url(LOGIN_PAGE)
    engine.log_in(page, other)
    page.wait_for_url(link)
    assert page.get_by_role("heading", name="Geen toegang").is_visible()
    body = page.locator("body").inner_text()
    assert f"alleen casussen van school {'11HE' if other == 'PRF-0002' else '10HV'}" in body
    assert family not in body and given not in body
    page.screenshot(path=tmp_path / "reminder-refused.png", full_page=True)
    context.close()
    with engine.engine_db() as db:
        refused = db.execute(
            "SELECT count(*) FROM access_log WHERE professional_code = ? AND case_ref = ? AND outcome = 'geweigerd'",
            (other, case_ref),
        ).fetchone()[0]
    assert refused == 1


def test_a_manager_sees_the_caseload_with_small_numbers_hidden_in_the_prefect_ui(engine, browser, tmp_path):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from oja.entrypoints.demo import PUPILS

    with engine.client() as client:
        monitoring = client.read_deployment_by_name(deployment_path("dagelijkse-monitoring"))
        run = client.create_flow_run_from_deployment(monitoring.id)  # as its schedule does: no parameters
        _wait(lambda: client.read_flow_run(run.id).state.is_final(), 120, "the monitoring run on the worker")
        finished = client.read_flow_run(run.id)
        assert finished.state.is_completed()
        amsterdam = dt.datetime.now(ZoneInfo("Europe/Amsterdam")).date()
        assert finished.name in {f"monitoring {amsterdam}", f"monitoring {amsterdam - dt.timedelta(days=1)}"}
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["oja-caseload-per-school"])), limit=1
        )
    url = f"{engine.ui_url}/artifacts/artifact/{artifact.id}"
    page = _page(engine, browser, tmp_path, url, "caseload", "niveau 0", code="PRF-0041")  # the manager
    table = page.locator("table").inner_text()
    assert "totaal" in table and "×" in table and "10HV" in table
    body = page.locator("body").inner_text()
    assert not [p.family_name for p in PUPILS if p.family_name in body]  # codes and counts only
    page.context.close()


def test_every_deployment_is_named_after_its_step_as_prefect_yaml_says(engine):
    with engine.client() as client:
        named = {flow: d.name for flow, d in _deployments_by_flow(client).items()}
        found = {flow: client.read_deployment_by_name(deployment_path(flow)).name for flow in DEPLOYMENTS}
    assert named == DEPLOYMENTS == found


def test_the_deployments_page_reads_as_a_menu_in_lifecycle_order(engine, browser, tmp_path):
    url = f"{engine.ui_url}/deployments"
    page = _page(engine, browser, tmp_path, url, "deployments", DEPLOYMENTS["signaal-registreren"])
    shown = page.locator(".deployment-list__name").all_inner_texts()
    page.context.close()
    # the UI's default, A to Z: the steps of the lifecycle in order, then the scheduled work, all on one page
    assert shown == list(DEPLOYMENTS.values())


def _case_in(engine, state: str, school: str | None = None) -> str:
    with engine.engine_db() as db:
        query = "SELECT ref FROM oja_case WHERE state = ?" + (" AND school_code = ?" if school else "") + " ORDER BY id"
        return db.execute(query, (state, school) if school else (state,)).fetchone()[0]


def _run_step(engine, client, flow: str, form: dict, *, wait: bool = True):
    deployment = client.read_deployment_by_name(deployment_path(flow))
    run = client.create_flow_run_from_deployment(deployment.id, parameters={"form": form})
    if wait:
        _wait(lambda: client.read_flow_run(run.id).state.is_final(), 120, f"the {flow} run on the worker")
    return client.read_flow_run(run.id)


def test_a_refused_step_ends_with_its_dutch_message_and_no_traceback_on_the_worker(engine):
    from prefect.client.schemas.filters import LogFilter

    active = _case_in(engine, CaseState.ACTIVE.value)
    with engine.engine_db() as db:
        [regie] = db.execute("SELECT regie_holder_code FROM oja_case WHERE ref = ?", (active,)).fetchone()
    with engine.client() as client:
        run = _run_step(engine, client, "triage", {"case_ref": active, "outcome": "oja", "level": 2, "actor": regie})
        assert run.state.is_failed()
        assert run.state.message.startswith(
            f"casus {active}: stap 'triage: arrangement in school' kan niet in status 'arrangement loopt'"
        )
        time.sleep(3)  # the run's last log lines reach the API in a batch
        logs = client.read_logs(log_filter=LogFilter(flow_run_id={"any_": [run.id]}))
    text = "\n".join(log.message for log in logs)
    assert "Niet vastgelegd (Triage):" in text and "Traceback" not in text, text
    assert not [log for log in logs if log.level >= 40], "a person's refused input is no operator's error"
    # the Dutch message first, after only the worker's own two lines (it took the run, handed it on): none of the
    # run process's routine lines (pull steps, "Beginning flow run", the task's "Finished in state Completed()")
    first = [log.message.splitlines()[0] for log in logs if log.name != "prefect.flow_runs.worker"]
    assert first[0] == "Niet vastgelegd (Triage):", first
    assert len([log for log in logs if log.name == "prefect.flow_runs.worker"]) <= 2, text


def test_a_step_shows_what_comes_next_and_its_link_opens_the_next_form_filled_in(engine, browser, tmp_path):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with engine.engine_db() as db:  # a demo pupil of 11HE without an open case
        [pupil] = db.execute(
            "SELECT ref FROM pupil WHERE school_code = '11HE' AND id NOT IN"
            " (SELECT pupil_id FROM oja_case WHERE state != 'gesloten') ORDER BY id LIMIT 1"
        ).fetchone()
    form = {
        "pupil_ref": pupil,
        "school_code": "11HE",
        "source": "school",
        "domains": ["leren"],
        "actor": "PRF-0002",  # the coordinator of 11HE
    }
    with engine.client() as client:
        run = _run_step(engine, client, "signaal-registreren", form)
        assert run.state.is_completed(), run.state.message
        [case_tag] = [t for t in run.tags if t.startswith("casus:")]
        assert "school:11HE" in run.tags
        ref = case_tag.removeprefix("casus:")
        assert run.name == f"signaal {pupil}"
        [result] = [
            a
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
            )
            if not a.key and a.type == "markdown"
        ]
    page = _page(
        engine, browser, tmp_path, f"{engine.ui_url}/artifacts/artifact/{result.id}", "result", "Wat nu", "PRF-0002"
    )
    body = page.locator("body").inner_text()
    assert f"Signaal registreren: {ref}" in body and "Triage: uiterlijk" in body
    href = page.get_by_role("link", name="Triage").last.get_attribute("href")
    page.goto(href)  # opens the triage form with the case filled in
    page.wait_for_function(
        "ref => [...document.querySelectorAll('textarea, input')].some(i => i.value === ref)", arg=ref, timeout=30_000
    )
    page.screenshot(path=tmp_path / "next-form.png", full_page=True)
    page.context.close()


def _flow_run_processes(pid: int) -> list[int]:
    """The flow-run processes under `pid`: forked from the worker's warm parent (named `oja-run`), or, by Prefect's
    own process worker, started as `python -m oja.entrypoints.engine`."""
    found = []
    for child in descendants(pid):
        try:
            comm = Path(f"/proc/{child}/comm").read_text().strip()
            if comm == "oja-run" or b"oja.entrypoints.engine" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            continue
    return found


def test_fifty_open_reviews_hold_no_process_and_the_result_link_decides_as_recommended(engine, browser, tmp_path):
    """A review's run ends with the recommendation: nothing waits for the decision. 50 reviews recorded through
    the worker leave 50 cases waiting for a decision and not one process more than before; the decision is
    taken from the result's link, a form preset to the recommendation: Submit."""
    from models.schooldays import previous_school_day
    from oja.adapters.db import get_engine
    from tests.factories import active_case, valid_bsn

    # as of the last school day: an arrangement started on a Saturday starts on Monday, with no review before it
    today = previous_school_day(dt.datetime.now(ZoneInfo("Europe/Amsterdam")).date(), "noord")
    db = get_engine(f"sqlite:///{engine.home / 'oja.db'}")
    refs = [
        active_case(
            db, school="10HV", coordinator="PRF-0001", bsn=valid_bsn(i, base=300000000), born=dt.date(2009, 5, 5),
            today=today, provider="JEUGDPUNT", names=("Vijftig", f"Evaluaties{i}"),
        )
        for i in range(50)
    ]  # fmt: skip
    before = descendants(engine.proc.pid)
    runs = []
    with engine.client() as client:
        deployment = client.read_deployment_by_name(deployment_path("evaluatie-vastleggen"))
        for wave in range(0, len(refs), 10):  # ten at a time: the worker starts a process per run
            batch = [
                client.create_flow_run_from_deployment(
                    deployment.id, parameters={"form": {"case_ref": ref, "actor": "PRF-0001"}}
                )
                for ref in refs[wave : wave + 10]
            ]
            ids = [run.id for run in batch]
            _wait(lambda ids=ids: all(client.read_flow_run(i).state.is_final() for i in ids), 180, "ten runs")
            runs += batch
        states = [client.read_flow_run(run.id).state for run in runs]
    assert [s.type.value for s in states] == ["COMPLETED"] * 50, [s.message for s in states if not s.is_completed()]
    with engine.engine_db() as conn:
        waiting = conn.execute(
            f"SELECT count(*) FROM oja_case WHERE state = 'geevalueerd' AND ref IN ({','.join('?' * 50)})", refs
        ).fetchone()[0]
    assert waiting == 50  # every one waits for its decision, in the database
    _wait(lambda: not _flow_run_processes(engine.proc.pid), 30, "the review runs' processes to exit")
    # 50 open reviews, 0 extra processes: once the worker has reaped its last run (on a loaded machine a run's
    # process can stay a moment as a zombie, no longer a flow run but still below the worker)
    _wait(lambda: descendants(engine.proc.pid) <= before, 30, "no process beyond those before the runs")
    assert descendants(engine.proc.pid) <= before

    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with engine.client() as client:
        [result] = [
            a
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[runs[0].id]))
            )
            if not a.key and a.type == "markdown"
        ]
    page = _page(engine, browser, tmp_path, f"{engine.ui_url}/artifacts/artifact/{result.id}", "review", "Aanbeveling")
    body = page.locator("body").inner_text()
    assert "Aanbeveling: voortzetten" in body and "Besluit na de evaluatie: uiterlijk" in body
    page.goto(page.get_by_role("link", name="Besluit nemen").last.get_attribute("href"))
    page.wait_for_function(
        "ref => [...document.querySelectorAll('textarea, input')].some(i => i.value === ref)", arg=refs[0],
        timeout=30_000,
    )  # fmt: skip
    page.screenshot(path=tmp_path / "decision-form.png", full_page=True)
    page.get_by_role("button", name="Submit").click()  # as preset: the recommendation
    page.wait_for_url("**/deployments/deployment/*?tab=Runs", timeout=30_000)
    page.context.close()

    def decided() -> bool:
        with engine.engine_db() as conn:
            row = conn.execute("SELECT state FROM oja_case WHERE ref = ?", (refs[0],)).fetchone()
        return row[0] == CaseState.ACTIVE.value

    _wait(decided, 120, "the decision run to carry out the recommendation")


def test_the_operator_alerts_are_installed(engine):
    with engine.client() as client:
        late = client.read_automations_by_name(AUTOMATION_NAME)
        silent = client.read_automations_by_name(SILENT_AUTOMATION_NAME)
    assert len(late) == 1 and len(silent) == 1
    assert silent[0].trigger.posture == "Proactive"
    assert silent[0].trigger.within == dt.timedelta(hours=26)
    assert silent[0].trigger.expect == {"prefect.flow-run.Completed"}


LOG_ENTRY = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| ", re.MULTILINE)  # a log line starts with its time
SQLITE_CONTENTION = "sqlite3.OperationalError: database is locked"


def test_the_server_and_workers_logged_no_error(engine):
    """No error of ours in any log. Prefect's server on SQLite reports write contention between runs at once as
    an error it answers with a retry (its own DEFERRED transactions); counted apart, and every run of this
    module ended as it should. A region runs the Prefect server on PostgreSQL (README)."""
    logs = engine.home / "logs"
    server_log = (logs / "prefect-server.log").read_text(errors="replace")
    assert server_log.strip(), "the server's output is kept"
    for path in sorted(logs.glob("*.log")):
        text = path.read_text(errors="replace")
        starts = [m.start() for m in LOG_ENTRY.finditer(text)] + [len(text)]
        entries = [text[a:b] for a, b in zip([0, *starts], starts, strict=False) if text[a:b].strip()]
        errors = [e for e in entries if ERROR_LINE.search(e) and SQLITE_CONTENTION not in e]
        assert not errors, f"{path.name}:\n" + "\n".join(e[:2000] for e in errors[:5])


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_sigterm_stops_everything_oja_start_started_within_ten_seconds(engine):
    """Last in this module: the server, the workers and their flow-run processes all go, and the port is free."""
    started = descendants(engine.proc.pid)
    assert len(started) >= 2, "the server and a worker run under oja start"
    stopping = time.monotonic()
    engine.proc.send_signal(signal.SIGTERM)
    assert engine.proc.wait(timeout=60) == 0
    took = time.monotonic() - stopping
    from oja.entrypoints.local_setup import port_free

    assert port_free("127.0.0.1", engine.port), "the Prefect server stopped with oja start"
    assert port_free("127.0.0.1", engine.dossier_port), "the dossier stopped with oja start"
    assert not [pid for pid in started if _alive(pid)], "a child of oja start survived"
    assert took <= 10, f"oja start took {took:.1f} s to stop"
