"""the pupil import's preview is kept on the server, bound to the session, and confirmed by its id (issue 24, item 7)

Revision ID: 0015
Revises: 0014
Create Date: 2027-01-20 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_preview",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=43), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_hash"], ["web_session.token_hash"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_import_preview_session_hash"), "import_preview", ["session_hash"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_import_preview_session_hash"), table_name="import_preview")
    op.drop_table("import_preview")
