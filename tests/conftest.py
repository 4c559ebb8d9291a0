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


def pytest_collection_modifyitems(session, config, items):
    """The Prefect flow tests last: their test server and its background threads start only then, so the
    plain tests (property tests among them) run in a quiet process."""
    items.sort(key=lambda item: "tests/flows/" in item.nodeid)
