"""`prefect server start` as the engine runs it: on SQLite, every transaction of the server waits its turn.

Prefect's server on SQLite begins its transactions DEFERRED: a transaction reads, then writes. When another
connection of the server commits in between, SQLite refuses the write at once ("database is locked": the
snapshot the transaction read is gone, and SQLite's busy timeout does not apply to that case). The server
answers 503, and Prefect's client waits 2, 4, 8, 16 and 32 s before it tries again. With ten runs at once, a run
that should take a second took up to a minute (bench/latency.py, `concurrent10`), and a Submit could be lost
(issue 25, where the gateway began to create runs one at a time).

Here the server begins every transaction IMMEDIATE, as Prefect itself does for its `with_for_update`
transactions: a transaction takes SQLite's write lock at its start, and another waits for it (the busy timeout
of 60 s) instead of failing halfway. SQLite has one writer at a time anyway; the transactions are short. Reads
outside a transaction are as before. On PostgreSQL nothing changes.

    python -m oja.entrypoints.prefect_server server start --host 127.0.0.1 --port 4200
"""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any


def serialise_sqlite_transactions() -> None:
    """Make the SQLite configuration of Prefect's server begin every transaction IMMEDIATE."""
    from prefect.server.database.configurations import AioSqliteConfiguration

    deferred_or_immediate = AioSqliteConfiguration.begin_transaction
    if getattr(deferred_or_immediate, "oja_immediate", False):
        return

    @asynccontextmanager
    async def begin_transaction(
        self: AioSqliteConfiguration, session: Any, with_for_update: bool = False
    ) -> AsyncGenerator[Any, None]:
        async with deferred_or_immediate(self, session, with_for_update=True) as transaction:
            yield transaction

    begin_transaction.oja_immediate = True  # type: ignore[attr-defined]
    AioSqliteConfiguration.begin_transaction = begin_transaction  # type: ignore[method-assign]


def main() -> int:
    serialise_sqlite_transactions()
    from prefect.cli import app

    sys.argv[0] = "prefect"
    app()
    return 0


if __name__ == "__main__":
    sys.exit(main())
