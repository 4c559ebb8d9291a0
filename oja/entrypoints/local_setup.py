"""What `oja start` checks and prepares on the machine before it starts anything: a free port, the venv's
programs, a production start's refusals, private files, the Prefect server's environment, and the processes
below a process (to stop them all)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import MutableMapping
from pathlib import Path

from rich.console import Console

from models.errors import InvalidInput
from oja.config import Settings, record_dossier_url


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free for a server
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def venv_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def check_production(settings: Settings, auth: str, *, prefect_host: str = "127.0.0.1", uid: int | None = None) -> None:
    """A production start refuses what is only fit for a laptop: root, Prefect on an open address, a weak secret of
    its own, SQLite, no real mail server. `auth`: the server's secret if the operator set one (else one is made)."""
    if (os.geteuid() if uid is None else uid) == 0:
        raise InvalidInput(
            "gebruiker",
            "een productiestart draait nooit als root: start de engine en de workers onder een eigen gebruiker "
            "(zie de systemd-unit in de README)",
        )
    if not private_address(prefect_host):
        raise InvalidInput(
            "--prefect-host",
            "de Prefect-server luistert alleen op loopback (127.0.0.1) of op een privé-adres voor workers op "
            f"andere machines, niet op {prefect_host}: mensen bereiken Prefect alleen via de login van de engine",
        )
    if auth and (":" not in auth or len(auth.partition(":")[2]) < 12):
        raise InvalidInput(
            "PREFECT_SERVER_API_AUTH_STRING",
            "het geheim van de Prefect-server is gebruiker:wachtwoord met een wachtwoord van 12 tekens of meer "
            "(of laat het weg: oja start maakt er een in OJA_HOME)",
        )
    if not settings.effective_database_url.startswith(("postgresql", "postgres")):
        raise InvalidInput(
            "OJA_DATABASE_URL", "een productiestart draait de engine op PostgreSQL: stel een PostgreSQL-URL in"
        )
    if not (settings.smtp_url or settings.smtp_secret_block):
        raise InvalidInput(
            "OJA_SMTP_URL",
            "een productiestart verstuurt via een echte mailserver: stel OJA_SMTP_URL of OJA_SMTP_SECRET_BLOCK in",
        )


def front_address(
    home: Path,
    *,
    host: str,
    dossier_port: int,
    production: bool = False,
    console: Console | None = None,
    environ: MutableMapping[str, str] = os.environ,
) -> str:
    """The address people open (the front: the dossier, and through it Prefect): OJA_DOSSIER_URL when set, else
    `host`:`dossier_port`. Put in `environ` for the processes the start runs, and recorded in `home`, so that any
    other process (a worker, `oja sweep` from a shell) links to the same address without a setting of its own."""
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if not environ.get("OJA_DOSSIER_URL", "").strip():
        environ["OJA_DOSSIER_URL"] = f"http://{shown_host}:{dossier_port}"
        if production and not environ.get("OJA_CASE_URL") and console is not None:
            console.print(
                "[yellow]OJA_DOSSIER_URL is not set: the links in reminder mails point to "
                f"{environ['OJA_DOSSIER_URL']}; set it to the address people open (behind the TLS proxy)[/yellow]"
            )
    url = environ["OJA_DOSSIER_URL"].strip().rstrip("/")
    record_dossier_url(home, url)
    return url


def private_address(host: str) -> bool:
    """Loopback, or an address of a private network (10/8, 172.16/12, 192.168/16, fc00::/7); never 0.0.0.0."""
    import ipaddress

    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host == "localhost"
    return address.is_loopback or (address.is_private and not address.is_unspecified and not address.is_link_local)


def descendants(pid: int) -> set[int]:
    """The processes below `pid`, from /proc (empty where there is none)."""
    children: dict[int, set[int]] = {}
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, set()).add(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), set()) - found:
            found.add(child)
            todo.append(child)
    return found


def send_signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def private_files(home: Path, database_url: str) -> None:
    """`OJA_HOME` readable by the engine's user only (0700), and the SQLite database (with its journal) 0600."""
    home.chmod(0o700)
    if database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///"))
        for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
            if path.exists():
                path.chmod(0o600)


def prefect_environment(*, secret: str, prefect_host: str, port: int, front_url: str, home: Path) -> dict[str, str]:
    """What the Prefect server and its clients (deploy, workers, the gateway, `oja` commands) are started with: the
    server on `prefect_host` (loopback), asking for `secret`; its UI under /prefect, opened only through the gateway
    at `front_url` (its CSRF protection on, no other origin allowed); its clients sending the secret."""
    api_url = f"http://{prefect_host}:{port}/api"
    origin = front_url.rstrip("/")
    return {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": prefect_host,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_API_AUTH_STRING": secret,  # the server asks for it ...
        "PREFECT_API_AUTH_STRING": secret,  # ... and every client of it (deploy, workers, the gateway) sends it
        "PREFECT_SERVER_CSRF_PROTECTION_ENABLED": "true",
        "PREFECT_SERVER_CORS_ALLOWED_ORIGINS": origin,
        "PREFECT_UI_SERVE_BASE": "/prefect",
        "PREFECT_UI_URL": origin + "/prefect",  # links in results, mails and automations: through the gateway
        "PREFECT_UI_API_URL": origin + "/api",
        "PREFECT_SERVER_UI_V2_ENABLED": "false",  # one UI, V1: the one the steps' links open
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",  # no Prefect Cloud advertising to professionals
    }
