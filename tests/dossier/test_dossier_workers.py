"""Issue 27 item 6: `oja dossier --workers 2` serves one port from two processes, and they share what they must
through the database: a session made by a login in one is honoured by the other, and the login throttle counts
the failures of both.

Which process answers is the kernel's choice; the test makes it: a process stopped (SIGSTOP) accepts no connection,
so every new connection goes to the other one, until it is continued (SIGCONT). Each request is a new connection.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from models.tables_dossier import WebSession
from oja.services.logins import _digest
from tests.dossier.conftest import SESSION_COOKIE, Dossier, form_login
from tests.smtp import free_port

OJA = Path(sys.executable).parent / "oja"
STARTED = b"Application startup complete"


def _children(pid: int) -> list[int]:
    """The processes serving requests: uvicorn's workers (multiprocessing's spawned children), not its tracker."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


@contextlib.contextmanager
def two_workers(tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    """`oja dossier --workers 2` on the test's database: (its address, the two workers' process ids), both started."""
    port = free_port()
    log = tmp_path / "dossier.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(OJA), "dossier", "--port", str(port), "--workers", "2"], stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while log.read_bytes().count(STARTED) < 2 or len(_children(proc.pid)) < 2:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("oja dossier --workers 2 did not start: " + log.read_text(errors="replace")[-2000:])
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", _children(proc.pid)
    finally:
        for child in _children(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=15)


@contextlib.contextmanager
def only(serving: int, workers: list[int]) -> Iterator[None]:
    """Every other worker stopped while inside: `serving` answers every new connection."""
    stopped = [w for w in workers if w != serving]
    for worker in stopped:
        os.kill(worker, signal.SIGSTOP)
    try:
        yield
    finally:
        for worker in stopped:
            os.kill(worker, signal.SIGCONT)


def fresh(url: str) -> httpx.Client:
    """A browser that opens a new connection for every request (no keep-alive): each goes to any worker."""
    return httpx.Client(base_url=url, timeout=20, limits=httpx.Limits(max_keepalive_connections=0))


def test_a_session_made_by_a_login_in_one_worker_is_honoured_by_the_other(dossier: Dossier, tmp_path: Path) -> None:
    code = "PRF-0013"
    dossier.allow_code_again(code)
    with two_workers(tmp_path) as (url, (first, second)), fresh(url) as browser:
        with only(first, [first, second]):
            assert form_login(browser, code).status_code == 303  # the login form and the login: the first worker
        token = browser.cookies[SESSION_COOKIE]
        with only(second, [first, second]):
            pages = [browser.get("/") for _ in range(10)]
        assert [p.status_code for p in pages] == [200] * 10
        assert all("Mijn casussen" in p.text for p in pages)
        with only(first, [first, second]):
            assert browser.get("/").status_code == 200
        with only(second, [first, second]):
            assert browser.post("/uitloggen", data={"csrf": _csrf(dossier, token)}).status_code == 303
        with only(first, [first, second]):  # logged out in the second: the first knows it too
            after = browser.get("/")
        assert after.status_code == 303 and after.headers["location"].startswith("/inloggen")
    dossier.allow_code_again(code)


def test_the_login_throttle_counts_the_failures_in_both_workers(dossier: Dossier, tmp_path: Path) -> None:
    """Five failures of a login name, three in one worker and two in the other, lock it for the address that
    failed (as in one process: tests/dossier/test_security.py), in both workers."""
    code = "PRF-0013"
    dossier.allow_code_again(code)
    try:
        with two_workers(tmp_path) as (url, (first, second)), fresh(url) as browser:
            with only(first, [first, second]):
                assert [form_login(browser, code, password=f"fout-{n}").status_code for n in range(3)] == [401] * 3
            with only(second, [first, second]):
                assert [form_login(browser, code, password=f"mis-{n}").status_code for n in range(2)] == [401] * 2
                assert form_login(browser, code).status_code == 429  # the right password, a fresh code
            with only(first, [first, second]):
                assert form_login(browser, code).status_code == 429
    finally:
        dossier.allow_code_again(code)


def _csrf(dossier: Dossier, token: str) -> str:
    """The session's CSRF token (the log-out form's), as the page carries it."""
    with dossier.db() as s:
        row = s.get(WebSession, _digest(token))
        assert row is not None
        return row.csrf_token


def test_a_kept_alive_connection_to_two_workers_waits_for_no_delayed_ack(dossier: Dossier, tmp_path: Path) -> None:
    """uvicorn's socket for its workers says protocol 0, and asyncio then leaves Nagle's algorithm on: every request
    after the first on a kept-alive connection waited ~40 ms for the client's delayed ACK (uvicorn issue 3149).
    `oja dossier`'s socket says TCP: a page is as quick on the second request as on the first."""
    token, _ = dossier.open_session("PRF-0013")
    with two_workers(tmp_path) as (url, _), httpx.Client(base_url=url, timeout=20) as browser:
        browser.cookies.set(SESSION_COOKIE, token)
        browser.get("/gezond")
        times = []
        for _ in range(15):
            started = time.perf_counter()
            assert browser.get("/gezond").status_code == 200
            times.append(time.perf_counter() - started)
    assert sorted(times)[len(times) // 2] < 0.030, times  # with the delayed ACK: 40 ms and more, every time
