"""Issue 27 item 6: Prefect on SQLite takes one Submit at a time from the gateway (`gateway_proxy.submits_at_once`),
and that holds across the front's processes (`oja dossier --workers`): two processes, each passing on three Submits
at once to a real HTTP server that takes its time, never have two of them at the server together."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.serve import QuietJSONHandler
from tests.smtp import free_port

HELD = 0.25  # seconds the server takes over each Submit


class Counting(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.guard = threading.Lock()
        self.now = self.most = self.served = 0


class Handler(QuietJSONHandler):
    server: Counting

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        with self.server.guard:
            self.server.now += 1
            self.server.most = max(self.server.most, self.server.now)
        time.sleep(HELD)
        with self.server.guard:
            self.server.now -= 1
            self.server.served += 1
        self.answer(201, {"id": "run"})


def submit_three(url: str, start_at: float) -> None:
    """A process of the front: three Submits passed on at once, from `start_at` (the other process's moment too)."""
    from oja.dossier.gateway_proxy import Proxy, Upstream

    async def main() -> None:
        proxy = Proxy(Upstream(url, "oja:secret"))

        async def one() -> None:
            outgoing = proxy.client().build_request("POST", url + "/api/deployments/d/create_flow_run", json={})
            answer = await proxy.send(outgoing, again=True, submit=True)
            await answer.aread()
            await answer.aclose()
            assert answer.status_code == 201

        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(one(), one(), one())
        await proxy.client().aclose()

    asyncio.run(main())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """OJA_HOME of both processes (the lock file's folder); Prefect on SQLite (no database URL of its own)."""
    monkeypatch.setenv("OJA_HOME", str(tmp_path))
    for name in ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_prefect_on_sqlite_gets_one_submit_at_a_time_from_all_the_fronts_processes(home: Path) -> None:
    server = Counting(free_port())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    spawn = multiprocessing.get_context("spawn")  # as uvicorn starts its workers
    start_at = time.time() + 5  # both imported and waiting by then
    processes = [spawn.Process(target=submit_three, args=(url, start_at)) for _ in range(2)]
    try:
        for p in processes:
            p.start()
        for p in processes:
            p.join(30)
        assert [p.exitcode for p in processes] == [0, 0]
        assert server.served == 6
        assert server.most == 1  # without the lock on the file: two, one from each process
        assert (home / "gateway-submit.lock").exists()
    finally:
        for p in processes:
            if p.is_alive():
                p.kill()
        server.shutdown()
        server.server_close()
