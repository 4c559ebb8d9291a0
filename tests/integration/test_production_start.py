"""A production start: refuses root, Prefect on an open address, a weak secret, SQLite and no SMTP; the server it
starts asks for its secret."""

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
from oja.entrypoints.local import _wait_for_api
from oja.entrypoints.local_setup import check_production, venv_bin

PG = "postgresql://oja@db/oja"
SMTP = "mailtos://u:p@smtp.example.org"


USER = 1000  # the engine's own user, not root


@pytest.mark.parametrize(
    ("auth", "settings", "host", "uid", "field"),
    [
        ("", Settings(database_url=PG, smtp_url=SMTP), "127.0.0.1", 0, "gebruiker"),  # root
        ("", Settings(database_url=PG, smtp_url=SMTP), "0.0.0.0", USER, "--prefect-host"),
        ("", Settings(database_url=PG, smtp_url=SMTP), "::", USER, "--prefect-host"),
        ("", Settings(database_url=PG, smtp_url=SMTP), "93.184.216.34", USER, "--prefect-host"),  # public
        ("", Settings(database_url=PG, smtp_url=SMTP), "oja.example.org", USER, "--prefect-host"),
        ("admin:short", Settings(database_url=PG, smtp_url=SMTP), "127.0.0.1", USER, "PREFECT_SERVER_API_AUTH_STRING"),
        ("no-colon", Settings(database_url=PG, smtp_url=SMTP), "127.0.0.1", USER, "PREFECT_SERVER_API_AUTH_STRING"),
        ("", Settings(database_url="sqlite:///x.db", smtp_url=SMTP), "127.0.0.1", USER, "OJA_DATABASE_URL"),
        ("", Settings(database_url=PG), "127.0.0.1", USER, "OJA_SMTP_URL"),
    ],
)  # fmt: skip
def test_a_production_start_refuses_what_is_only_fit_for_a_laptop(auth, settings, host, uid, field):
    with pytest.raises(InvalidInput) as refused:
        check_production(settings, auth, prefect_host=host, uid=uid)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("auth", "settings", "host"),
    [
        ("", Settings(database_url=PG, smtp_url=SMTP), "127.0.0.1"),  # oja start makes the server's secret
        ("admin:correct-horse-battery", Settings(database_url=PG, smtp_url=SMTP), "127.0.0.1"),
        ("admin:twelve-chars", Settings(database_url=PG, smtp_url=SMTP), "127.0.0.1"),  # the shortest password taken
        ("", Settings(database_url="postgres://oja@db/oja", smtp_url=SMTP), "127.0.0.1"),
        ("", Settings(database_url=PG, smtp_secret_block="oja-smtp"), "127.0.0.1"),
        ("", Settings(database_url=PG, smtp_url=SMTP), "10.1.2.3"),  # a private address, for remote workers
        ("", Settings(database_url=PG, smtp_url=SMTP), "::1"),
    ],
    ids=["own-secret", "smtp-url", "shortest-password", "postgres-scheme", "smtp-secret-block", "private", "ipv6-lo"],
)
def test_a_complete_production_configuration_passes(auth, settings, host):
    assert check_production(settings, auth, prefect_host=host, uid=USER) is None  # nothing raised: nothing refused


def test_a_password_one_character_shorter_is_refused():
    with pytest.raises(InvalidInput) as refused:
        check_production(Settings(database_url=PG, smtp_url=SMTP), "admin:eleven-char", uid=USER)
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
        [venv_bin("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
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
