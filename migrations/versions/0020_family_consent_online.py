"""consent online (issue 26, 4): a family's own word on consent waits for its run (`family_consent_request`);
consent recorded by the party itself (`consentrecord.recorded_by` no longer only a professional's code); earlier
periods of delivery under a plan paused by a withdrawal of consent (`plan_period`)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 00:45:00

Existing data: no requests, no paused plans; every consent record names a professional (kept).
Downgrade: consent a party recorded itself is deleted (the foreign key to `professional` comes back).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the SQLite table's foreign key has no name: named by this convention for the batch (alembic's documented way)
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
PG_FK = "consentrecord_recorded_by_fkey"  # PostgreSQL's own name for it (0001 named none)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint(PG_FK, "consentrecord", type_="foreignkey")
    else:
        with op.batch_alter_table("consentrecord", naming_convention=NAMING) as batch:
            batch.drop_constraint("fk_consentrecord_recorded_by_professional", type_="foreignkey")
    op.create_table(
        "plan_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=False),
        sa.Column("active_until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_plan_period_plan_id", "plan_period", ["plan_id"])
    op.create_table(
        "family_consent_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=12), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["login_id"], ["family_login.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["oja_case.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_family_consent_request_token", "family_consent_request", ["token"], unique=True)
    op.create_index("ix_family_consent_request_login_id", "family_consent_request", ["login_id"])
    op.create_index("ix_family_consent_request_case_id", "family_consent_request", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_family_consent_request_case_id", table_name="family_consent_request")
    op.drop_index("ix_family_consent_request_login_id", table_name="family_consent_request")
    op.drop_index("ix_family_consent_request_token", table_name="family_consent_request")
    op.drop_table("family_consent_request")
    op.drop_index("ix_plan_period_plan_id", table_name="plan_period")
    op.drop_table("plan_period")
    op.execute("DELETE FROM consentrecord WHERE recorded_by NOT IN (SELECT code FROM professional)")
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key(PG_FK, "consentrecord", "professional", ["recorded_by"], ["code"])
    else:
        with op.batch_alter_table("consentrecord", naming_convention=NAMING) as batch:
            batch.create_foreign_key(
                "fk_consentrecord_recorded_by_professional", "professional", ["recorded_by"], ["code"]
            )
