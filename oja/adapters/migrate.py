"""Run the Alembic migrations from code (the CLI, the local start and the tests use this)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from oja.adapters.db import normalise_url
from oja.config import PROJECT_DIR, get_settings


class BrokenReferences(RuntimeError):
    """After the migrations ran on SQLite, rows refer to rows that do not exist."""


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_DIR / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url or get_settings().effective_database_url))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


@contextlib.contextmanager
def sqlite_foreign_keys_off(connection: sa.Connection) -> Iterator[None]:
    """The migrations run inside this block (migrations/env.py); on SQLite, with foreign keys off.

    A batch operation on SQLite copies a table, drops the original and renames the copy; the engine's
    connections enforce foreign keys (oja.adapters.db), and dropping a table that rows of another table
    refer to then fails ("FOREIGN KEY constraint failed"). Alembic's documented remedy: foreign keys off
    while the migrations run. SQLite ignores the pragma inside a transaction, so it is set here, before
    the migrations begin theirs, and read back. When they are done, `PRAGMA foreign_key_check` must find
    no row that refers to nothing, else BrokenReferences names the tables. The pragma is set back either
    way: the connection returns to the engine's pool. Any other database: nothing changes.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    if connection.in_transaction():
        raise RuntimeError("SQLite migrations need a connection outside a transaction: they turn foreign keys off")
    was_on = _foreign_keys(connection)
    _set_foreign_keys(connection, on=False)
    try:
        yield
        _end_transaction(connection)
        _check_references(connection)
    finally:
        _end_transaction(connection)
        _set_foreign_keys(connection, on=was_on)


def _foreign_keys(connection: sa.Connection) -> bool:
    on = bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one())
    connection.rollback()
    return on


def _set_foreign_keys(connection: sa.Connection, *, on: bool) -> None:
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()
    if _foreign_keys(connection) != on:  # the pragma was ignored: a transaction is open
        connection.invalidate()  # not back to the pool with the wrong setting
        raise RuntimeError(f"SQLite did not turn foreign keys {'on' if on else 'off'} around the migrations")


def _end_transaction(connection: sa.Connection) -> None:
    """What the migrations left begun is rolled back (they commit their own work, one revision at a time)."""
    if connection.in_transaction():
        connection.rollback()


def _check_references(connection: sa.Connection) -> None:
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    connection.rollback()
    if not rows:
        return
    broken: defaultdict[tuple[str, str], list[int | None]] = defaultdict(list)
    for table, rowid, parent, _fk in rows:
        broken[table, parent].append(rowid)
    raise BrokenReferences(
        "after the migrations, rows refer to rows that do not exist: "
        + "; ".join(
            f"{table} -> {parent}: {len(ids)} row(s), rowid {', '.join(map(str, ids[:5]))}{', ...' * (len(ids) > 5)}"
            for (table, parent), ids in broken.items()
        )
    )
