"""a school's own closing days (study days, Good Friday, ...) on top of the national rule

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "school_closure",
        sa.Column("school_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.ForeignKeyConstraint(["school_code"], ["school.code"]),
        sa.PrimaryKeyConstraint("school_code", "day"),
    )


def downgrade() -> None:
    op.drop_table("school_closure")
