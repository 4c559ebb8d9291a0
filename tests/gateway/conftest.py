"""The gateway as it runs: a real Prefect server started as `oja start` starts it (its own secret, CSRF protection
on, its UI under /prefect, CORS only for the engine), and the engine's front (`create_app()`: the dossier and the
gateway) served by uvicorn over real HTTP, on the demo region in SQLite and in PostgreSQL.

The Prefect server holds the engine's work pool (with the engine's base job template), a lifecycle deployment
(02 Triage) and a scheduled one (17 Herinneringsronde), an SMTP secret block, a variable and an automation: what
an attacker would want to run, read, pause or switch off. No worker runs: a run that is created stays Scheduled, so
a test counts what was created, and nothing a refused request asked for can happen later either.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlmodel import Session, col, select

from models.schooldays import today as amsterdam_today
from models.tables_dossier import AccessLogEntry
from oja.adapters import migrate
from oja.adapters.db import get_engine, unit_of_work
from oja.adapters.work_pool import WORK_POOL, base_job_template
from oja.config import get_settings
from oja.dossier.app import create_app
from oja.dossier.gateway_proxy import Upstream
from oja.entrypoints.demo import load_demo
from oja.entrypoints.local import _wait_for_api
from oja.entrypoints.local_setup import prefect_environment, venv_bin
from oja.services.logins import open_session
from tests.conftest import PG_ADMIN
from tests.serve import serving
from tests.smtp import free_port

SECRET = "oja:" + uuid.uuid4().hex  # the Prefect server's own secret, as oja start makes one
SMTP_SECRET = "mailtos://oja:zeer-geheim-wachtwoord@smtp.example.org"  # in the block an attacker wants to read

PROFESSIONALS = {  # the demo region's people, one per role
    "zorgcoordinator": "PRF-0001",  # of 10HV
    "jeugdhulpverlener": "PRF-0011",
    "wijkteam": "PRF-0021",
    "teamleider": "PRF-0031",
    "manager": "PRF-0041",
    "privacyfunctionaris": "PRF-0051",
    "beheerder": "PRF-0061",
}


@dataclasses.dataclass
class Prefect:
    """The Prefect server behind the gateway, and what it holds."""

    url: str
    home: Path
    deployments: dict[str, str] = dataclasses.field(default_factory=dict)  # deployment name -> id
    block_id: str = ""
    automation_id: str = ""

    @contextlib.contextmanager
    def client(self) -> Iterator[httpx.Client]:
        """The engine's own client: the server's secret and a CSRF token of its own."""
        with httpx.Client(base_url=self.url + "/api", timeout=30) as client:
            client.headers["Authorization"] = "Basic " + base64.b64encode(SECRET.encode()).decode()
            csrf_client = str(uuid.uuid4())
            token = client.get("/csrf-token", params={"client": csrf_client}).json()["token"]
            client.headers.update({"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": csrf_client})
            yield client

    def runs(self) -> list[dict]:
        with self.client() as client:
            return client.post("/flow_runs/filter", json={}).json()

    def run_ids(self) -> set[str]:
        return {run["id"] for run in self.runs()}


def _start_server(home: Path, port: int, front_url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OJA_"))}
    env.update(prefect_environment(secret=SECRET, prefect_host="127.0.0.1", port=port, front_url=front_url, home=home))
    log = (home / "prefect-server.log").open("wb")
    return subprocess.Popen(
        [venv_bin("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _triage_schema() -> dict:
    from flows.intake import triage

    return triage.parameters.model_dump(mode="json")


def _furnish(prefect: Prefect) -> None:
    """The work pool, two deployments, a secret block, a variable and an automation, as the engine has them."""
    with prefect.client() as client:
        client.post(
            "/work_pools/", json={"name": WORK_POOL, "type": "process", "base_job_template": base_job_template()}
        )
        for flow, name, tags, schema in (
            ("triage", "02 Triage", ["oja", "levenscyclus"], _triage_schema()),
            ("dagelijkse-herinneringen", "17 Herinneringsronde", ["oja"], {}),
        ):
            flow_id = client.post("/flows/", json={"name": flow}).raise_for_status().json()["id"]
            deployment = client.post(
                "/deployments/",
                json={
                    "name": name,
                    "flow_id": flow_id,
                    "work_pool_name": WORK_POOL,
                    "work_queue_name": "default",
                    "tags": tags,
                    "parameter_openapi_schema": schema,
                    "enforce_parameter_schema": bool(schema),
                },
            )
            prefect.deployments[name] = deployment.raise_for_status().json()["id"]
        secret_type = client.get("/block_types/slug/secret").raise_for_status().json()
        [schema] = client.post(
            "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [secret_type["id"]]}}}
        ).json()[:1]
        block = client.post(
            "/block_documents/",
            json={
                "name": "oja-smtp",
                "data": {"value": SMTP_SECRET},
                "block_type_id": secret_type["id"],
                "block_schema_id": schema["id"],
            },
        )
        prefect.block_id = block.raise_for_status().json()["id"]
        client.post("/variables/", json={"name": "oja_drempel", "value": 5}).raise_for_status()
        automation = client.post(
            "/automations/",
            json={
                "name": "geen herinneringsronde in 26 uur",
                "trigger": {
                    "type": "event",
                    "posture": "Reactive",
                    "expect": ["oja.test"],
                    "threshold": 1,
                    "within": 0,
                },
                "actions": [{"type": "do-nothing"}],
            },
        )
        prefect.automation_id = automation.raise_for_status().json()["id"]


@pytest.fixture(scope="package")
def prefect(tmp_path_factory) -> Iterator[Prefect]:
    home = tmp_path_factory.mktemp("prefect-behind-gateway")
    port = free_port()
    server = _start_server(home, port, "http://127.0.0.1:4201")
    try:
        _wait_for_api(f"http://127.0.0.1:{port}/api", 120, server, SECRET)
        found = Prefect(f"http://127.0.0.1:{port}", home)
        _furnish(found)
        yield found
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


@dataclasses.dataclass
class Front:
    """The engine's front (dossier and gateway) on a database of one kind."""

    base_url: str
    db_url: str
    kind: str
    prefect: Prefect
    _clients: list[httpx.Client] = dataclasses.field(default_factory=list)

    @property
    def engine(self):
        return get_engine(self.db_url)

    def anonymous(self, **headers: str) -> httpx.Client:
        client = httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30, headers=headers)
        self._clients.append(client)
        return client

    def session(self, code: str, *, age: dt.timedelta = dt.timedelta(0)) -> str:
        """A session token for `code`, as a login makes it (`age`: made that long ago, and unused since)."""
        with unit_of_work(self.engine) as session:
            token, _ = open_session(session, code, now=dt.datetime.now(dt.UTC) - age)
        return token

    def as_user(self, code: str, *, origin: str | None = None, age: dt.timedelta = dt.timedelta(0)) -> httpx.Client:
        """A browser of `code` on the engine's pages: its session cookie, its Origin, and Prefect's CSRF token
        fetched through the gateway (as the UI does)."""
        client = self.anonymous(Origin=origin or self.base_url)
        client.cookies.set("oja_sessie", self.session(code, age=age))
        csrf_client = str(uuid.uuid4())
        answer = client.get("/api/csrf-token", params={"client": csrf_client})
        if answer.status_code == 200:
            client.headers.update({"Prefect-Csrf-Token": answer.json()["token"], "Prefect-Csrf-Client": csrf_client})
        return client

    def log_mark(self) -> int:
        with Session(self.engine) as s:
            return max([0, *s.exec(select(AccessLogEntry.id)).all()])

    def log_since(self, mark: int) -> list[AccessLogEntry]:
        with Session(self.engine) as s:
            query = select(AccessLogEntry).where(col(AccessLogEntry.id) > mark).order_by(col(AccessLogEntry.id))
            return list(s.exec(query).all())

    def close(self) -> None:
        for client in self._clients:
            client.close()


def _database(kind: str, folder: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'oja.db'}", None
    name = f"oja_gw_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:  # pragma: no cover - CI has PostgreSQL
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is needed: {exc}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def front(request, prefect, tmp_path_factory) -> Iterator[Front]:
    folder = tmp_path_factory.mktemp(f"front-{request.param}")
    url, pg_name = _database(request.param, folder)
    patch = pytest.MonkeyPatch()
    patch.setenv("OJA_DATABASE_URL", url)
    patch.setenv("OJA_HOME", str(folder))
    port = free_port()
    patch.setenv("OJA_DOSSIER_URL", f"http://127.0.0.1:{port}")
    patch.setenv("PREFECT_UI_URL", f"http://127.0.0.1:{port}/prefect")
    get_settings.cache_clear()
    migrate.upgrade(url)
    load_demo(get_engine(url), amsterdam_today())
    app = create_app(Upstream(prefect.url, SECRET))
    found = Front(f"http://127.0.0.1:{port}", url, request.param, prefect)
    try:
        with serving(app, port, name="front", access_log=False, ws="websockets-sansio"):
            yield found
    finally:
        found.close()
        patch.undo()
        get_settings.cache_clear()
        get_engine(url).dispose()
        if pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
