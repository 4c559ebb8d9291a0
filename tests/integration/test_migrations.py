"""The same Alembic migrations build the schema of the models on SQLite and on PostgreSQL, and undo it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models.tables  # noqa: F401
from oja.adapters import migrate
from oja.adapters.db import get_engine


def _check_round_trip(url: str) -> None:
    migrate.upgrade(url)
    engine = get_engine(url)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == [], f"the migrations and the models differ: {diff}"
    migrate.downgrade(url, "base")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    with engine.connect() as conn:
        assert set(SQLModel.metadata.tables) <= set(sa.inspect(conn).get_table_names())


def test_the_migrations_build_and_remove_the_schema_on_sqlite(tmp_path):
    _check_round_trip(f"sqlite:///{tmp_path / 'oja.db'}")


@pytest.mark.postgres
def test_the_migrations_build_and_remove_the_schema_on_postgresql(pg_url):
    _check_round_trip(pg_url)
