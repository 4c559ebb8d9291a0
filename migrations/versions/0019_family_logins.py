"""the family's own way in (issue 26): logins per party of a pupil, their invitations and sessions; the e-mail
address of a parent and of a pupil; the pupil's switch (from 16) whether the parents see the case

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-05 22:10:00

Existing data: no family logins; every pupil's parents may see (the default), no e-mail addresses yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("parent") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("pupil") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("parents_may_see", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "family_login",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=12), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("password_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_hash", sa.String(length=64), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pupil_id", "party", name="uq_family_login_party"),
    )
    op.create_index("ix_family_login_pupil_id", "family_login", ["pupil_id"])
    op.create_index("ix_family_login_email", "family_login", ["email"], unique=True)
    op.create_table(
        "family_invitation",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["login_id"], ["family_login.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_family_invitation_login_id", "family_invitation", ["login_id"])
    op.create_table(
        "family_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["login_id"], ["family_login.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_family_session_login_id", "family_session", ["login_id"])


def downgrade() -> None:
    op.drop_table("family_session")
    op.drop_table("family_invitation")
    op.drop_table("family_login")
    with op.batch_alter_table("pupil") as batch:
        batch.drop_column("parents_may_see")
        batch.drop_column("email")
    with op.batch_alter_table("parent") as batch:
        batch.drop_column("email")
