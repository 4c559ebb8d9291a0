"""The engine as production runs it, for `bench/faults.py`: a Prefect server of its own, the process work pool,
the deployments from prefect.yaml and a process worker, with the means to kill and restart each of them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 300
SWEEP, SEND = "dagelijkse-herinneringen", "berichten-versturen"  # the flows of 17 and 18, deployed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _flow_run_process(run_id: str) -> int | None:
    """The process running this flow run: the pid the worker put on the run (`oja worker` forks each run from its
    warm parent, a process named `oja-run`), while it is alive; None before the worker has said it, or when the
    server cannot be asked."""
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            said = client.read_flow_run(run_id).infrastructure_pid  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - the server away (a fault of the bench's own): not known now
        return None
    if not said:
        return None
    pid = int(str(said).rpartition(":")[2])
    return pid if _alive(pid) else None


def _dump_stacks(pid: int) -> None:
    """Where a hung run's process is (py-spy's dump, if py-spy is installed), to standard error."""
    import shutil

    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if Path(spy).exists():
        subprocess.run([spy, "dump", "--pid", str(pid)], check=False, timeout=60)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")  # a zombie has ended


class Engine:
    """The engine as production runs it, on a Prefect server of its own: server, work pool, deployments
    from prefect.yaml, one engine worker (`oja worker`). Every process it starts leads a process group of its own, ended
    in `close` (a worker's group holds the flow runs it started, also those it left behind when killed)."""

    def __init__(self, home: Path, settings: dict[str, str]) -> None:
        self.home = home
        self.port = _free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        (home / "logs").mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OJA_"))}
        self.env.update(
            PREFECT_HOME=str(home / "prefect"),
            PREFECT_API_URL=self.api_url,
            PREFECT_SERVER_API_HOST="127.0.0.1",
            PREFECT_SERVER_API_PORT=str(self.port),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_UI_ENABLED="false",
            PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",  # the bench starts every run; no 07:00 runs
            PREFECT_WORKER_QUERY_SECONDS="0.5",  # `oja start` sets 1 s; the bench waits less
            OJA_HOME=str(home / "oja"),
            OJA_PROJECT_DIR=str(PROJECT_DIR),
            PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            **settings,
        )
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.groups: list[int] = []
        self.workers_started = 0
        self.deployments: dict[str, str] = {}

    def _spawn(self, cmd: list[str], log: str) -> subprocess.Popen[bytes]:
        with open(self.home / "logs" / log, "ab") as out:
            proc = subprocess.Popen(
                cmd, env=self.env, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.groups.append(proc.pid)
        return proc

    def _cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([_bin("prefect"), *args], env=self.env, cwd=PROJECT_DIR, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"prefect {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        return result

    def start_server(self) -> None:
        from oja.entrypoints.local import _wait_for_api

        for attempt in range(3):  # a start that failed (the port not yet free): once more
            self.server = self._spawn(
                # as `oja start` runs it: its SQLite transactions waiting their turn (oja/entrypoints/prefect_server.py)
                [_bin("python"), "-m", "oja.entrypoints.prefect_server", "server", "start", "--host", "127.0.0.1"]
                + ["--port", str(self.port)],
                "server.log",
            )
            try:
                _wait_for_api(self.api_url, 180, self.server)
                return
            except RuntimeError as exc:
                print(f"the Prefect server did not start: {exc}", file=sys.stderr)
                if attempt == 2:
                    raise
                if self._ours(self.server.pid):
                    _kill_group(self.server.pid, signal.SIGKILL)
                self.server.wait()
                time.sleep(1)

    def restart_server(self) -> None:
        """Kill the server (and its uvicorn) without warning, and start it again on the same port."""
        assert self.server is not None
        if self._ours(self.server.pid):
            _kill_group(self.server.pid, signal.SIGKILL)
        self.server.wait()
        self.start_server()

    def deploy(self) -> None:
        from prefect.client.orchestration import get_client

        from oja.adapters.work_pool import ensure_work_pool
        from oja.deployments import deployment_name, deployment_path

        ensure_work_pool(self._cli)  # the engine's template: the flow-run process, no command from a run
        names = [arg for flow in (SWEEP, SEND) for arg in ("--name", deployment_name(flow))]
        self._cli("--no-prompt", "deploy", *names)
        with get_client(sync_client=True) as client:
            for flow in (SWEEP, SEND):
                self.deployments[flow] = str(client.read_deployment_by_name(deployment_path(flow)).id)

    def start_worker(self) -> None:
        self.workers_started += 1
        n = self.workers_started
        # the engine's worker, as `oja start` runs it: each run forked from its warm parent
        cmd = [_bin("oja"), "worker", "--pool", "oja", "--name", f"bench-{n}"]
        self.worker = self._spawn(cmd, f"worker-{n}.log")

    def kill_worker(self) -> None:
        """Kill the worker alone (SIGKILL): the flow run it started goes on, in the worker's process group."""
        assert self.worker is not None
        self.worker.kill()
        self.worker.wait()

    def ensure_running(self) -> None:
        """A server or worker that ended unasked for is started again (and said so)."""
        if self.server is not None and self.server.poll() is not None:
            code = self.server.returncode
            print(f"the Prefect server had stopped (exit code {code}): started again", file=sys.stderr)
            self.start_server()
        if self.worker is None or self.worker.poll() is not None:
            self.start_worker()

    def _ours(self, pgid: int) -> bool:
        """Whether a process of this group is still the bench's (the group id may since be another's)."""
        marker = f"PREFECT_HOME={self.env['PREFECT_HOME']}".encode()
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and int((entry / "stat").read_text().rpartition(")")[2].split()[2]) == pgid:
                    if marker in (entry / "environ").read_bytes().split(b"\0"):
                        return True
            except (OSError, ValueError, IndexError):
                continue
        return False

    def close(self) -> None:
        """End every process the bench started: the servers, the workers and the flow runs they left."""
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            groups = [pgid for pgid in self.groups if self._ours(pgid)]
            for pgid in groups:
                _kill_group(pgid, sig)
            deadline = time.monotonic() + grace
            while any(self._ours(pgid) for pgid in groups) and time.monotonic() < deadline:
                for proc in (self.worker, self.server):
                    if proc is not None:
                        proc.poll()  # reaped: a zombie of ours is no longer a member
                time.sleep(0.1)
        for proc in (self.worker, self.server):
            if proc is not None:
                proc.wait()

    # runs

    def create_run(self, flow: str, parameters: dict[str, object]) -> str:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            return str(client.create_flow_run_from_deployment(self.deployments[flow], parameters=parameters).id)

    def state(self, run_id: str) -> str:
        from prefect.client.orchestration import get_client

        try:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(run_id).state  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - the server may be away: say so
            return f"unknown ({type(exc).__name__})"
        return state.name if state is not None else "none"

    def running_since(self, run_id: str) -> float | None:
        """When the run started running (its flow function called, `plan_and_send` first), if it has."""
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            start = client.read_flow_run(run_id).start_time  # type: ignore[arg-type]
        return start.timestamp() if start is not None else None

    def work_span(self, run_id: str) -> float | None:
        """How long after the run started running its `plan_and_send` ended (task runs are recorded by the
        server from events, a moment late: read once the run has ended)."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        started = self.running_since(run_id)
        with get_client(sync_client=True) as client:
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        for task in tasks:
            if task.name.startswith("herinneringen-bepalen-en-versturen") and task.end_time and started:
                return task.end_time.timestamp() - started
        return None

    def process(self, run_id: str) -> int | None:
        """Wait for the worker to start the run's process; None if the run ended without one being seen."""
        deadline, checked = time.monotonic() + RUN_TIMEOUT, time.monotonic()
        while time.monotonic() < deadline:
            pid = _flow_run_process(run_id)
            if pid is not None:
                return pid
            if time.monotonic() - checked > 2:
                checked = time.monotonic()
                if self.state(run_id) in ("Completed", "Failed", "Crashed", "Cancelled"):
                    return None
            time.sleep(0.05)
        raise RuntimeError(f"flow run {run_id} was not started within {RUN_TIMEOUT} s")

    def finish(self, run_id: str, pid: int | None) -> str:
        """Wait for the run's process to end, then for its final state on the server (a run that could not
        report its end, the server being away, stays Running there: its state is given as it is)."""
        deadline = time.monotonic() + RUN_TIMEOUT
        while pid is not None and _alive(pid):
            if time.monotonic() > deadline:
                _dump_stacks(pid)
                raise RuntimeError(f"flow run {run_id} (process {pid}) hung")
            time.sleep(0.05)
        settle = time.monotonic() + 10
        while (state := self.state(run_id)) not in ("Completed", "Failed", "Crashed", "Cancelled"):
            if time.monotonic() > settle:
                break
            time.sleep(0.2)
        return state


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
