"""`oja start`: the whole engine on one machine, from `prefect.yaml`.

Migrates the engine's database, loads the demo region, starts a local mail sink
(unless an SMTP URL is configured), the Prefect server with its UI (on SQLite in
OJA_HOME), creates the process work pool, deploys every deployment from
`prefect.yaml`, installs the operator alerts, and starts a worker. The server's and the
workers' output goes to `$OJA_HOME/logs/`. Ctrl-C (or SIGTERM) stops it all.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from rich.console import Console

from oja.adapters.work_pool import WORK_POOL
from oja.config import PROJECT_DIR, Settings, get_settings
from oja.entrypoints.local_setup import (
    check_production,
    descendants,
    front_address,
    port_free,
    prefect_environment,
    private_files,
    send_signal,
    venv_bin,
)

if TYPE_CHECKING:
    from aiosmtpd.smtp import SMTP, Envelope
    from aiosmtpd.smtp import Session as SMTPSession


class MailSink:
    """A local SMTP server that writes every message it receives to a folder as .eml (for the demo)."""

    def __init__(self, folder: Path, port: int) -> None:
        from aiosmtpd.controller import Controller

        folder.mkdir(parents=True, exist_ok=True)

        class Handler:
            async def handle_DATA(  # noqa: N802 - aiosmtpd's name
                self, server: SMTP, session: SMTPSession, envelope: Envelope
            ) -> str:
                content = envelope.content
                assert isinstance(content, bytes)  # the controller leaves decode_data off: the bytes as received
                message = email.message_from_bytes(content, policy=email.policy.default)
                stamp = time.strftime("%Y%m%d-%H%M%S")
                name = f"{stamp}-{abs(hash(content)) % 10**8:08d}.eml"
                (folder / name).write_bytes(content)
                Console().print(f"[dim]mail to {', '.join(envelope.rcpt_tos)}: {message['subject']}[/dim]")
                return "250 OK"

        self.port = port
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def _wait_for_api(api_url: str, timeout: float, proc: subprocess.Popen[bytes], auth: str = "") -> None:
    import base64

    request = urllib.request.Request(f"{api_url}/health")
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Prefect server stopped (exit code {proc.returncode}); see its output above")
        try:
            with urllib.request.urlopen(request, timeout=2) as r:
                if json.loads(r.read()) is True:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the Prefect server did not answer on {api_url} within {timeout:.0f} s")


def _wait_for_dossier(url: str, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the dossier stopped (exit code {proc.returncode}); see logs/dossier.log")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the dossier did not answer on {url} within {timeout:.0f} s")


def _run(cmd: list[str], env: dict[str, str], console: Console, what: str) -> None:
    result = subprocess.run(cmd, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        console.print(result.stdout[-3000:], result.stderr[-3000:])
        raise RuntimeError(f"{what} failed (exit code {result.returncode})")


def _has_logins() -> bool:
    from sqlmodel import Session, col, select

    from models.tables_dossier import Login
    from oja.adapters.db import get_engine

    with Session(get_engine()) as session:
        query = select(Login.professional_code).where(col(Login.totp_secret).is_not(None))
        return session.exec(query).first() is not None


def start(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 4200,
    mail_port: int = 8025,
    console: Console | None = None,
    production: bool = False,
    workers: int = 1,
    runs_per_worker: int = 8,
    dossier_port: int = 4201,
    prefect_host: str = "127.0.0.1",
    dossier_workers: int = 0,
) -> None:
    """`host`:`dossier_port` is the engine's front, what people open: the dossier, and behind its login the Prefect
    UI (`/prefect/`) and API (`/api/`). The Prefect server itself listens on `prefect_host`:`port`, loopback unless
    workers on other machines need a private address, and asks for the engine's secret."""
    from models.schooldays import today
    from oja.adapters import migrate
    from oja.adapters.db import get_engine
    from oja.adapters.prefect_secret import SERVER_VARIABLE, ensure_secret, secret_path
    from oja.adapters.work_pool import ensure_work_pool
    from oja.deployments import remove_undeclared
    from oja.entrypoints.demo import load_demo
    from oja.services.logins import DEMO_PASSWORD, DEMO_TOTP_SECRET

    console = console or Console()
    if production:
        check_production(settings, os.environ.get(SERVER_VARIABLE, ""), prefect_host=prefect_host)
    elif os.geteuid() == 0:
        console.print(
            "[yellow]running as root: fine for a try-out, never in production (oja start --production refuses it; "
            "see the README for a user of its own)[/yellow]"
        )
    if not port_free(prefect_host, port):
        raise RuntimeError(f"port {port} on {prefect_host} is in use: is the engine already running? (or --port)")
    if not port_free(host, dossier_port):
        raise RuntimeError(
            f"port {dossier_port} on {host} is in use: is the engine already running? (or --dossier-port)"
        )
    os.umask(0o077)  # whatever the engine and its children write (databases, logs, results) is theirs alone
    home = settings.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()

    # the address people open: links in mails (also those the demo queues below) follow it, in every process
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    front_url = front_address(home, host=host, dossier_port=dossier_port, production=production, console=console)
    os.environ["PREFECT_UI_URL"] = front_url + "/prefect"  # the demo's mails below link through the gateway too
    get_settings.cache_clear()
    with console.status("migrating the engine database ..."):
        migrate.upgrade()
    console.print(f"engine database ready: {settings.effective_database_url.split('@')[-1]}")
    if not production:
        with console.status("loading the demo region ..."):
            counts = load_demo(get_engine(), today())
        console.print("demo cases per state: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    elif not _has_logins():
        console.print(
            "[yellow]nobody can log in yet: give each professional a password and a second factor "
            "(oja login password PRF-...; oja login totp PRF-...)[/yellow]"
        )
    secret = ensure_secret(home)
    private_files(home, settings.effective_database_url)

    api_url = f"http://{prefect_host}:{port}/api"
    env = {
        **os.environ,
        **prefect_environment(secret=secret, prefect_host=prefect_host, port=port, front_url=front_url, home=home),
        "OJA_HOME": str(home),
        "OJA_DATABASE_URL": settings.effective_database_url,
        "OJA_PROJECT_DIR": str(PROJECT_DIR),
        # temporary files (a worker's runner storage among them) in the engine's own folder, not a /tmp shared with
        # other users or another engine
        "TMPDIR": str(home / "tmp"),
        # a worker asks for new runs every second (Prefect's default is 10 s: on average 5 s of a
        # professional's wait after Submit, doing nothing); a setting of the caller's wins
        "PREFECT_WORKER_QUERY_SECONDS": os.environ.get("PREFECT_WORKER_QUERY_SECONDS", "1"),
        # the workers start each flow run with `python -m oja.entrypoints.engine` (the work pool's template): this one
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    sink = None
    if not (settings.smtp_url or settings.smtp_secret_block):
        if port_free("127.0.0.1", mail_port):
            sink = MailSink(home / "mail", mail_port)
            sink.start()
            env["OJA_SMTP_URL"] = f"mailto://127.0.0.1:{mail_port}?from=oja@localhost"
            console.print(f"no SMTP configured: reminder mails go to {home / 'mail'} (a local mail sink)")
        else:
            console.print(f"[yellow]no SMTP configured and port {mail_port} is taken: reminders will fail[/yellow]")

    if not settings.operator_urls and sink is not None:
        # the demo's operators read the local mail sink too: the late and silent sweep alerts land there
        env["OJA_OPERATOR_URLS"] = json.dumps(
            [f"mailto://127.0.0.1:{mail_port}?from=oja@localhost&to=beheer@localhost"]
        )
    if not env.get("OJA_OPERATOR_URLS"):
        console.print("[yellow]no OJA_OPERATOR_URLS: nobody is told when the daily sweep does not run[/yellow]")
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (home / "tmp").mkdir(exist_ok=True)
    children: list[tuple[list[str], subprocess.Popen[bytes]]] = []
    log_files: list[io.BufferedWriter] = []

    def spawn(cmd: list[str], log: str) -> subprocess.Popen[bytes]:
        """A child of the engine, its output in `logs/<log>`; stop_all stops it."""
        handle = open(logs / log, "ab")  # noqa: SIM115 - closed in stop_all
        log_files.append(handle)
        proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_DIR, stdout=handle, stderr=subprocess.STDOUT)
        children.append((cmd, proc))
        return proc

    def prefect(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([venv_bin("prefect"), *args], env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
        if check and result.returncode != 0:
            console.print(result.stdout[-3000:], result.stderr[-3000:])
            raise RuntimeError(f"prefect {' '.join(args[:2])} failed (exit code {result.returncode})")
        return result

    def stop(procs: list[subprocess.Popen[bytes]], seconds: float) -> None:
        """SIGTERM to `procs`, then SIGKILL to those still running after `seconds`."""
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + seconds
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all() -> None:
        """The flow-run processes the workers started get SIGTERM (a sweep finishes the message it is sending
        and releases the rest), the workers and the dossier 2 s before they are killed (a Prefect worker takes
        15 s or more to stop, longer once its server is gone), then the server 3 s; whatever is left is killed:
        about 6 s."""
        started = [proc for _, proc in children]
        below = {pid for proc in started[1:] for pid in descendants(proc.pid)}  # what the workers started
        for pid in below:
            send_signal(pid, signal.SIGTERM)
        stop(started[1:], 2)  # the dossier and the workers: they hold nothing of their own
        stop(started[:1], 3)  # the Prefect server
        for pid in below & descendants(os.getpid()):  # still running: no longer waited for
            send_signal(pid, signal.SIGKILL)
        if sink is not None:
            sink.stop()
        for handle in log_files:
            handle.close()

    def on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
        raise KeyboardInterrupt  # a service manager's stop is a Ctrl-C: stop the children, then exit

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous_sigterm = signal.signal(signal.SIGTERM, on_sigterm) if in_main_thread else None

    try:
        # Prefect's server, its SQLite transactions waiting their turn (oja/entrypoints/prefect_server.py)
        server_cmd = [venv_bin("python"), "-m", "oja.entrypoints.prefect_server", "server", "start"]
        server_cmd += ["--host", prefect_host, "--port", str(port)]
        server = spawn(server_cmd, "prefect-server.log")
        with console.status("starting the Prefect server ..."):
            _wait_for_api(api_url, 120, server, secret)
        with console.status("creating the work pool and deploying from prefect.yaml ..."):
            ensure_work_pool(prefect)
            prefect("--no-prompt", "deploy", "--all")
            removed = remove_undeclared(api_url, secret)
        if removed:  # a deployment renamed in prefect.yaml: the old one would still be listed, and scheduled
            console.print("deployments no longer in prefect.yaml removed: " + ", ".join(removed))
        _run([venv_bin("oja"), "worklists", "publish"], env, console, "publishing every school's worklist")
        # the forms' choices (schools, providers, professionals, groups): on every start, alerts or not
        _run([venv_bin("oja"), "forms", "publish"], env, console, "offering the known codes in the forms")
        console.print("the forms offer the known codes (after a change: oja forms publish)")
        if env.get("OJA_OPERATOR_URLS"):
            _run([venv_bin("oja"), "alerts"], env, console, "installing the operator alerts")
            console.print("operator alerts installed: a late sweep run, or no sweep completed in 26 hours")
        # the front in `dossier_workers` processes (0: one per core), migrated above: none of them sets anything up
        front_command = ["dossier", "--host", host, "--port", str(dossier_port), "--workers", str(dossier_workers)]
        dossier = spawn([venv_bin("oja"), *front_command], "dossier.log")
        with console.status("starting the dossier and the gateway to Prefect ..."):
            _wait_for_dossier(f"http://{shown_host}:{dossier_port}/gezond", 60, dossier)
        for n in range(workers):
            # the engine's worker: each run forked from a warm parent (oja/entrypoints/worker.py); at most
            # `runs_per_worker` runs at once, so that a burst waits its turn instead of starting 50 processes that
            # contend for the cores and the server's database
            command = ["worker", "--pool", WORK_POOL, "--limit", str(runs_per_worker)]
            spawn([venv_bin("oja"), *command], f"worker-{n + 1}.log")
        # the Prefect CLI's settings for this server: its port and address, when not the defaults
        env_args = (f" --port {port}" if port != 4200 else "") + (
            f" --prefect-host {prefect_host}" if prefect_host != "127.0.0.1" else ""
        )
        kept_in = SERVER_VARIABLE if os.environ.get(SERVER_VARIABLE) else str(secret_path(home))
        console.print(
            f"\n[bold green]OJA engine is running[/bold green] ({time.monotonic() - t0:.0f} s)\n"
            f"Open [bold]{front_url}[/bold] and log in: one login for both\n"
            f"  the dossier (who and what)     {front_url}/\n"
            f"  the Prefect UI (the steps)     {front_url}/prefect/\n"
            "  A step: Deployments -> '01 Signaal registreren' (...) -> Run -> Custom run;\n"
            "  'Uitgevoerd door' is you (left empty, the engine fills in who is logged in).\n"
            + (
                ""
                if production
                else f"  Demo logins: PRF-0001 (zorgcoördinator 10HV), password {DEMO_PASSWORD},\n"
                "  code: .venv/bin/oja login demo-code (or in an authenticator app the secret\n"
                f"  {DEMO_TOTP_SECRET}); also PRF-0011 (jeugdhulpverlener), PRF-0021\n"
                "  (wijkteam), PRF-0041 (manager), PRF-0051 (privacy), PRF-0061 (beheerder).\n"
                f"  The family's page: {front_url}/gezin/ as ouder.scholten@gezin.example (a parent) or\n"
                f"  daan.scholten@gezin.example (the pupil, 16), password {DEMO_PASSWORD}; the code goes by mail\n"
                "  to the local mail sink: .venv/bin/oja login family-code ouder.scholten@gezin.example\n"
            )
            + f"Prefect's own server: {prefect_host}:{port}, never to be exposed; only the engine's\n"
            f"  processes have its secret: {kept_in}\n"
            f'  Its CLI on this machine: eval "$(.venv/bin/oja prefect-env{env_args})"\n'
            "Reference data changed? Put it in the forms: .venv/bin/oja forms publish\n"
            "A case from the shell: .venv/bin/oja case show OJA-...\n"
            "Pupils (logged, with who asks): .venv/bin/oja pupil list --door PRF-...\n"
            f"Logs: {logs}\n"
            "Ctrl-C stops everything."
        )
        while True:
            for cmd, proc in children:
                if proc.poll() is not None:
                    raise RuntimeError(f"{' '.join(cmd[:3])} stopped (exit code {proc.returncode})")
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("stopping ...")
    finally:
        stop_all()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous_sigterm)
