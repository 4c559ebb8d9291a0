"""Database adapter: the engine per URL, and the unit of work (one transaction per change, rolled back
unless committed)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from models.errors import AuditImmutable
from models.tables import AuditRecord
from oja.config import get_settings

# connections per process: the dossier's page threads (8) and the gateway's session reads (4) at once, each
# with its own (oja/dossier/gateway.py), and a few more; opened when needed. SQLAlchemy's default (5 + 10) kept
# page threads waiting for a connection under load (issue 27's profile)
POOL: dict[str, int] = {"pool_size": 10, "max_overflow": 20}


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` use psycopg 3; anything else is taken as given."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def get_engine(url: str | None = None) -> sa.Engine:
    """The engine for `url`, or for the configured database; one per URL per process."""
    return _engine(normalise_url(url or get_settings().effective_database_url))


@functools.cache
def _engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_file = bool(parsed.database) and parsed.database != ":memory:"
        if in_file:
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **(POOL if in_file else {}))  # memory: one

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(  # pragma: no cover - trivial
            dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry
        ) -> None:
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, **POOL)


class OjaSession(Session):
    """The engine's session: audit records in it are append-only (a bug that would change one fails loudly).

    The guard is this class's own flush listener, not one on every SQLAlchemy session in the process; the
    database's triggers (made by migration 0006, re-made by 0008) refuse the same for any other writer.
    """


@sa.event.listens_for(OjaSession, "before_flush")
def _audit_is_append_only(session: Session, _context: object, _instances: object) -> None:
    touched = [o for o in (*session.dirty, *session.deleted) if isinstance(o, AuditRecord)]
    if any(o in session.deleted or session.is_modified(o) for o in touched):
        raise AuditImmutable("audit records are never changed or deleted")


@contextlib.contextmanager
def unit_of_work(engine: sa.Engine | None = None) -> Iterator[Session]:
    """A session whose work commits only when the block ends without error, and is rolled back otherwise."""
    with OjaSession(get_engine() if engine is None else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
