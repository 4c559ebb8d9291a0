"""How many Submits the gateway lets into Prefect at once: one on SQLite (Prefect's default, or a sqlite URL), more
on PostgreSQL (issue 25, item 6)."""

from __future__ import annotations

import pytest

from oja.dossier.gateway_proxy import SUBMITS_ON_POSTGRES, submits_at_once


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, 1),  # oja start's own: Prefect on SQLite in PREFECT_HOME
        ({"PREFECT_API_DATABASE_CONNECTION_URL": "sqlite+aiosqlite:////var/lib/oja/prefect.db"}, 1),
        ({"PREFECT_API_DATABASE_CONNECTION_URL": " "}, 1),
        ({"PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://prefect@db/prefect"}, SUBMITS_ON_POSTGRES),
        ({"PREFECT_SERVER_DATABASE_CONNECTION_URL": "postgresql+asyncpg://prefect@db/prefect"}, SUBMITS_ON_POSTGRES),
    ],
)
def test_submits_at_once_follow_prefects_database(environ, expected):
    assert submits_at_once(environ) == expected
