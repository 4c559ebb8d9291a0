"""a notice names what it is about by reference: an erasure request's reminders need no case (issue 23, item 9)

Revision ID: 0012
Revises: 0011
Create Date: 2027-01-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ERASURE_KINDS = "('vernietiging_binnenkort', 'vernietiging_vandaag', 'vernietiging_te_laat')"


def upgrade() -> None:
    op.add_column("notice", sa.Column("subject_ref", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
    # a case's notices name the case; an erasure request's name the request (its pupil's, due that day), as the
    # sweep does from now on, so that no reminder already sent goes again
    # (a notice of a case that does not exist keeps a reference of its own: the check after the migrations names it)
    op.execute(
        "UPDATE notice SET subject_ref = COALESCE((SELECT ref FROM oja_case WHERE oja_case.id = notice.case_id),"
        " 'CASUS-' || CAST(case_id AS TEXT))"
    )
    op.execute(
        "UPDATE notice SET subject_ref = COALESCE(("
        " SELECT MAX(e.ref) FROM erasurerequest e JOIN pupil p ON p.ref = e.pupil_ref"
        " JOIN oja_case c ON c.pupil_id = p.id"
        " WHERE c.id = notice.case_id AND e.due_on = notice.due_on), subject_ref)"
        f" WHERE kind IN {ERASURE_KINDS}"
    )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.alter_column(
            "subject_ref", existing_type=sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False
        )
        batch_op.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint("uq_notice_once", type_="unique")
        batch_op.create_unique_constraint(
            "uq_notice_once", ["subject_ref", "kind", "due_on", "stage", "recipient_code"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM notice WHERE case_id IS NULL")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_constraint("uq_notice_once", type_="unique")
        batch_op.create_unique_constraint("uq_notice_once", ["case_id", "kind", "due_on", "stage", "recipient_code"])
        batch_op.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("subject_ref")
