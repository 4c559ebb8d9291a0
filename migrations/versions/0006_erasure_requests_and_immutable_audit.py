"""erasure requests, destroyed dossiers; audit records cannot be changed or deleted

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit records are never changed or deleted"


def upgrade() -> None:
    op.create_table(
        "erasurerequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("pupil_ref", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("school_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("registered_by", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
        sa.Column("refusal_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(["school_code"], ["school.code"]),
        sa.ForeignKeyConstraint(["registered_by"], ["professional.code"]),
        sa.ForeignKeyConstraint(["decided_by"], ["professional.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_erasurerequest_ref"), "erasurerequest", ["ref"], unique=True)
    op.create_index(op.f("ix_erasurerequest_pupil_ref"), "erasurerequest", ["pupil_ref"], unique=False)
    op.create_index(op.f("ix_erasurerequest_due_on"), "erasurerequest", ["due_on"], unique=False)

    with op.batch_alter_table("pupil") as batch:
        batch.alter_column("birth_date", existing_type=sa.Date(), nullable=True)
        batch.add_column(sa.Column("destroyed_on", sa.Date(), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION oja_audit_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}';
            END $$;
            """
        )
        op.execute(
            "CREATE TRIGGER auditrecord_immutable BEFORE UPDATE OR DELETE ON auditrecord "
            "FOR EACH ROW EXECUTE FUNCTION oja_audit_is_immutable()"
        )
        op.execute(
            "CREATE TRIGGER auditrecord_no_truncate BEFORE TRUNCATE ON auditrecord "
            "FOR EACH STATEMENT EXECUTE FUNCTION oja_audit_is_immutable()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER auditrecord_no_{event.lower()} BEFORE {event} ON auditrecord "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER auditrecord_no_truncate ON auditrecord")
        op.execute("DROP TRIGGER auditrecord_immutable ON auditrecord")
        op.execute("DROP FUNCTION oja_audit_is_immutable()")
    else:
        op.execute("DROP TRIGGER auditrecord_no_update")
        op.execute("DROP TRIGGER auditrecord_no_delete")
    with op.batch_alter_table("pupil") as batch:
        batch.drop_column("destroyed_on")
        batch.alter_column("birth_date", existing_type=sa.Date(), nullable=False)
    op.drop_index(op.f("ix_erasurerequest_due_on"), table_name="erasurerequest")
    op.drop_index(op.f("ix_erasurerequest_pupil_ref"), table_name="erasurerequest")
    op.drop_index(op.f("ix_erasurerequest_ref"), table_name="erasurerequest")
    op.drop_table("erasurerequest")
