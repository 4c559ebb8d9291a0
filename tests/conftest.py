"""Shared fixtures: a real SMTP server on localhost, and a throw-away PostgreSQL database."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from oja.adapters.db import get_engine
from tests.smtp import SMTPServer

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    name = f"oja_t_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - CI has PostgreSQL
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is needed: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    yield url
    get_engine(url).dispose()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Tests that share a server started once per package or session (a Prefect server, the whole engine, the dossier)
# run in one xdist process each (`make test`: `-n 2 --dist loadgroup`): a second process would start them again.
SHARED_SERVERS = ("system", "flows", "gateway", "dossier")


def shared_server_of(nodeid: str) -> str | None:
    package = nodeid.split("/")[1] if nodeid.startswith("tests/") else ""
    return package if package in SHARED_SERVERS else None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup`, grouped by package: xdist's own groups (`xdist_group` marks) rename a test's node id, which
    pytest 9 no longer lets them do, so each process started the whole engine again. The work units go out in the
    collection's order (`pytest_collection_modifyitems`): the engine's tests first."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedServerScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_server_of(nodeid) or nodeid

    config.option.loadscopereorder = False
    return SharedServerScheduling(config, log)


def pytest_collection_modifyitems(session, config, items):
    """The whole engine's tests (the longest group) first, the Prefect flow tests last: their test server and its
    background threads start only then, so the plain tests (property tests among them) run in a quiet process."""
    items.sort(key=lambda item: 0 if "tests/system/" in item.nodeid else 2 if "tests/flows/" in item.nodeid else 1)
