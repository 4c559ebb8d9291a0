"""How many Submits at once `oja start` on SQLite takes without losing one: `--clients` professionals press Submit
again and again for `--seconds`, through the gateway (as the UI's Submit goes) or `--direct` on Prefect's API.

    python bench/concurrent_creates.py --clients 8 --seconds 20 [--pause 0] [--now] [--front http://127.0.0.1:4201]
        [--direct]

Against a running engine (`oja start`, on the machine it runs on: the bench reads the Prefect server's secret from
OJA_HOME and makes a session for `--as` in the engine's database, as a login does). Each Submit creates a run of
**07 Meting vastleggen** scheduled a year ahead (`--now`: due at once, so the worker runs them too, and their
writes contend as well), tagged with this bench's own tag; afterwards the bench counts the runs with that tag and
deletes them. A Submit is lost when its answer is neither a run (2xx) nor a refusal in Dutch (4xx), or when the
runs found differ from the 2xx answers (a run without its answer, or an answer without its run).

Prints one line:

    clients=N seconds=S via=gateway creates=.. creates_per_s=.. ok=.. refused=.. failed=.. no_answer=.. runs=..
    lost=.. p50_s=.. p95_s=.. max_s=.. load1=..
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def patiently(client: httpx.Client, method: str, url: str, **kwargs: object) -> httpx.Response:
    """The bench's own calls (not measured): tried again while Prefect is busy (503) or drops the connection."""
    for wait in (0.2, 0.5, 1, 2, 4, 8, None):
        try:
            answer = client.request(method, url, **kwargs)  # type: ignore[arg-type]
            if answer.status_code != 503 or wait is None:
                return answer.raise_for_status()
        except httpx.TransportError:
            if wait is None:
                raise
        time.sleep(wait or 0)
    raise AssertionError("unreachable")


def _csrf(client: httpx.Client) -> None:
    csrf_client = str(uuid.uuid4())
    token = patiently(client, "GET", "/csrf-token", params={"client": csrf_client}).json()["token"]
    client.headers.update({"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": csrf_client})


def direct_client(api_url: str, secret: str, timeout: float = 120) -> httpx.Client:
    client = httpx.Client(base_url=api_url, timeout=timeout)
    client.headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
    _csrf(client)
    return client


def gateway_client(front: str, code: str, timeout: float = 120) -> httpx.Client:
    """A browser of `code`: a session made in the engine's database as a login makes it, the engine's Origin."""
    from oja.adapters.db import unit_of_work
    from oja.services.logins import open_session

    with unit_of_work() as session:
        token, _ = open_session(session, code, now=dt.datetime.now(dt.UTC))
    client = httpx.Client(base_url=front + "/api", timeout=timeout, headers={"Origin": front})
    client.cookies.set("oja_sessie", token)
    _csrf(client)
    return client


def p(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: dict[int, int] = {}
        self.timeouts = 0
        self.ok_ids: set[str] = set()
        self.seconds: list[float] = []
        self.undutch: list[str] = []  # an error answer with no Dutch message (what the UI would show as "Something...")

    def add(self, status: int, took: float, answer: httpx.Response | None) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.seconds.append(took)
            if answer is not None and status < 300:
                self.ok_ids.add(answer.json()["id"])
            elif answer is not None and status >= 400:
                detail = ""
                try:
                    detail = str(answer.json().get("detail", ""))
                except ValueError:
                    pass
                if not detail:
                    self.undutch.append(f"{status} {answer.text[:80]}")


def submit_loop(client: httpx.Client, url: str, body: dict, until: float, tally: Tally, pause: float) -> None:
    while time.monotonic() < until:
        time.sleep(pause * random.uniform(0.5, 1.5))  # noqa: S311 - a person's pause, not a secret
        started = time.perf_counter()
        try:
            answer = client.post(url, json=body)
        except httpx.HTTPError:  # no answer at all (a timeout, a dropped connection): lost as well
            with tally.lock:
                tally.timeouts += 1
            continue
        tally.add(answer.status_code, time.perf_counter() - started, answer)


def run(args: argparse.Namespace) -> str:
    from oja.adapters.prefect_secret import read_secret
    from oja.config import get_settings
    from oja.deployments import deployment_name

    secret = read_secret(get_settings().home.resolve())
    api = args.api_url.rstrip("/")
    direct = direct_client(api, secret)
    deployments = patiently(direct, "POST", "/deployments/filter", json={}).json()
    [deployment] = [d for d in deployments if d["name"] == deployment_name("meting-vastleggen")]
    tag = f"bench:{uuid.uuid4().hex[:12]}"
    form = {"case_ref": args.case, "goal_number": 1, "value": 0.5}
    if args.direct:
        form["actor"] = args.code
        clients = [direct_client(api, secret) for _ in range(args.clients)]
    else:
        clients = [gateway_client(args.front.rstrip("/"), args.code) for _ in range(args.clients)]
    body: dict = {"parameters": {"form": form}, "tags": [tag]}
    if not args.now:
        when = (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).isoformat()
        body["state"] = {"type": "SCHEDULED", "state_details": {"scheduled_time": when}}
    tally = Tally()
    url = f"/deployments/{deployment['id']}/create_flow_run"
    started = time.monotonic()
    until = started + args.seconds
    threads = [threading.Thread(target=submit_loop, args=(c, url, body, until, tally, args.pause)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    load1 = os.getloadavg()[0]
    found: set[str] = set()
    offset = 0
    while True:
        query = {"flow_runs": {"tags": {"all_": [tag]}}, "limit": 200, "offset": offset}
        batch = patiently(direct, "POST", "/flow_runs/filter", json=query).json()
        found |= {r["id"] for r in batch}
        if len(batch) < 200:
            break
        offset += 200
    if not args.keep:
        for run_id in found:
            patiently(direct, "DELETE", f"/flow_runs/{run_id}")
    ok = sum(n for s, n in tally.statuses.items() if s < 300)
    refused = sum(n for s, n in tally.statuses.items() if 400 <= s < 500)
    failed = sum(n for s, n in tally.statuses.items() if s >= 500)
    creates = sum(tally.statuses.values()) + tally.timeouts
    lost = failed + tally.timeouts + len(found ^ tally.ok_ids)
    for client in [direct, *clients]:
        client.close()
    seconds = tally.seconds
    line = (
        f"clients={args.clients} seconds={elapsed:.0f} via={'direct' if args.direct else 'gateway'} creates={creates} "
        f"creates_per_s={ok / elapsed:.1f} ok={ok} refused={refused} failed={failed} no_answer={tally.timeouts} "
        f"runs={len(found)} lost={lost} p50_s={statistics.median(seconds or [0]):.2f} p95_s={p(seconds, 0.95):.2f} "
        f"max_s={max(seconds or [0]):.2f} load1={load1:.1f}"
    )
    if tally.undutch:
        line += f" undutch={len(tally.undutch)} first={tally.undutch[0]!r}"
    if failed:
        line += " statuses=" + ",".join(f"{s}:{n}" for s, n in sorted(tally.statuses.items()))
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="professionals pressing Submit at once")
    parser.add_argument("--seconds", type=float, default=20, help="how long they keep pressing it")
    parser.add_argument("--front", default=os.environ.get("OJA_DOSSIER_URL", "http://127.0.0.1:4201"))
    parser.add_argument("--api-url", default=os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api"))
    parser.add_argument("--case", default="OJA-2026-000006", help="a case past triage (the demo's active one)")
    parser.add_argument("--as", dest="code", default="PRF-0001", help="a professional in that case's scope")
    parser.add_argument("--pause", type=float, default=0, help="seconds a client waits between Submits (on average)")
    parser.add_argument("--direct", action="store_true", help="straight on Prefect's API with its secret")
    parser.add_argument("--now", action="store_true", help="runs due at once: the worker runs them as well")
    parser.add_argument("--keep", action="store_true", help="leave the bench's runs (else deleted afterwards)")
    print(run(parser.parse_args()))


if __name__ == "__main__":
    main()
