"""`oja start --production` as an operator runs it: not as root, on PostgreSQL, with a real mail server named. Prefect's
own port listens on loopback only: through no other address of the machine can it be reached; people reach
Prefect only through the engine's front, with a login. Every process of the engine runs as the engine's user.

The test runs the engine as `nobody`. This machine's Python lives under /root (mode 0700), so the processes keep one
capability, to read and search files they do not own (CAP_DAC_READ_SEARCH), and nothing else of root's; a real
installation puts the virtual environment where the engine's user can read it (README, the systemd unit)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from oja.config import PROJECT_DIR
from oja.entrypoints.local_setup import descendants
from tests.conftest import PG_ADMIN
from tests.smtp import SMTPServer, free_port
from tests.system.conftest import start_engine, stop_engine

pytestmark = pytest.mark.system

NOBODY = 65534


def listening(port: int) -> set[str]:
    """The addresses a TCP port listens on, from /proc/net/tcp and tcp6 (IPv4 as dotted quads, IPv6 as hex)."""
    found = set()
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            if len(address) == 8:
                found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
            else:
                found.add(address)
    return found


def other_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback."""
    ip = shutil.which("ip")
    if not ip:
        return []
    out = subprocess.run([ip, "-4", "-o", "addr", "show"], capture_output=True, text=True).stdout
    return [a for a in (line.split()[3].split("/")[0] for line in out.splitlines()) if not a.startswith("127.")]


def _uid(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[2])  # the effective uid
    except OSError:
        return None
    return None


@pytest.fixture
def production(tmp_path):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("starts the engine as another user: needs root and setpriv (as CI has)")
    name = f"oja_prod_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    home = tmp_path / "oja-home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    smtp = SMTPServer()
    smtp.start()
    port, front = free_port(), free_port()
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "OJA_HOME": str(home),
        "OJA_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
        "OJA_SMTP_URL": smtp.url,
        "PREFECT_WORKER_QUERY_SECONDS": "2",
    }
    drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    drop += ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    command = [*drop, str(Path(sys.executable).parent / "oja"), "start", "--production"]
    command += ["--port", str(port), "--dossier-port", str(front), "--mail-port", str(free_port())]
    proc = None
    try:
        proc = start_engine(command, env, tmp_path / "oja-start.out")
        yield proc, port, front, home
    finally:
        if proc is not None:
            stop_engine(proc)
        smtp.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_production_engine_runs_as_its_own_user_and_prefect_is_reached_through_loopback_only(production):
    proc, port, front, home = production
    assert listening(port) == {"127.0.0.1"}, "Prefect's own port: loopback only"
    assert httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json() is True
    assert httpx.post(f"http://127.0.0.1:{port}/api/flows/filter", json={}, timeout=5).status_code in (401, 403)
    addresses = other_addresses()
    for address in addresses:  # this machine's other addresses: nothing listens there
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{address}:{port}/api/health", timeout=3)
    assert httpx.post(f"http://127.0.0.1:{front}/api/flows/filter", json={}, timeout=5).status_code == 401
    assert httpx.get(f"http://127.0.0.1:{front}/prefect/", timeout=5).status_code == 303  # to the login page
    processes = descendants(proc.pid) | {proc.pid}
    names = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:80] for pid in processes}
    assert len([p for p in processes if b"/oja worker " in names.get(p, b"")]) == 1  # the engine's worker
    deadline = time.monotonic() + 180  # its warm parent, which every run is forked from (started with the worker)
    while not (warm := [p for p in descendants(proc.pid) if _comm(p) == "oja-warm"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    worker_log = (home / "logs" / "worker-1.log").read_text(errors="replace")[-3000:] if warm == [] else ""
    assert len(warm) == 1, (names, worker_log)
    processes = descendants(proc.pid) | {proc.pid}
    assert {pid: _uid(pid) for pid in processes} == dict.fromkeys(processes, NOBODY), names  # never root
    # the forms' choices are published on every start, also without operator alerts (no OJA_OPERATOR_URLS here)
    assert "the forms offer the known codes" in (home.parent / "oja-start.out").read_text()
    assert home.stat().st_mode & 0o777 == 0o700
    assert (home / "prefect-api.secret").stat().st_mode & 0o777 == 0o600


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def test_a_production_start_as_root_is_refused(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OJA_"))}
    env.update(OJA_HOME=str(tmp_path), OJA_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test",
               OJA_SMTP_URL="mailto://127.0.0.1:1?from=oja@x")  # fmt: skip
    if os.geteuid() != 0:
        pytest.skip("runs as root")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "oja"), "start", "--production", "--port", str(free_port())],
        env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "draait nooit als root" in " ".join((result.stdout + result.stderr).split())
    assert not (tmp_path / "prefect-api.secret").exists()  # refused before anything started
