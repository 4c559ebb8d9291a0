"""A production start: refuses to run without a login, PostgreSQL and SMTP; the server it starts asks for the login."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from models.errors import InvalidInput
from oja.config import Settings
from oja.entrypoints.local import _bin, _wait_for_api, check_production

PG = "postgresql://oja@db/oja"
SMTP = "mailtos://u:p@smtp.example.org"


@pytest.mark.parametrize(
    ("auth", "settings", "field"),
    [
        ("", Settings(database_url=PG, smtp_url=SMTP), "PREFECT_SERVER_API_AUTH_STRING"),
        ("admin:short", Settings(database_url=PG, smtp_url=SMTP), "PREFECT_SERVER_API_AUTH_STRING"),
        ("admin:correct-horse-battery", Settings(database_url="sqlite:///x.db", smtp_url=SMTP), "OJA_DATABASE_URL"),
        ("admin:correct-horse-battery", Settings(database_url=PG), "OJA_SMTP_URL"),
    ],
)
def test_a_production_start_refuses_what_is_only_fit_for_a_laptop(auth, settings, field):
    with pytest.raises(InvalidInput) as refused:
        check_production(settings, auth)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("auth", "settings"),
    [
        ("admin:correct-horse-battery", Settings(database_url=PG, smtp_url=SMTP)),
        ("admin:twelve-chars", Settings(database_url=PG, smtp_url=SMTP)),  # the shortest password taken
        ("admin:correct-horse-battery", Settings(database_url="postgres://oja@db/oja", smtp_url=SMTP)),
        ("admin:correct-horse-battery", Settings(database_url=PG, smtp_secret_block="oja-smtp")),
    ],
    ids=["smtp-url", "shortest-password", "postgres-scheme", "smtp-secret-block"],
)
def test_a_complete_production_configuration_passes(auth, settings):
    assert check_production(settings, auth) is None  # it refuses by raising: nothing raised, nothing refused


def test_a_password_one_character_shorter_is_refused():
    with pytest.raises(InvalidInput) as refused:
        check_production(Settings(database_url=PG, smtp_url=SMTP), "admin:eleven-char")
    assert refused.value.field == "PREFECT_SERVER_API_AUTH_STRING" and "12 tekens" in refused.value.rule


def _call(url: str, auth: str | None) -> int:
    request = urllib.request.Request(url, data=b"{}", headers={"Content-Type": "application/json"}, method="POST")
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            json.loads(r.read())
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_server_started_with_a_login_refuses_calls_without_it(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    auth = "beheer:correct-horse-battery"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path),
        "PREFECT_SERVER_API_AUTH_STRING": auth,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
    }
    server = subprocess.Popen(
        [_bin("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        api = f"http://127.0.0.1:{port}/api"
        _wait_for_api(api, 120, server, auth)
        assert _call(f"{api}/flows/filter", None) == 401
        assert _call(f"{api}/flows/filter", "beheer:wrong-password-here") == 401
        assert _call(f"{api}/flows/filter", auth) == 200
    finally:
        server.terminate()
        server.wait(30)
