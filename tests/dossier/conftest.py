"""The dossier as it runs: the demo region in a fresh SQLite database, `oja.dossier.app.create_app()` served by a
real uvicorn server in a thread (real HTTP, no TestClient), and an httpx client per professional.

One server for the whole package (`scope="package"`: the demo takes seconds to load, a test a few milliseconds);
tests that change something (a lock-out, a pupil) use their own professional or undo it. The server's log output
(uvicorn's access log, the `oja` loggers) and every URL a client requested are kept, for the privacy scan.

The Prefect server is not started: the dossier's links to the Prefect forms are made from fixed deployment ids
(`FixedDeployments`), on `PREFECT_UI`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import threading
import uuid
from collections.abc import Iterator

import httpx
import pyotp
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from models.schooldays import today as amsterdam_today
from models.tables import Case, Pupil
from models.tables_dossier import AccessLogEntry, Login, LoginThrottle, WebSession
from oja.adapters import migrate
from oja.adapters.db import get_engine, unit_of_work
from oja.config import get_settings
from oja.deployments import DEPLOYMENTS
from oja.dossier import pages_cases
from oja.dossier.app import create_app
from oja.entrypoints.demo import load_demo
from oja.services.logins import DEMO_PASSWORD, DEMO_TOTP_SECRET, open_session
from tests.serve import serving
from tests.smtp import free_port

PREFECT_UI = "http://prefect.test:4200"
SESSION_COOKIE = "oja_sessie"
LOGIN_COOKIE = "oja_login"
CAPTURED_LOGGERS = ("uvicorn", "oja")  # uvicorn.access and uvicorn.error (and oja.dossier) propagate to these
LOG_LEVELS = ("uvicorn", "uvicorn.error", "uvicorn.access", "oja")
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


class FixedDeployments:
    """Stands in for `pages_cases.deployments` (which asks the Prefect server): an id per lifecycle flow."""

    def __init__(self) -> None:
        self.ids = {flow: uuid.uuid5(uuid.NAMESPACE_URL, flow) for flow in DEPLOYMENTS}

    def get(self) -> dict[str, uuid.UUID]:
        return dict(self.ids)


class CapturedLog(logging.Handler):
    """Every record of the server's loggers, formatted as a log file would have it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._guard:
            self.lines.append(line)

    @property
    def text(self) -> str:
        with self._guard:
            return "\n".join(self.lines)


@dataclasses.dataclass
class Dossier:
    base_url: str
    db_url: str
    log: CapturedLog
    deployments: FixedDeployments
    urls: list[str] = dataclasses.field(default_factory=list)  # every URL requested, and every Location answered
    _clients: list[httpx.Client] = dataclasses.field(default_factory=list)

    @property
    def engine(self):
        return get_engine(self.db_url)

    def db(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # clients -------------------------------------------------------------------------------------------------

    def client(self, *, https: bool = False, address: str | None = None) -> httpx.Client:
        """A browser without a session. `https`: as if behind a TLS proxy (X-Forwarded-Proto: https). `address`:
        the browser's own address (one of 127.0.0.x), as the server sees it."""

        def on_request(request: httpx.Request) -> None:
            self.urls.append(str(request.url))

        def on_response(response: httpx.Response) -> None:
            if "location" in response.headers:
                self.urls.append(response.headers["location"])

        headers = {"X-Forwarded-Proto": "https"} if https else {}
        client = httpx.Client(
            base_url=self.base_url,
            follow_redirects=False,
            timeout=30,
            headers=headers,
            event_hooks={"request": [on_request], "response": [on_response]},
            transport=httpx.HTTPTransport(local_address=address) if address else None,
        )
        self._clients.append(client)
        return client

    def open_session(self, code: str) -> tuple[str, str]:
        """A session for `code` made as a login makes it: (the cookie's token, the CSRF token)."""
        with unit_of_work(self.engine) as session:
            return open_session(session, code, now=dt.datetime.now(dt.UTC))

    def as_user(self, code: str) -> User:
        """A browser logged in as `code` (a session made directly: a TOTP code counts once per login)."""
        token, csrf = self.open_session(code)
        client = self.client()
        client.cookies.set(SESSION_COOKIE, token)
        return User(code, client, token, csrf)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()

    # logins --------------------------------------------------------------------------------------------------

    def forget_failures(self) -> None:
        """No address and no login waits after failures of earlier tests (the server is the package's: a test that
        logs in through the page must not depend on which tests ran before it)."""
        with unit_of_work(self.engine) as session:
            session.exec(delete(LoginThrottle))

    def allow_code_again(self, code: str) -> None:
        """Forget the last TOTP step `code` used, and any failures: the current code may log in once more."""
        with unit_of_work(self.engine) as session:
            login = session.get(Login, code)
            assert login is not None, code
            login.totp_last_step = None
            login.failed_attempts = 0
            login.locked_until = None
            session.add(login)
            session.exec(delete(LoginThrottle))  # every address's and every login's failures: a clean slate

    def session_count(self, code: str) -> int:
        with self.db() as s:
            return s.exec(
                select(func.count()).select_from(WebSession).where(WebSession.professional_code == code)
            ).one()

    # the access log ------------------------------------------------------------------------------------------

    def log_mark(self) -> int:
        with self.db() as s:
            return s.exec(select(func.max(AccessLogEntry.id))).one() or 0

    def log_since(self, mark: int) -> list[AccessLogEntry]:
        with self.db() as s:
            stmt = select(AccessLogEntry).where(col(AccessLogEntry.id) > mark).order_by(col(AccessLogEntry.id))
            return list(s.exec(stmt).all())

    # the demo ------------------------------------------------------------------------------------------------

    def case_of(self, family_name: str) -> tuple[str, str]:
        """(case reference, pupil reference) of the latest case of the demo pupil with this family name."""
        with self.db() as s:
            stmt = (
                select(Case.ref, Pupil.ref)
                .join(Pupil, col(Pupil.id) == col(Case.pupil_id))
                .where(Pupil.family_name == family_name)
                .order_by(col(Case.id).desc())
            )
            case_ref, pupil_ref = s.exec(stmt).first()
        return case_ref, pupil_ref

    def pupil_count(self) -> int:
        with self.db() as s:
            return s.exec(select(func.count()).select_from(Pupil)).one()


@dataclasses.dataclass
class User:
    code: str
    client: httpx.Client
    token: str
    csrf: str

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.client.post(path, **kwargs)


def form_csrf(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def form_login(
    client: httpx.Client,
    code: str,
    *,
    password: str = DEMO_PASSWORD,
    totp: str | None = None,
    volgende: str = "/",
) -> httpx.Response:
    """Log in through the login form as a browser does: fetch the form (its token, in a cookie too), post it."""
    form = client.get("/inloggen", params={"volgende": volgende})
    assert form.status_code == 200, form.text
    return client.post(
        "/inloggen",
        data={
            "gebruikersnaam": code,
            "wachtwoord": password,
            "code": pyotp.TOTP(DEMO_TOTP_SECRET).now() if totp is None else totp,
            "csrf": form_csrf(form.text),
            "volgende": volgende,
        },
    )


@pytest.fixture(scope="package")
def dossier(tmp_path_factory) -> Iterator[Dossier]:
    home = tmp_path_factory.mktemp("dossier")
    url = f"sqlite:///{home / 'oja.db'}"
    patch = pytest.MonkeyPatch()
    patch.setenv("OJA_DATABASE_URL", url)
    patch.setenv("OJA_HOME", str(home))
    patch.setenv("PREFECT_UI_URL", PREFECT_UI)
    patch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1")  # the test is the TLS proxy (`client(https=True)`)
    get_settings.cache_clear()
    migrate.upgrade(url)
    load_demo(get_engine(url), amsterdam_today())
    fixed = FixedDeployments()
    patch.setattr(pages_cases, "deployments", fixed)
    patch.setattr(pages_cases, "ui_url", lambda: PREFECT_UI)
    captured = CapturedLog()
    levels = {name: logging.getLogger(name).level for name in LOG_LEVELS}
    for name in LOG_LEVELS:
        logging.getLogger(name).setLevel(logging.INFO)
    for name in CAPTURED_LOGGERS:
        logging.getLogger(name).addHandler(captured)
    port = free_port()
    found = Dossier(f"http://127.0.0.1:{port}", url, captured, fixed)
    try:
        with serving(create_app(), port, name="dossier", access_log=True):
            yield found
    finally:
        found.close()
        for name in CAPTURED_LOGGERS:
            logging.getLogger(name).removeHandler(captured)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        patch.undo()
        get_settings.cache_clear()
        get_engine(url).dispose()
