"""Issue 27: a Prefect tab's read through the front does not wait behind the pages. The pages run in at most
`PAGE_THREADS` threads of a process; the gateway reads its session in threads of its own. Here every page thread
waits (SQLite's writer's lock is held, so each page waits at its commit, the access log's lines) while a read of
the Prefect API through the front is answered at once by a real HTTP server standing in for Prefect."""

from __future__ import annotations

import sqlite3
import threading
import time
from http.server import ThreadingHTTPServer

import httpx

from oja.dossier.app import create_app
from oja.dossier.gateway import PAGE_THREADS
from oja.dossier.gateway_proxy import Upstream
from tests.dossier.conftest import SESSION_COOKIE, Dossier
from tests.serve import QuietJSONHandler, serving
from tests.smtp import free_port


class Runs(QuietJSONHandler):
    """Prefect's run search, answered at once: no runs."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.answer(200, [])


def test_a_prefect_read_is_answered_while_every_page_thread_waits(dossier: Dossier) -> None:
    prefect = ThreadingHTTPServer(("127.0.0.1", free_port()), Runs)
    threading.Thread(target=prefect.serve_forever, daemon=True).start()
    upstream = Upstream(f"http://127.0.0.1:{prefect.server_address[1]}", "oja:secret")
    port = free_port()
    front = f"http://127.0.0.1:{port}"
    token, _ = dossier.open_session("PRF-0001")  # just made: the gateway's read writes nothing to it
    answers: list[int] = []

    def page() -> None:
        with httpx.Client(base_url=front, timeout=60, cookies={SESSION_COOKIE: token}) as browser:
            answers.append(browser.get("/").status_code)

    lock = sqlite3.connect(dossier.db_url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
    try:
        with serving(create_app(upstream), port, name="front"):
            lock.execute("BEGIN IMMEDIATE")  # SQLite's one writer: every page now waits at its commit
            pages = [threading.Thread(target=page) for _ in range(PAGE_THREADS + 4)]
            for thread in pages:
                thread.start()
            time.sleep(1.5)  # every page thread taken, four pages waiting for one
            assert answers == []
            with httpx.Client(base_url=front + "/api", timeout=60, headers={"Origin": front}) as tab:
                tab.cookies.set(SESSION_COOKIE, token)
                started = time.perf_counter()
                read = tab.post("/flow_runs/filter", json={"limit": 10})
                took = time.perf_counter() - started
            lock.execute("ROLLBACK")
            for thread in pages:
                thread.join(60)
    finally:
        lock.close()
        prefect.shutdown()
        prefect.server_close()
    assert read.status_code == 200 and read.json() == []
    assert took < 1.0, took  # behind the pages: until their commits gave up on the lock (30 s)
    assert answers == [200] * (PAGE_THREADS + 4)
