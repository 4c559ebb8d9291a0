"""the family's passkeys (issue 26): a WebAuthn credential per device as the second factor instead of the mailed
code, and the challenge of a ceremony in progress

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 00:40:00

Existing data: no passkeys; every login keeps its mailed code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "family_passkey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("transports", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["login_id"], ["family_login.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credential_id"),
    )
    op.create_index("ix_family_passkey_login_id", "family_passkey", ["login_id"])
    op.create_table(
        "family_passkey_challenge",
        sa.Column("bound_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("challenge", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["login_id"], ["family_login.id"]),
        sa.PrimaryKeyConstraint("bound_hash"),
    )
    op.create_index("ix_family_passkey_challenge_login_id", "family_passkey_challenge", ["login_id"])


def downgrade() -> None:
    op.drop_table("family_passkey_challenge")
    op.drop_table("family_passkey")
