"""each plan version records when help was delivered under it (cost to date, issue 23 item 8)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 00:40:00

Existing data: a case's current plan ran from the case's start (`activated_on`) to its close or referral. Earlier
versions of a case that was referred and came back ran from their own start to the referral; a version that never
started (replaced before it did) gets nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("plan", sa.Column("active_from", sa.Date(), nullable=True))
    op.add_column("plan", sa.Column("active_until", sa.Date(), nullable=True))
    bind = op.get_bind()
    cases = bind.execute(sa.text("SELECT id, state, activated_on, closed_on FROM oja_case")).all()
    for case_id, state, activated_on, closed_on in cases:
        plans = bind.execute(
            sa.text("SELECT id, version, start_on FROM plan WHERE case_id = :c ORDER BY version"), {"c": case_id}
        ).all()
        ends = [
            row[0]
            for row in bind.execute(
                sa.text(
                    "SELECT decided_on FROM decision WHERE case_id = :c AND kind IN ('afsluiten', 'verwijzen') "
                    "ORDER BY decided_on"
                ),
                {"c": case_id},
            ).all()
        ]
        for i, (plan_id, _version, start_on) in enumerate(plans):
            current = i == len(plans) - 1
            if current:
                if activated_on is None or state in ("planvorming", "plan_opgesteld", "toestemming_compleet"):
                    continue
                start = activated_on
                until = None if state in ("actief", "geevalueerd") else closed_on
                if until is None and state not in ("actief", "geevalueerd"):
                    until = next((e for e in ends if str(e) >= str(start)), None)
            else:  # an earlier version ran only if a referral or close ended it before the next version
                until = next((e for e in ends if str(e) >= str(start_on)), None)
                if until is None or str(until) >= str(plans[i + 1][2]):
                    continue
                start = start_on
            bind.execute(
                sa.text("UPDATE plan SET active_from = :f, active_until = :u WHERE id = :p"),
                {"f": start, "u": until, "p": plan_id},
            )


def downgrade() -> None:
    op.drop_column("plan", "active_until")
    op.drop_column("plan", "active_from")
