"""Alembic environment: targets SQLModel.metadata; the URL comes from the engine's settings
(or `sqlalchemy.url` set by `oja.adapters.migrate`). Batch mode keeps ALTERs working on SQLite, with foreign keys
off while the migrations run there (a batch operation drops and recreates a table others refer to); afterwards
every reference must hold (`oja.adapters.migrate.sqlite_foreign_keys_off`)."""

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (registers the tables)
import models.tables_dossier  # noqa: F401
import models.tables_family  # noqa: F401
import models.tables_family_opinion  # noqa: F401
import models.tables_outbox  # noqa: F401
from oja.adapters.db import get_engine, normalise_url
from oja.adapters.migrate import sqlite_foreign_keys_off

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str | None:
    return config.get_main_option("sqlalchemy.url") or None


def run_migrations_offline() -> None:
    context.configure(
        url=normalise_url(_url() or ""), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine(_url()).connect() as conn:
        _run(conn)


def _run(connection: Connection) -> None:
    with sqlite_foreign_keys_off(connection):  # before the migrations' transaction begins; PostgreSQL: as it was
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
