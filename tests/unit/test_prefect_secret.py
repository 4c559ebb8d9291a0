"""The Prefect server's own secret: made once, readable by the engine's user only, the environment's first; an
`oja` command on the server finds it; `oja prefect-env` prints it for the Prefect CLI."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from oja.adapters import prefect_secret
from oja.config import PROJECT_DIR


def test_the_secret_is_made_once_private_and_kept(tmp_path):
    first = prefect_secret.ensure_secret(tmp_path, environ={})
    assert first.startswith("oja:") and len(first) > 40
    path = tmp_path / "prefect-api.secret"
    assert path.stat().st_mode & 0o777 == 0o600
    assert prefect_secret.ensure_secret(tmp_path, environ={}) == first  # kept, not made again
    assert prefect_secret.read_secret(tmp_path, environ={}) == first


def test_the_environments_secret_comes_first_and_none_is_empty(tmp_path):
    assert prefect_secret.read_secret(tmp_path, environ={}) == ""
    own = {"PREFECT_SERVER_API_AUTH_STRING": "beheer:lang-genoeg-geheim"}
    assert prefect_secret.ensure_secret(tmp_path, environ=own) == "beheer:lang-genoeg-geheim"
    assert not (tmp_path / "prefect-api.secret").exists()  # a region's own secret: nothing written
    environ = {"PREFECT_API_AUTH_STRING": "a:b", "PREFECT_SERVER_API_AUTH_STRING": "c:d"}
    assert prefect_secret.read_secret(tmp_path, environ=environ) == "a:b"  # what a client sends
    assert prefect_secret.ensure_secret(tmp_path, environ=environ) == "c:d"  # what the server asks for


def test_the_server_takes_its_own_setting_over_a_clients_old_copy(tmp_path):
    kept = prefect_secret.ensure_secret(tmp_path, environ={})
    changed = {"PREFECT_API_AUTH_STRING": kept, "PREFECT_SERVER_API_AUTH_STRING": "beheer:een-nieuw-geheim"}
    assert prefect_secret.ensure_secret(tmp_path, environ=changed) == "beheer:een-nieuw-geheim"


def test_an_oja_command_on_the_server_sends_the_secret_oja_start_keeps(tmp_path, monkeypatch):
    secret = prefect_secret.ensure_secret(tmp_path, environ={})
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    prefect_secret.use_secret(tmp_path)
    assert os.environ["PREFECT_API_AUTH_STRING"] == secret
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", "eigen:geheim")
    prefect_secret.use_secret(tmp_path)
    assert os.environ["PREFECT_API_AUTH_STRING"] == "eigen:geheim"  # one set by the operator stays


def _oja(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OJA_"))}
    env["OJA_HOME"] = str(home)
    return subprocess.run(
        [str(Path(sys.executable).parent / "oja"), *args], env=env, cwd=PROJECT_DIR, capture_output=True, text=True
    )


def test_oja_prefect_env_prints_what_the_prefect_cli_needs(tmp_path):
    missing = _oja("prefect-env", home=tmp_path)
    assert missing.returncode == 2 and "PREFECT_API_AUTH_STRING" in missing.stderr  # no engine started here yet
    secret = prefect_secret.ensure_secret(tmp_path, environ={})
    found = _oja("prefect-env", "--port", "4711", home=tmp_path)
    assert found.returncode == 0, found.stderr
    exported = dict(line.removeprefix("export ").split("=", 1) for line in found.stdout.splitlines())
    assert {k: shlex.split(v)[0] for k, v in exported.items()} == {
        "PREFECT_API_URL": "http://127.0.0.1:4711/api",
        "PREFECT_API_AUTH_STRING": secret,
    }
