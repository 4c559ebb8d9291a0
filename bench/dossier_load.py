"""The dossier and the gateway under load: N clients, each a logged-in demo professional, browsing *Mijn casussen*
and case pages back to back, as fast as the answers come.

    python bench/dossier_load.py --clients 50 [--seconds 20] [--database-url postgresql://...] [--workers 2]
    python bench/dossier_load.py --clients 50 --front http://127.0.0.1:4201 [--api-url http://127.0.0.1:4200/api]

Self-contained (no `--front`): a new database (a SQLite file in a temporary folder, or `--database-url`, which the
bench fills: give it an empty one) with the demo region (`oja demo`), served by `oja dossier --workers W` on a free
port as a process of its own (the bench's clients do not share its cores' time with the server's event loop). No
Prefect there: the pages only.

Against a running engine (`--front`, e.g. `oja start`): the sessions are made in that engine's database (OJA_HOME,
OJA_DATABASE_URL as the engine has them), and while the clients browse, one more client reads the Runs page's
search (`POST /api/flow_runs/filter`) alternately through the front, as a logged-in professional, and directly on
Prefect with its secret (`bench/latency.py`): what the gateway adds to a read at that load.

Sessions are made as a login makes them (`oja.services.logins.open_session`): the login itself (Argon2, a TOTP
code used once) is not what is measured. Each client is one of the nine demo professionals who see cases (clients
share a professional when there are more than nine); its case pages are the cases its *Mijn casussen* links to.
Prints one line (times over every page request; an error is an answer other than 200, or none within 30 s):

    clients=N requests=.. req_per_s=.. p50_ms=.. p95_ms=.. p99_ms=.. max_ms=.. errors=..
    [read_direct_p50_ms=.. read_front_p50_ms=.. read_added_p50_ms=..]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the demo's professionals who see cases (oja/entrypoints/demo.py): coordinators, youth workers, district teams
PROFESSIONALS = ("PRF-0001", "PRF-0002", "PRF-0003", "PRF-0004", "PRF-0011", "PRF-0012", "PRF-0013", "PRF-0021",
                 "PRF-0022")  # fmt: skip
CASE_LINK = re.compile(r'href="/casus/(OJA-\d{4}-\d{6})"')
SEARCH = {"limit": 10, "sort": "START_TIME_DESC"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def sessions(count: int) -> list[tuple[str, str]]:
    """(professional, session token) for each client, made in the configured database as a login makes them."""
    from oja.adapters.db import unit_of_work
    from oja.services.logins import open_session

    made = []
    with unit_of_work() as s:
        for n in range(count):
            code = PROFESSIONALS[n % len(PROFESSIONALS)]
            made.append((code, open_session(s, code, now=dt.datetime.now(dt.UTC))[0]))
    return made


class Load:
    def __init__(self, front: str, clients: int, seconds: float) -> None:
        self.front, self.clients, self.seconds = front.rstrip("/"), clients, seconds
        self.times: list[float] = []
        self.errors = 0
        self.stop = 0.0

    async def get(self, client: httpx.AsyncClient, path: str) -> str | None:
        started = time.perf_counter()
        try:
            answer = await client.get(path)
        except httpx.HTTPError:
            answer = None
        if time.perf_counter() < self.stop:
            self.times.append(time.perf_counter() - started)
            if answer is None or answer.status_code != 200:
                self.errors += 1
        return answer.text if answer is not None and answer.status_code == 200 else None

    async def browse(self, token: str, start: asyncio.Event) -> None:
        """A professional: *Mijn casussen*, then one of its cases, again and again."""
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=self.front, timeout=30, limits=limits) as client:
            client.cookies.set("oja_sessie", token)
            first = (await client.get("/")).text
            refs = sorted(set(CASE_LINK.findall(first))) or [""]
            await start.wait()
            n = 0
            while time.perf_counter() < self.stop:
                await self.get(client, "/")
                if refs[0]:
                    await self.get(client, f"/casus/{refs[n % len(refs)]}")
                n += 1

    async def reads(self, token: str, api_url: str, secret: str, start: asyncio.Event) -> dict[str, float]:
        """The Runs page's search, through the front and directly, one after the other, while the clients browse."""
        import base64
        import uuid

        direct = httpx.AsyncClient(base_url=api_url, timeout=30)
        direct.headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
        front = httpx.AsyncClient(base_url=self.front + "/api", timeout=30, headers={"Origin": self.front})
        front.cookies.set("oja_sessie", token)
        for c in (direct, front):
            csrf_client = str(uuid.uuid4())
            got = (await c.get("/csrf-token", params={"client": csrf_client})).json()["token"]
            c.headers.update({"Prefect-Csrf-Token": got, "Prefect-Csrf-Client": csrf_client})
            (await c.post("/flow_runs/filter", json=SEARCH)).raise_for_status()
        await start.wait()
        taken: dict[str, list[float]] = {"direct": [], "front": []}
        while time.perf_counter() < self.stop:
            for name, c in (("direct", direct), ("front", front)):
                started = time.perf_counter()
                answer = await c.post("/flow_runs/filter", json=SEARCH)
                taken[name].append(time.perf_counter() - started)
                if answer.status_code != 200:
                    self.errors += 1
        await direct.aclose()
        await front.aclose()
        d, f = quantile(taken["direct"], 0.5) * 1000, quantile(taken["front"], 0.5) * 1000
        return {
            "read_direct_p50_ms": round(d, 1),
            "read_front_p50_ms": round(f, 1),
            "read_added_p50_ms": round(f - d, 1),
        }

    async def run(self, made: list[tuple[str, str]], prefect: tuple[str, str] | None) -> str:
        start = asyncio.Event()
        self.stop = time.perf_counter() + 3600
        browsing = [asyncio.create_task(self.browse(token, start)) for _, token in made]
        reading = asyncio.create_task(self.reads(made[0][1], *prefect, start)) if prefect else None
        await asyncio.sleep(min(10.0, 1 + 0.1 * len(made)))  # every client has its first page (not counted)
        began = time.perf_counter()
        self.stop = began + self.seconds
        start.set()
        await asyncio.gather(*browsing)
        elapsed = time.perf_counter() - began
        extra = await reading if reading else {}
        ms = [t * 1000 for t in self.times]
        figures = {
            "clients": self.clients,
            "requests": len(ms),
            "req_per_s": round(len(ms) / elapsed, 1),
            "p50_ms": round(quantile(ms, 0.5)),
            "p95_ms": round(quantile(ms, 0.95)),
            "p99_ms": round(quantile(ms, 0.99)),
            "max_ms": round(max(ms, default=0)),
            "errors": self.errors,
            **extra,
        }
        return " ".join(f"{k}={v}" for k, v in figures.items())


def serve(url: str, home: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """The demo region in a new database, and `oja dossier` serving it (its log in `home`)."""
    env = {**os.environ, "OJA_DATABASE_URL": url, "OJA_HOME": home, "PREFECT_HOME": f"{home}/prefect"}
    for name in ("PREFECT_API_URL", "OJA_DOSSIER_URL"):
        env.pop(name, None)
    oja = str(Path(sys.executable).parent / "oja")
    subprocess.run([oja, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    port = _free_port()
    command = [oja, "dossier", "--port", str(port)] + (["--workers", str(workers)] if workers else [])
    log = open(Path(home) / "dossier.log", "wb")  # noqa: SIM115 - the server's, for as long as it runs
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    front = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(front + "/gezond", timeout=1).status_code == 200:
                return server, front
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the dossier did not answer within 60 s: see {home}/dossier.log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database-url", default="", help="self-contained: an empty database to fill")
    parser.add_argument("--workers", type=int, default=0, help="self-contained: oja dossier --workers (0: its own)")
    parser.add_argument("--front", default="", help="a running engine's front, e.g. http://127.0.0.1:4201")
    parser.add_argument("--api-url", default=os.environ.get("PREFECT_API_URL", ""), help="its Prefect, for reads")
    args = parser.parse_args()
    server = None
    prefect = None
    if args.front:
        from oja.adapters.prefect_secret import read_secret
        from oja.config import get_settings

        front = args.front
        api_url = args.api_url or "http://127.0.0.1:4200/api"
        secret = read_secret(get_settings().home.resolve())
        try:
            httpx.get(api_url + "/health", timeout=2, headers={"Authorization": "x"})
            prefect = (api_url.rstrip("/"), secret)
        except httpx.HTTPError:
            prefect = None
    else:
        home = tempfile.mkdtemp(prefix="oja-dossier-load-")
        url = args.database_url or f"sqlite:///{home}/oja.db"
        os.environ["OJA_DATABASE_URL"], os.environ["OJA_HOME"] = url, home
        server, front = serve(url, home, args.workers)
    try:
        made = sessions(args.clients)
        print(asyncio.run(Load(front, args.clients, args.seconds).run(made, prefect)))
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
