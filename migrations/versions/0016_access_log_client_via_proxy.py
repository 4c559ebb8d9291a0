"""the access log's client address holds the forwarded address and the proxy it came through (issue 24 item 8)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 01:40:00

"203.0.113.99 via 127.0.0.1": with two IPv6 addresses up to 83 characters, so the column grows from 45 to 100.
Existing lines keep their address as it was written; going back, a longer one keeps its first 45 characters.
The access log stays append-only: SQLite's triggers, dropped by the table's rebuild, are made again.
"""

from collections.abc import Sequence

import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
MESSAGE = "access log entries are never changed or deleted"  # as 0009 made them


def upgrade() -> None:
    _client_length(45, 100)


def downgrade() -> None:
    _client_length(100, 45)


def _client_length(old: int, new: int) -> None:
    """PostgreSQL changes the column in place (a pair too long for the old column keeps its first characters: the
    forwarded address). SQLite rebuilds the table, which drops its append-only triggers: they are made again."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE access_log ALTER COLUMN client TYPE VARCHAR({new}) USING substr(client, 1, {new})")
        return
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER access_log_no_{event}")
    with op.batch_alter_table("access_log") as batch:
        batch.alter_column(
            "client",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=old),
            type_=sqlmodel.sql.sqltypes.AutoString(length=new),
            existing_nullable=True,
        )
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER access_log_no_{event.lower()} BEFORE {event} ON access_log "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
