"""How long a professional waits from Submit to Completed, with the engine's worker and with Prefect's own process
worker in the same run; and what the gateway adds to the UI's reads.

    oja start --workers 0 --port 4200 --dossier-port 4201      # the engine without a worker: the bench brings its own
    python bench/latency.py [--runs 10] [--concurrent 10] [--reads 200] [--workers new,old|running]
                            [--front http://127.0.0.1:4201] [--api-url http://127.0.0.1:4200/api]

Against a running engine, on the machine it runs on (the bench reads the Prefect server's secret from OJA_HOME and
makes a session for `--as` in the engine's database, as a login does). For each worker in `--workers` it starts
that worker on the pool `oja` with the environment `oja start` gives its workers, waits for a first run, and then:

- `direct`: `--runs` runs of **07 Meting vastleggen** (a measurement on the demo's active case: the form checked,
  one transaction, the result, tags), one after another, created on Prefect's API with its secret;
- `gateway`: as many through the dossier's gateway as the logged-in professional (what Submit in the UI does),
  interleaved with the direct ones;
- `concurrentN`: `--concurrent` Submits through the gateway at the same moment, twice.

A run's time is from just before its create request to its final state's timestamp on the server, polled once a
second: the poll does not add to the time, but it loads the server the bench measures. Prefect's run page asks
about as much (its flow run, logs, task runs and graph each every 5 s); the bench asked 4 times a second until
issue 27, a fifth of the Prefect server's work while ten ran at once. `new` is the
engine's worker (`oja worker`: each run forked from a warm parent, woken by Prefect's events); `old` is `prefect
worker start --type process` polling every second, a fresh Python per run, as `oja start` ran it before. Then the
worker is stopped (SIGTERM) before the next one starts.

Prints a line per worker and path, and one for memory and one for the reads:

    worker=new path=direct runs=10 p50_s=.. p95_s=.. max_s=..
    memory worker=new parent_rss_mb=.. run_rss_mb=.. run_uss_mb=..
    reads=200 read_direct_p50_ms=.. read_gateway_p50_ms=.. read_added_p50_ms=..

`run_rss_mb` is the largest resident size of a run's process seen (sampled every 20 ms), `run_uss_mb` its own
memory, not shared with the parent (a fresh process shares nothing but the interpreter's file mappings).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _csrf(client: httpx.Client, path: str) -> None:
    """Fetch a Prefect CSRF token (its protection is on) and send it with every change, as the UI does."""
    csrf_client = str(uuid.uuid4())
    token = client.get(path, params={"client": csrf_client}).json()["token"]
    client.headers.update({"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": csrf_client})


def direct_client(api_url: str, secret: str) -> httpx.Client:
    client = httpx.Client(base_url=api_url, timeout=120)
    client.headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
    _csrf(client, "/csrf-token")
    return client


def gateway_client(front: str, code: str) -> httpx.Client:
    """A browser of `code`: a session made in the engine's database as a login makes it, the engine's Origin."""
    from oja.adapters.db import unit_of_work
    from oja.services.logins import open_session

    with unit_of_work() as session:
        token, _ = open_session(session, code, now=dt.datetime.now(dt.UTC))
    client = httpx.Client(base_url=front + "/api", timeout=120, headers={"Origin": front})
    client.cookies.set("oja_sessie", token)
    _csrf(client, "/csrf-token")
    return client


def step(client: httpx.Client, deployment_id: str, form: dict) -> float:
    """Seconds from just before the create request to the run's final state, by the server's clock."""
    started = time.time()
    for wait in (0.1, 0.2, 0.4, 0.8):  # Prefect on SQLite says 503 when busy: again, as its own client does
        answer = client.post(f"/deployments/{deployment_id}/create_flow_run", json={"parameters": {"form": form}})
        if answer.status_code != 503:
            break
        time.sleep(wait)
    answer.raise_for_status()
    run_id = answer.json()["id"]
    deadline = time.monotonic() + 120
    while (state := client.get(f"/flow_runs/{run_id}").json().get("state") or {}).get("type") not in FINAL:
        if time.monotonic() > deadline:
            raise SystemExit(f"run {run_id} did not finish within 120 s")
        time.sleep(1.0)  # about as often as a person's run page asks, not more: it loads the server it measures
    if state["type"] != "COMPLETED":
        raise SystemExit(f"run {run_id} ended {state['type']}: {state.get('message')}")
    return dt.datetime.fromisoformat(state["timestamp"]).timestamp() - started


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(worker: str, path: str, values: list[float]) -> str:
    return (
        f"worker={worker} path={path} runs={len(values)} p50_s={statistics.median(values):.2f} "
        f"p95_s={p(values, 0.95):.2f} max_s={max(values):.2f}"
    )


class Memory:
    """Samples the resident memory of the worker's processes every 20 ms, while a worker runs its runs one after
    another (`paused` while ten run at once: the sampling reads every process's /proc files, a third of a core
    taken from the runs it would measure; a run's memory does not depend on how many run beside it)."""

    def __init__(self, worker_pid: int) -> None:
        self.worker_pid = worker_pid
        self.parent_rss = 0.0
        self.run_rss = 0.0
        self.run_uss = 0.0
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()
        self._thread.join()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self._running.clear()
        try:
            yield
        finally:
            self._running.set()

    def _sample(self) -> None:
        from oja.entrypoints.local_setup import descendants

        while not self._stop.wait(0.02):
            self._running.wait()
            for pid in descendants(self.worker_pid):
                try:
                    comm = Path(f"/proc/{pid}/comm").read_text().strip()
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    rollup = _rollup(pid)
                except OSError:
                    continue
                rss = rollup.get("Rss", 0) / 1024
                if comm == "oja-warm":
                    self.parent_rss = max(self.parent_rss, rss)
                elif comm == "oja-run" or b"oja.entrypoints.engine" in cmdline:
                    self.run_rss = max(self.run_rss, rss)
                    uss = (rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)) / 1024
                    self.run_uss = max(self.run_uss, uss)


def _rollup(pid: int) -> dict[str, int]:
    """A process's memory in kB from /proc/<pid>/smaps_rollup (Rss, Pss, Private_Clean, Private_Dirty, ...)."""
    values = {}
    for row in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = row.partition(":")
        values[key] = int(rest.split()[0])
    return values


def start_worker(kind: str, env: dict[str, str], limit: int, home: Path) -> subprocess.Popen[bytes]:
    from oja.entrypoints.local_setup import venv_bin

    if kind == "new":
        command = [venv_bin("oja"), "worker", "--pool", "oja", "--limit", str(limit), "--name", "bench-new"]
    else:
        command = [venv_bin("prefect"), "worker", "start", "--pool", "oja", "--type", "process"]
        command += ["--limit", str(limit), "--name", "bench-old"]
    log = open(home / "logs" / f"bench-worker-{kind}.log", "ab")  # noqa: SIM115 - open while the worker runs
    return subprocess.Popen(command, env=env, cwd=PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT)


def worker_environment(args: argparse.Namespace, secret: str, home: Path) -> dict[str, str]:
    """What `oja start` gives its workers (oja/entrypoints/local.py), for the Prefect server at `--api-url`."""
    from urllib.parse import urlsplit

    from oja.config import get_settings
    from oja.entrypoints.local_setup import prefect_environment

    api = urlsplit(args.api_url)
    return {
        **os.environ,
        **prefect_environment(
            secret=secret,
            prefect_host=api.hostname or "127.0.0.1",
            port=api.port or 4200,
            front_url=args.front,
            home=home,
        ),
        "OJA_HOME": str(home),
        "OJA_DATABASE_URL": get_settings().effective_database_url,
        "OJA_PROJECT_DIR": str(PROJECT_DIR),
        "TMPDIR": str(home / "tmp"),
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def measure(
    kind: str, args: argparse.Namespace, env: dict[str, str], home: Path, run: Callable[[httpx.Client], float]
) -> list[str]:
    direct, gateway = args.clients
    worker = start_worker(kind, env, args.limit, home) if kind != "running" else None
    memory = Memory(worker.pid) if worker is not None else None
    try:
        run(direct)  # the worker is up and has taken a run (its warm parent started, its connections open)
        times: dict[str, list[float]] = {"direct": [], "gateway": []}
        for _ in range(args.runs):
            times["direct"].append(run(direct))
            times["gateway"].append(run(gateway))
        burst: list[float] = []
        clients = [gateway_client(args.front, args.code) for _ in range(args.concurrent)]
        with ThreadPoolExecutor(args.concurrent) as pool, memory.paused() if memory else contextlib.nullcontext():
            for _ in range(2):
                burst += list(pool.map(run, clients))
                time.sleep(1)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        if memory is not None:
            memory.stop()
    lines = [line(kind, path, values) for path, values in times.items()]
    lines.append(line(kind, f"concurrent{args.concurrent}", burst))
    if memory is not None:
        lines.append(
            f"memory worker={kind} parent_rss_mb={memory.parent_rss:.0f} run_rss_mb={memory.run_rss:.0f} "
            f"run_uss_mb={memory.run_uss:.0f}"
        )
    return lines


def reads(direct: httpx.Client, gateway: httpx.Client, count: int) -> str:
    def timed(call: Callable[[], object]) -> float:
        started = time.perf_counter()
        call()
        return time.perf_counter() - started

    search = {"limit": 10, "sort": "START_TIME_DESC"}
    for client in (direct, gateway):  # warm: connections open, the gateway's first session read done
        client.post("/flow_runs/filter", json=search).raise_for_status()
    took: dict[str, list[float]] = {"direct": [], "gateway": []}
    for _ in range(count):
        took["direct"].append(timed(lambda: direct.post("/flow_runs/filter", json=search).raise_for_status()))
        took["gateway"].append(timed(lambda: gateway.post("/flow_runs/filter", json=search).raise_for_status()))
    rd, rg = statistics.median(took["direct"]) * 1000, statistics.median(took["gateway"]) * 1000
    return f"reads={count} read_direct_p50_ms={rd:.1f} read_gateway_p50_ms={rg:.1f} read_added_p50_ms={rg - rd:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="steps each way, one after another")
    parser.add_argument("--concurrent", type=int, default=10, help="Submits at the same moment (twice)")
    parser.add_argument("--limit", type=int, default=10, help="runs a worker runs at once")
    parser.add_argument(
        "--workers", default="new,old", help="which workers, in this order: new, old; or `running` (the engine's own)"
    )
    parser.add_argument("--reads", type=int, default=200, help="searches each way")
    parser.add_argument("--front", default=os.environ.get("OJA_DOSSIER_URL", "http://127.0.0.1:4201"))
    parser.add_argument("--api-url", default=os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api"))
    parser.add_argument("--case", default="OJA-2026-000006", help="a case with a running arrangement (the demo's)")
    parser.add_argument("--as", dest="code", default="PRF-0001", help="a professional in that case's scope")
    args = parser.parse_args()
    args.front, args.api_url = args.front.rstrip("/"), args.api_url.rstrip("/")

    from oja.adapters.prefect_secret import read_secret
    from oja.config import get_settings
    from oja.deployments import deployment_name

    home = get_settings().home.resolve()
    secret = read_secret(home)
    direct = direct_client(args.api_url, secret)
    gateway = gateway_client(args.front, args.code)
    args.clients = (direct, gateway)
    pool_workers = direct.post("/work_pools/oja/workers/filter", json={}).json()
    # a worker of an earlier bench stays ONLINE on the server for a while after it stopped: not counted
    workers = [w for w in pool_workers if w["status"] == "ONLINE" and not w["name"].startswith("bench-")]
    if workers and args.workers != "running":
        names = ", ".join(w["name"] for w in workers)
        raise SystemExit(f"a worker is polling the pool already ({names}): start the engine with --workers 0")
    form = {"case_ref": args.case, "goal_number": 1, "value": 1}
    flow = deployment_name("meting-vastleggen")
    [deployment] = [d for d in direct.post("/deployments/filter", json={}).json() if d["name"] == flow]

    def run(client: httpx.Client) -> float:
        return step(client, deployment["id"], {**form, "actor": args.code} if client is direct else form)

    env = worker_environment(args, secret, home)
    for kind in args.workers.split(","):
        for text in measure(kind.strip(), args, env, home, run):
            print(text, flush=True)
    print(reads(direct, gateway, args.reads), flush=True)


if __name__ == "__main__":
    main()
