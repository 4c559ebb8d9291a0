"""a reopened case starts a new episode: the plan version it was reopened after, and no regie holder until a new plan

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 01:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAN_VERSION = re.compile(r"^plan v(\d+)$")  # the reason of a `plan_opstellen` audit record


def upgrade() -> None:
    op.add_column(
        "oja_case", sa.Column("reopened_after_plan", sa.Integer(), nullable=False, server_default="0")
    )
    # a case reopened before this migration: its episode starts after the newest plan drafted before its last
    # reopening, read from its audit trail in the order written (ids, not times: a backdated step keeps its order)
    audit = sa.table(
        "auditrecord", sa.column("id"), sa.column("case_ref"), sa.column("action"), sa.column("reason")
    )
    case = sa.table(
        "oja_case", sa.column("id"), sa.column("ref"), sa.column("reopened_after_plan"), sa.column("regie_holder_code")
    )
    plan = sa.table("plan", sa.column("case_id"), sa.column("version"))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(audit.c.case_ref, audit.c.action, audit.c.reason)
        .where(audit.c.case_ref.in_(sa.select(audit.c.case_ref).where(audit.c.action == "heropenen")))
        .where(audit.c.action.in_(("heropenen", "plan_opstellen")))
        .order_by(audit.c.id)
    ).all()
    drafted: dict[str, int] = {}
    after: dict[str, int] = {}
    for ref, action, reason in rows:
        if action == "plan_opstellen" and (found := PLAN_VERSION.match(reason or "")):
            drafted[ref] = max(drafted.get(ref, 0), int(found[1]))
        elif action == "heropenen":
            after[ref] = drafted.get(ref, 0)
    for ref, version in after.items():
        conn.execute(case.update().where(case.c.ref == ref).values(reopened_after_plan=version))
        newest = conn.execute(
            sa.select(sa.func.max(plan.c.version)).select_from(plan.join(case, case.c.id == plan.c.case_id))
            .where(case.c.ref == ref)
        ).scalar()
        if (newest or 0) <= version:  # no plan since the reopening: no regie holder yet
            conn.execute(case.update().where(case.c.ref == ref).values(regie_holder_code=None))


def downgrade() -> None:
    with op.batch_alter_table("oja_case") as batch:
        batch.drop_column("reopened_after_plan")
