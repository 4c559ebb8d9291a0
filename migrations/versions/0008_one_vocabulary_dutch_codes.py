"""one vocabulary: every stored code in Dutch (states, audit actions, referral statuses, recommendation rules,
notice kinds, outbox statuses and digests)

The audit trail is append-only (0006): its triggers are dropped for the translation and created again, in
the same transaction. The partial index that allows one open case per pupil names the closed state, so it is
made again with the new code. Every code fits its column; no column changes.

The translations are written out here, not read from the enums: a migration keeps meaning what it meant.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit records are never changed or deleted"  # as in 0006

STATES = {  # models.lifecycle.CaseState
    "awaiting_triage": "wacht_op_triage",
    "planning": "planvorming",
    "plan_drafted": "plan_opgesteld",
    "consented": "toestemming_compleet",
    "active": "actief",
    "reviewed": "geevalueerd",
    "escalated": "geescaleerd",
    "closed": "gesloten",
}

ACTIONS = {  # models.lifecycle.AuditAction ("triage_oja" stays as it is)
    "join_signal": "signaal_toevoegen",
    "triage_basic": "triage_basis",
    "triage_specialised": "triage_specialistisch",
    "triage_no_action": "triage_geen_actie",
    "draft_plan": "plan_opstellen",
    "record_consent": "toestemming_vastleggen",
    "consent_complete": "toestemming_afronden",
    "activate": "arrangement_starten",
    "record_review": "evaluatie_vastleggen",
    "continue": "voortzetten",
    "scale_up": "opschalen",
    "scale_down": "afschalen",
    "close": "afsluiten",
    "escalate": "verwijzen",
    "return": "terugkeren",
    "reopen": "heropenen",
    "register_signal": "signaal_registreren",
    "record_measurement": "meting_vastleggen",
    "referral_accepted": "verwijzing_aanvaard",
    "refused": "toegang_geweigerd",
    "rescheduled": "termijn_verschoven",
    "destroyed": "dossier_vernietigd",
    "erasure_requested": "vernietiging_verzocht",
    "erasure_toegewezen": "vernietiging_toegewezen",
    "erasure_afgewezen": "vernietiging_afgewezen",
}

REFERRAL_STATUSES = {  # models.vocabulary.ReferralStatus
    "sent": "verzonden",
    "accepted": "aanvaard",
    "declined": "afgewezen",
    "returned": "teruggekeerd",
}

RECOMMENDATION_RULES = {  # models.decisions.RecommendationRule
    "safety": "veiligheid",
    "delivery": "uitvoering",
    "four_point_below": "vierpunt_onder",
    "four_point_above": "vierpunt_boven",
    "no_scores": "geen_scores",
    "first_review": "eerste_evaluatie",
    "on_track": "op_koers",
    "no_progress": "geen_vooruitgang",
    "partial": "gedeeltelijk",
}

NOTICE_KINDS = {  # models.reminders.NoticeKind
    "review_reminder": "evaluatie_binnenkort",
    "review_due": "evaluatie_vandaag",
    "review_overdue": "evaluatie_te_laat",
    "triage_reminder": "triage_binnenkort",
    "triage_due": "triage_vandaag",
    "triage_overdue": "triage_te_laat",
    "plan_late": "plan_te_laat",
    "consent_late": "toestemming_te_laat",
    "upcoming": "komende_week",
    "decision_due": "besluit_te_nemen",
    "referral_sent": "verwijzing_verzonden",
    "referral_open": "verwijzing_open",
    "erasure_reminder": "vernietiging_binnenkort",
    "erasure_due": "vernietiging_vandaag",
    "erasure_overdue": "vernietiging_te_laat",
}

OUTBOX_STATUSES = {  # models.vocabulary.OutboxStatus
    "pending": "wachtend",
    "sent": "verzonden",
    "undeliverable": "onbestelbaar",
}

DIGESTS = {  # models.vocabulary.DigestKind
    "daily": "dag",
    "weekly": "week",
    "combined": "dag_week",
}

# every column that stores one of these codes
COLUMNS: tuple[tuple[str, str, Mapping[str, str]], ...] = (
    ("oja_case", "state", STATES),
    ("auditrecord", "from_state", STATES),
    ("auditrecord", "to_state", STATES),
    ("auditrecord", "action", ACTIONS),
    ("referral", "status", REFERRAL_STATUSES),
    ("decision", "recommendation_rule", RECOMMENDATION_RULES),
    ("notice", "kind", NOTICE_KINDS),
    ("outbox", "status", OUTBOX_STATUSES),
    ("outbox", "digest", DIGESTS),
)


def upgrade() -> None:
    _translate(lambda codes: codes, closed="gesloten", was_closed="closed")


def downgrade() -> None:
    _translate(lambda codes: {new: old for old, new in codes.items()}, closed="closed", was_closed="gesloten")


def _translate(direction: Callable[[Mapping[str, str]], Mapping[str, str]], *, closed: str, was_closed: str) -> None:
    """Every code column translated by `direction(codes)`, with the audit triggers and the open-case index
    out of the way meanwhile; one statement per column."""
    _drop_audit_triggers()
    # the index reads "not closed": made again with the new code (meanwhile a closed case would count as open)
    op.drop_index(
        "uq_open_case_per_pupil",
        table_name="oja_case",
        sqlite_where=sa.text(f"state != '{was_closed}'"),
        postgresql_where=sa.text(f"state != '{was_closed}'"),
    )
    for table, column, codes in COLUMNS:
        mapping = direction(codes)
        col = sa.column(column, sa.String)
        op.execute(
            sa.table(table, col)
            .update()
            .where(col.in_(list(mapping)))
            .values({column: sa.case(mapping, value=col, else_=col)})
        )
    op.create_index(
        "uq_open_case_per_pupil",
        "oja_case",
        ["pupil_id"],
        unique=True,
        sqlite_where=sa.text(f"state != '{closed}'"),
        postgresql_where=sa.text(f"state != '{closed}'"),
    )
    _create_audit_triggers()


def _drop_audit_triggers() -> None:
    """The triggers of 0006 that refuse an UPDATE or DELETE of an audit record (TRUNCATE is not needed here)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER auditrecord_immutable ON auditrecord")
    else:
        op.execute("DROP TRIGGER auditrecord_no_update")
        op.execute("DROP TRIGGER auditrecord_no_delete")


def _create_audit_triggers() -> None:
    """The same triggers as 0006 created (the function `oja_audit_is_immutable` stays on PostgreSQL)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER auditrecord_immutable BEFORE UPDATE OR DELETE ON auditrecord "
            "FOR EACH ROW EXECUTE FUNCTION oja_audit_is_immutable()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER auditrecord_no_{event.lower()} BEFORE {event} ON auditrecord "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
