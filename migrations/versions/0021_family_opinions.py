"""the family's own view at every review (issue 26, hoorrecht): a view per party per review due date with a score per
goal and the family's words, and the mails that ask for it (a family member's outbox message has no professional)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 00:40:00

Existing data: no views, no family notices; every outbox row keeps its professional.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "family_opinion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=12), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("going_well", sa.Text(), nullable=True),
        sa.Column("to_change", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["oja_case.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.ForeignKeyConstraint(["review_id"], ["review.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "due_on", "party", name="uq_family_opinion_once"),
    )
    op.create_index("ix_family_opinion_case_id", "family_opinion", ["case_id"])
    op.create_index("ix_family_opinion_review_id", "family_opinion", ["review_id"])
    op.create_table(
        "family_opinion_score",
        sa.Column("opinion_id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("gas", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["opinion_id"], ["family_opinion.id"]),
        sa.ForeignKeyConstraint(["goal_id"], ["goal.id"]),
        sa.PrimaryKeyConstraint("opinion_id", "goal_id"),
    )
    op.create_table(
        "family_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("sweep_date", sa.Date(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["login_id"], ["family_login.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["oja_case.id"]),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login_id", "case_id", "due_on", "kind", name="uq_family_notice_once"),
    )
    op.create_index("ix_family_notice_login_id", "family_notice", ["login_id"])
    op.create_index("ix_family_notice_case_id", "family_notice", ["case_id"])
    op.create_index("ix_family_notice_outbox_id", "family_notice", ["outbox_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("recipient_code", existing_type=sa.String(length=12), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE recipient_code IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("recipient_code", existing_type=sa.String(length=12), nullable=False)
    op.drop_table("family_notice")
    op.drop_table("family_opinion_score")
    op.drop_table("family_opinion")
