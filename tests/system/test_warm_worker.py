"""The engine's worker (`oja worker`, oja/entrypoints/worker.py) on the engine `oja start` runs: each run forked
from one warm parent, woken by Prefect's events, and a run killed mid-step harms no other run and leaves the case
and its audit consistent."""

from __future__ import annotations

import os
import signal
import statistics
from pathlib import Path

from oja.deployments import deployment_path
from oja.entrypoints.local_setup import descendants
from tests.system.conftest import wait

CASE, ACTOR = "OJA-2026-000006", "PRF-0001"  # the demo's active case, in the coordinator's school


def _named(pid: int, name: str) -> list[int]:
    found = []
    for child in sorted(descendants(pid)):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == name:
                found.append(child)
        except OSError:
            continue
    return found


def _warm_parent(engine) -> int:
    """The worker's warm parent (it imports the engine for a second or two after the worker starts)."""
    [parent] = wait(lambda: _named(engine.proc.pid, "oja-warm"), 60, "the worker's warm parent", every=0.2)
    return parent


def _measure(client, value: int = 1):
    deployment = client.read_deployment_by_name(deployment_path("meting-vastleggen"))
    form = {"case_ref": CASE, "goal_number": 1, "value": value, "actor": ACTOR}
    return client.create_flow_run_from_deployment(deployment.id, parameters={"form": form})


def _final(client, run_id, timeout: float = 120):
    wait(lambda: client.read_flow_run(run_id).state.is_final(), timeout, f"run {run_id} to end", every=0.1)
    return client.read_flow_run(run_id)


def _measurements(engine) -> tuple[int, int]:
    """The case's measurements, and its audit records of a measurement: one transaction writes both."""
    with engine.engine_db() as db:
        rows = db.execute(
            "SELECT count(*) FROM measurement JOIN goal ON goal.id = measurement.goal_id "
            "JOIN plan ON plan.id = goal.plan_id JOIN oja_case ON oja_case.id = plan.case_id WHERE oja_case.ref = ?",
            (CASE,),
        ).fetchone()[0]
        audits = db.execute(
            "SELECT count(*) FROM auditrecord WHERE case_ref = ? AND action = 'meting_vastleggen'", (CASE,)
        ).fetchone()[0]
    return rows, audits


def test_each_run_is_forked_from_one_warm_parent_and_is_picked_up_without_a_poll_wait(engine):
    """Five steps one after another: each ran in a process of its own (its pid on the run, a child of the one
    warm parent, gone afterwards), and each was taken within a fraction of the worker's poll interval (2 s in this
    engine): Prefect's event said it was Scheduled."""
    parent = _warm_parent(engine)
    pickups, pids = [], []
    with engine.client() as client:
        for _ in range(5):
            run = _final(client, _measure(client).id)
            assert run.state.is_completed(), run.state.message
            states = {s.type.value: s.timestamp for s in client.read_flow_run_states(run.id)}
            pickups.append((states["PENDING"] - run.created).total_seconds())
            pids.append(int(str(run.infrastructure_pid).rpartition(":")[2]))
    assert len(set(pids)) == 5 and parent not in pids, pids
    assert _named(engine.proc.pid, "oja-warm") == [parent], "the same warm parent served every run"
    wait(lambda: not _named(engine.proc.pid, "oja-run"), 30, "the runs' processes to end", every=0.2)
    # polling alone (every 2 s, jittered) would take a run after 1 s on average; an event wakes the worker at once
    assert statistics.median(pickups) < 0.5 and max(pickups) < 1.5, pickups


def test_a_run_killed_mid_step_harms_no_other_run_and_leaves_the_case_consistent(engine):
    """One run's process killed (SIGKILL) while it runs: that run ends Crashed, a run beside it and the next one
    complete in processes of their own from the same warm parent, and the case holds exactly one audit record per
    measurement (the killed step wrote all of its change or none of it)."""
    parent = _warm_parent(engine)
    before_rows, before_audits = _measurements(engine)
    with engine.client() as client:
        victim, beside = _measure(client, 2), _measure(client, 1)

        def running_pid() -> int | None:
            run = client.read_flow_run(victim.id)
            if run.state.is_final():
                return -1
            return int(str(run.infrastructure_pid).rpartition(":")[2]) if run.infrastructure_pid else None

        pid = wait(running_pid, 60, "the run's process to start", every=0.02)
        killed = pid > 0
        if killed:
            os.kill(pid, signal.SIGKILL)
        victim_end, beside_end = _final(client, victim.id), _final(client, beside.id)
        after = _final(client, _measure(client).id)
    assert beside_end.state.is_completed() and after.state.is_completed(), (beside_end.state, after.state)
    if killed:  # the process may have finished before the kill reached it (a step takes a fraction of a second)
        assert victim_end.state.type.value in ("CRASHED", "COMPLETED"), victim_end.state
    assert _named(engine.proc.pid, "oja-warm") == [parent], "the warm parent outlived the killed run"
    rows, audits = _measurements(engine)
    assert rows - before_rows == audits - before_audits, (rows, audits)
    # the run beside it, the next one, and the killed one if it had committed
    assert rows - before_rows in (2, 3), rows - before_rows
