"""How long a professional waits after Submit, directly on Prefect and through the engine's gateway, and what the
gateway adds to the UI's reads.

    python bench/latency.py --runs 8 [--reads 200] [--front http://127.0.0.1:4201] [--api-url http://127.0.0.1:4200/api]

Against a running engine (`make run`), on the machine it runs on (the bench uses the Prefect server's own secret
from OJA_HOME, and makes a session for `--as` in the engine's database, as a login does):

- a step: creates `--runs` runs of **07 Meting vastleggen** (a measurement on the demo's active case: worker, form
  check, one transaction, the result, tags, the school's worklist), one after another, alternately straight on
  Prefect's API with its secret and through the gateway as the logged-in professional (what Submit in the UI
  does), and measures each from just before the request to the moment its final state is read back the same way;
  `--refused` sends a triage the engine refuses instead;
- a read: `--reads` times the Runs page's search (`POST /api/flow_runs/filter`, 10 runs) each way, interleaved.

Prints one line (seconds for steps, milliseconds for reads; `added` is through the gateway minus direct):

    runs=N step_direct_p50_s=.. step_gateway_p50_s=.. step_added_p50_s=.. step_gateway_p95_s=.. reads=N
    read_direct_p50_ms=.. read_gateway_p50_ms=.. read_added_p50_ms=..
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _csrf(client: httpx.Client, path: str) -> None:
    """Fetch a Prefect CSRF token (its protection is on) and send it with every change, as the UI does."""
    csrf_client = str(uuid.uuid4())
    token = client.get(path, params={"client": csrf_client}).json()["token"]
    client.headers.update({"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": csrf_client})


def direct_client(api_url: str, secret: str) -> httpx.Client:
    client = httpx.Client(base_url=api_url, timeout=60)
    client.headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
    _csrf(client, "/csrf-token")
    return client


def gateway_client(front: str, code: str) -> httpx.Client:
    """A browser of `code`: a session made in the engine's database as a login makes it, the engine's Origin."""
    from oja.adapters.db import unit_of_work
    from oja.services.logins import open_session

    with unit_of_work() as session:
        token, _ = open_session(session, code, now=dt.datetime.now(dt.UTC))
    client = httpx.Client(base_url=front + "/api", timeout=60, headers={"Origin": front})
    client.cookies.set("oja_sessie", token)
    _csrf(client, "/csrf-token")
    return client


def step(client: httpx.Client, deployment_id: str, form: dict) -> float:
    """Seconds from Submit to the run's final state, as this client sees it (polling every 50 ms)."""
    started = time.perf_counter()
    for wait in (0.1, 0.2, 0.4, 0.8):  # Prefect on SQLite says 503 when busy: again, as its own client does
        answer = client.post(f"/deployments/{deployment_id}/create_flow_run", json={"parameters": {"form": form}})
        if answer.status_code != 503:
            break
        time.sleep(wait)
    answer.raise_for_status()
    run_id = answer.json()["id"]
    deadline = time.monotonic() + 120
    while (client.get(f"/flow_runs/{run_id}").json().get("state") or {}).get("type") not in FINAL:
        if time.monotonic() > deadline:
            raise SystemExit(f"run {run_id} did not finish within 120 s")
        time.sleep(0.05)
    return time.perf_counter() - started


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="steps each way")
    parser.add_argument("--reads", type=int, default=200, help="searches each way")
    parser.add_argument("--front", default=os.environ.get("OJA_DOSSIER_URL", "http://127.0.0.1:4201"))
    parser.add_argument("--api-url", default=os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api"))
    parser.add_argument("--case", default="OJA-2026-000006", help="a case past triage (the demo's active one)")
    parser.add_argument("--as", dest="code", default="PRF-0001", help="a professional in that case's scope")
    parser.add_argument("--refused", action="store_true", help="a step the engine refuses (nothing written)")
    args = parser.parse_args()

    from oja.adapters.prefect_secret import read_secret
    from oja.config import get_settings
    from oja.deployments import deployment_name

    secret = read_secret(get_settings().home.resolve())
    direct = direct_client(args.api_url.rstrip("/"), secret)
    gateway = gateway_client(args.front.rstrip("/"), args.code)
    if args.refused:
        flow, form = "triage", {"case_ref": args.case, "outcome": "oja", "level": 2}
    else:
        flow, form = "meting-vastleggen", {"case_ref": args.case, "goal_number": 1, "value": 1}
    [deployment] = [d for d in direct.post("/deployments/filter", json={}).json() if d["name"] == deployment_name(flow)]
    steps: dict[str, list[float]] = {"direct": [], "gateway": []}
    for _ in range(args.runs):
        steps["direct"].append(step(direct, deployment["id"], {**form, "actor": args.code}))
        steps["gateway"].append(step(gateway, deployment["id"], form))  # the actor filled in by the gateway
    reads: dict[str, list[float]] = {"direct": [], "gateway": []}
    search = {"limit": 10, "sort": "START_TIME_DESC"}
    for client in (direct, gateway):  # warm: connections open, the gateway's first session read done
        client.post("/flow_runs/filter", json=search).raise_for_status()
    for _ in range(args.reads):
        reads["direct"].append(timed(lambda: direct.post("/flow_runs/filter", json=search).raise_for_status()))
        reads["gateway"].append(timed(lambda: gateway.post("/flow_runs/filter", json=search).raise_for_status()))
    d, g = statistics.median(steps["direct"]), statistics.median(steps["gateway"])
    rd, rg = statistics.median(reads["direct"]) * 1000, statistics.median(reads["gateway"]) * 1000
    print(
        f"runs={args.runs} step_direct_p50_s={d:.2f} step_gateway_p50_s={g:.2f} step_added_p50_s={g - d:.2f} "
        f"step_gateway_p95_s={p(steps['gateway'], 0.95):.2f} reads={args.reads} read_direct_p50_ms={rd:.1f} "
        f"read_gateway_p50_ms={rg:.1f} read_added_p50_ms={rg - rd:.1f}"
    )


if __name__ == "__main__":
    main()
