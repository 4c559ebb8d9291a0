"""the access log names the Prefect step (deployment) and run of a write through the gateway

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch): SQLite keeps the table, and with it 0009's append-only triggers
    op.add_column("access_log", sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column("access_log", sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))


def downgrade() -> None:
    op.drop_column("access_log", "run_id")
    op.drop_column("access_log", "step")
