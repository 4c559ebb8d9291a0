"""The engine as `oja start` starts it, once for the system tests (`scope="package"`: stopped, and the browser
closed, when they are done, before the flow tests, whose sync Prefect calls must not find Playwright's event
loop in the main thread): a real Prefect server with
its scheduler, the deployments from prefect.yaml, a process worker, the dossier on a port of its own, and a real
SMTP server on localhost; and headless Chromium to look at it.

`test_real_server.py` ends with the SIGTERM test, which stops the engine: it runs after every other system test
(`pytest_collection_modifyitems` below keeps it last among them, whatever order the files are given in).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest

from oja.config import PROJECT_DIR
from oja.services.logins import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.smtp import SMTPServer, free_port

START_TIMEOUT = 240  # a cold start on 2 cores: migrations, demo data, server, deploy of 18 deployments
LAST = "test_sigterm_stops_everything_oja_start_started_within_ten_seconds"


def pytest_collection_modifyitems(session, config, items):
    """The SIGTERM test stops the shared engine: after every other system test."""
    system = [i for i, item in enumerate(items) if "tests/system/" in item.nodeid]
    last = [i for i in system if items[i].name == LAST]
    if last and system and last[0] != system[-1]:
        item = items.pop(last[0])
        items.insert(system[-1], item)


class Engine:
    def __init__(
        self, home: Path, port: int, dossier_port: int, smtp: SMTPServer, proc: subprocess.Popen, output: Path
    ) -> None:
        self.home, self.port, self.smtp, self.proc, self.output = home, port, smtp, proc, output
        self.api_url = f"http://127.0.0.1:{port}/api"  # Prefect's own port: the engine's processes only
        self.dossier_port = dossier_port
        self.dossier_url = f"http://127.0.0.1:{dossier_port}"
        self.ui_url = f"{self.dossier_url}/prefect"  # the Prefect UI people open: through the gateway

    @property
    def secret(self) -> str:
        """The Prefect server's own secret (`oja start` keeps it in OJA_HOME): what the engine's processes send."""
        return (self.home / "prefect-api.secret").read_text(encoding="utf-8").strip()

    def client(self):
        """A Prefect client for this engine's API (not the test harness's), with the server's secret: as the
        engine's own processes (and an operator's scripts on the server) talk to it."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

        class _Client:
            def __enter__(inner):
                inner._settings = temporary_settings(
                    {PREFECT_API_URL: self.api_url, PREFECT_API_AUTH_STRING: self.secret}
                )
                inner._settings.__enter__()
                inner._client = get_client(sync_client=True)
                return inner._client.__enter__()

            def __exit__(inner, *exc):
                inner._client.__exit__(*exc)
                inner._settings.__exit__(*exc)

        return _Client()

    def engine_db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.home / "oja.db", timeout=30)

    def allow_code_again(self, code: str) -> None:
        """Forget the TOTP step `code` last logged in with (a code counts once): the current code works again."""
        with self.engine_db() as db:
            db.execute(
                "UPDATE login SET totp_last_step = NULL, failed_attempts = 0, locked_until = NULL "
                "WHERE professional_code = ?",
                (code,),
            )
            db.execute("DELETE FROM login_throttle")  # failed logins of earlier tests: no address waits

    def log_in(self, page, code: str) -> None:
        """Fill in the dossier's login form on `page` (open at /inloggen) as a person does, and send it."""
        self.allow_code_again(code)
        page.fill("#gebruikersnaam", code)
        page.fill("#wachtwoord", DEMO_PASSWORD)
        page.fill("#code", pyotp.TOTP(DEMO_TOTP_SECRET).now())
        page.get_by_role("button", name="Inloggen").click()

    def signed_in(self, browser, code: str, viewport: dict | None = None):
        """A browser context logged in as `code` (once: the dossier and the Prefect UI share the login), and its page
        at the start page of the role."""
        context = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(self.dossier_url + "/inloggen")
        self.log_in(page, code)
        page.wait_for_url(re.compile(r"^(?!.*/inloggen).*$"))
        return context, page


@pytest.fixture(scope="package")
def engine(tmp_path_factory):
    home = tmp_path_factory.mktemp("oja-home")
    smtp = SMTPServer()
    smtp.start()
    port, dossier_port = free_port(), free_port()
    while dossier_port == port:
        dossier_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OJA_"))}
    env.update(
        OJA_HOME=str(home),
        OJA_SMTP_URL=smtp.url,
        OJA_OPERATOR_URLS=json.dumps([smtp.url + "&to=beheer@region.example"]),
        # the real scheduler, looping faster than its default minute so the test needs no minute
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
        PREFECT_WORKER_QUERY_SECONDS="2",
    )
    output = home / "oja-start.out"
    command = [str(Path(sys.executable).parent / "oja"), "start", "--port", str(port)]
    command += ["--dossier-port", str(dossier_port), "--mail-port", str(free_port())]
    try:
        proc = start_engine(command, env, output)
    except BaseException:
        smtp.stop()
        raise
    yield Engine(home, port, dossier_port, smtp, proc, output)
    stop_engine(proc)
    smtp.stop()


def start_engine(command: list[str], env: dict[str, str], output: Path) -> subprocess.Popen[bytes]:
    """`oja start` (`command`, maybe behind setpriv), its output in `output`; returns once it says it runs."""
    with output.open("wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while "OJA engine is running" not in output.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"oja start did not come up:\n{output.read_text(errors='replace')[-4000:]}")
        time.sleep(0.5)
    return proc


def stop_engine(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a service manager stops it; killed if it has not stopped within a minute."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="package")
def browser():
    """Debian's chromium driven by Playwright (`make test` installs it; Playwright cannot fetch its own here)."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "chromium is needed for the browser tests: apt-get install -y chromium (make test does)"
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield chromium
        chromium.close()


def wait(predicate, timeout: float, what: str, every: float = 1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


LOGIN_PAGE = re.compile(r"/inloggen\?volgende=")
