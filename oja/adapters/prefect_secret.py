"""The Prefect server's own secret: only the engine's processes (the gateway, the workers, deploy, `oja` commands
on the server) and the operator's Prefect CLI know it; people reach Prefect only through the gateway's login.

The server asks for it as HTTP basic authentication (`PREFECT_SERVER_API_AUTH_STRING`); its clients send it
(`PREFECT_API_AUTH_STRING`). `oja start` takes it from the environment, else from `$OJA_HOME/prefect-api.secret`,
which it makes once (random, readable by the engine's user only) and reuses at every start.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

SECRET_FILE = "prefect-api.secret"
SERVER_VARIABLE = "PREFECT_SERVER_API_AUTH_STRING"
CLIENT_VARIABLE = "PREFECT_API_AUTH_STRING"


def secret_path(home: Path) -> Path:
    return home / SECRET_FILE


def read_secret(home: Path, environ: Mapping[str, str] = os.environ) -> str:
    """The secret a client of the server sends: the environment's, else the one `oja start` keeps; '' if none."""
    for variable in (CLIENT_VARIABLE, SERVER_VARIABLE):
        if environ.get(variable, "").strip():
            return environ[variable].strip()
    path = secret_path(home)
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def ensure_secret(home: Path, environ: Mapping[str, str] = os.environ) -> str:
    """The server's secret: the environment's (a region sets its own, for workers on other machines), else the
    kept one, else a new one written to `$OJA_HOME/prefect-api.secret` (mode 0600)."""
    own = environ.get(SERVER_VARIABLE, "").strip()  # the server's own setting first: a client's may be an old copy
    if own:
        return own
    path = secret_path(home)
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except OSError:
        kept = ""
    if kept:
        return kept
    value = "oja:" + secrets.token_urlsafe(32)
    home.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def use_secret(home: Path) -> None:
    """Let this process's Prefect client send the secret (an `oja` command run on the server by an operator):
    only when the environment has none and `oja start` keeps one. Call before Prefect's settings are read."""
    if not os.environ.get(CLIENT_VARIABLE):
        found = read_secret(home)
        if found:
            os.environ[CLIENT_VARIABLE] = found
