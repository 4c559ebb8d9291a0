"""Issue 24 items 8-10: the forwarded headers count only from the configured proxies (and the access log keeps the
direct peer beside the forwarded address), only the engine's own host names are answered, and the OpenAPI
description is for operators only. The forwarded-header checks run the real `oja dossier` command, as `oja start`
does, so they test its settings and not the test server's."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.dossier.conftest import SESSION_COOKIE, Dossier
from tests.smtp import free_port

OJA = Path(sys.executable).parent / "oja"
FORWARDED = {"X-Forwarded-For": "203.0.113.99"}


@contextlib.contextmanager
def oja_dossier(**env: str) -> Iterator[str]:
    """`oja dossier` on a free port of 127.0.0.1, on the test's database, with FORWARDED_ALLOW_IPS as given."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"} | env
    proc = subprocess.Popen(
        [str(OJA), "dossier", "--port", str(port)], env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/gezond", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("oja dossier did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def logged_client(dossier: Dossier, url: str, source: str) -> str | None:
    """The privacy officer opens the access log from `source` (an address of 127.0.0.0/8) claiming, in
    X-Forwarded-For, to be 203.0.113.99: the client address that the access log wrote for that view."""
    token, _ = dossier.open_session("PRF-0051")
    mark = dossier.log_mark()
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=url, transport=transport, headers=FORWARDED, timeout=30) as client:
        client.cookies.set(SESSION_COOKIE, token)
        assert client.get("/toegangslog").status_code == 200
    [line] = [e for e in dossier.log_since(mark) if e.action == "toegangslog_bekeken"]
    return line.client


def test_forwarded_for_from_a_local_client_is_not_believed_by_default(dossier: Dossier) -> None:
    """`oja start --production` sets no proxy: a process on this machine cannot write another address."""
    with oja_dossier() as url:
        assert logged_client(dossier, url, "127.0.0.1") == "127.0.0.1"
        assert logged_client(dossier, url, "127.0.0.7") == "127.0.0.7"


def test_forwarded_for_counts_only_from_the_configured_proxy_and_keeps_the_peer(dossier: Dossier) -> None:
    with oja_dossier(FORWARDED_ALLOW_IPS="127.0.0.1") as url:
        assert logged_client(dossier, url, "127.0.0.1") == "203.0.113.99 via 127.0.0.1"
        assert logged_client(dossier, url, "127.0.0.7") == "127.0.0.7"
        html = httpx.get(url + "/toegangslog", cookies={SESSION_COOKIE: dossier.open_session("PRF-0051")[0]}).text
        assert "203.0.113.99 via 127.0.0.1" in html  # the privacy officer's page shows both


def test_forwarded_addresses_of_ipv6_fit_the_access_log(dossier: Dossier) -> None:
    """The longest pair (two full IPv6 addresses) is stored whole, on SQLite as on PostgreSQL's column."""
    from models.tables_dossier import AccessLogEntry

    assert AccessLogEntry.model_fields["client"].metadata[0].max_length >= 2 * 39 + len(" via ")


# the host names ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:4201", "127.0.0.1.evil.example", "[::2]"])
def test_an_unknown_host_is_refused_before_any_redirect(dossier: Dossier, host: str) -> None:
    answer = dossier.client().get("/casus/OJA-X/", headers={"Host": host})
    assert answer.status_code == 400
    assert "Onbekend adres" in answer.text and "evil" not in answer.text
    assert "location" not in answer.headers


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST:4201", "[::1]:4201"])
def test_the_local_host_names_are_answered(dossier: Dossier, host: str) -> None:
    answer = dossier.client().get("/casus/OJA-X/", headers={"Host": host})
    assert answer.status_code == 307
    assert answer.headers["location"].startswith(f"http://{host}/casus/OJA-X")


def test_the_public_host_name_is_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    from oja.dossier.front_guard import allowed_hosts

    environ = {"OJA_DOSSIER_URL": "https://OJA.example.org/", "OJA_HOME": "/nonexistent"}
    assert allowed_hosts(environ) == {"oja.example.org", "127.0.0.1", "localhost", "::1"}


# the OpenAPI description -------------------------------------------------------------------------------------

ROLES = {
    "PRF-0001": 403,  # zorgcoordinator
    "PRF-0011": 403,  # jeugdhulpverlener
    "PRF-0014": 403,  # schoolmaatschappelijk werker
    "PRF-0021": 403,  # wijkteam
    "PRF-0031": 403,  # teamleider
    "PRF-0041": 403,  # manager
    "PRF-0051": 403,  # privacyfunctionaris
    "PRF-0061": 200,  # beheerder
}


@pytest.mark.parametrize(("code", "status"), ROLES.items())
def test_the_openapi_description_is_for_operators_only(dossier: Dossier, code: str, status: int) -> None:
    mark = dossier.log_mark()
    answer = dossier.as_user(code).get("/openapi.json")
    assert answer.status_code == status
    if status == 200:
        paths = answer.json()["paths"]
        assert "/inloggen" in paths and "/casus/{case_ref}/doelen" in paths
        assert "/gezond" not in paths
    else:
        assert "beheerder" in answer.text
        [line] = dossier.log_since(mark)
        assert (line.professional_code, line.outcome) == (code, "geweigerd")


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_api_description_for_anonymous_visitors(dossier: Dossier, path: str) -> None:
    assert dossier.client().get(path).status_code == 404
