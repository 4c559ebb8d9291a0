"""Longer code columns: decision kind 'specialistische_zorg' and outbox status 'undeliverable' did not fit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence


import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=24), existing_nullable=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sqlmodel.sql.sqltypes.AutoString(length=8),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=16), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=8), existing_nullable=False)
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sqlmodel.sql.sqltypes.AutoString(length=24),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=16), existing_nullable=False)

