"""the two outcome questions at closing (issue 26): a party's answers per closing decision (the outbox carries a
family member's mail since 0021)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 00:45:00

Existing data: no answers. Down: the answers go; the mails that asked stay in the outbox (0021's down removes them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "closing_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=12), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("open_until", sa.Date(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("satisfaction", sa.String(length=16), nullable=True),
        sa.Column("without_help", sa.String(length=12), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["oja_case.id"]),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"]),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_id", "party", name="uq_closing_answer_party"),
    )
    op.create_index("ix_closing_answer_case_id", "closing_answer", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_closing_answer_case_id", table_name="closing_answer")
    op.drop_table("closing_answer")
