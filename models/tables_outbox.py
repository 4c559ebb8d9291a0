"""The engine's reminders in its own database: each one decided once (`Notice`), the messages that carry them
(`Outbox`), committed together and sent after, until delivered (`oja/services/sweep.py`, `dispatch.py`)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.tables import ts_column, utcnow
from models.vocabulary import OutboxStatus


class Notice(SQLModel, table=True):
    """One stage of one deadline of one case (or erasure request) for one recipient: decided once, ever.

    The unique key makes the decision idempotent: a re-run, a crashed run or a
    concurrent sweep cannot decide the same reminder twice. It names what the notice is about by reference
    (`subject_ref`): the case's, or an erasure request's, also about a pupil who never had a case (no `case_id`).
    """

    __table_args__ = (
        sa.UniqueConstraint("subject_ref", "kind", "due_on", "stage", "recipient_code", name="uq_notice_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_ref: str = Field(max_length=20)  # OJA-2026-000123, or VV-2026-000123 for an erasure request
    case_id: int | None = Field(default=None, foreign_key="oja_case.id", index=True)
    kind: str = Field(max_length=24)  # models.reminders.NoticeKind
    due_on: dt.date
    stage: int
    school_days: int
    recipient_code: str = Field(foreign_key="professional.code", max_length=12)
    sweep_date: dt.date
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)


class Outbox(SQLModel, table=True):
    """A rendered message to one recipient, committed with the notices it carries; sent after, until delivered.
    A professional's (`recipient_code`), or a family member's (issue 26: no `recipient_code`, the role `gezin` and
    the login's address: asking for their view, `FamilyNotice`; the closing questions, `ClosingAnswer`)."""

    id: int | None = Field(default=None, primary_key=True)
    recipient_code: str | None = Field(default=None, foreign_key="professional.code", max_length=12, index=True)
    role: str = Field(max_length=32)  # models.vocabulary.Role, or `gezin`
    to_address: str | None = Field(default=None, max_length=254)
    digest: str = Field(max_length=8)  # models.vocabulary.DigestKind
    sweep_date: dt.date
    subject: str = Field(max_length=300)
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    html: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING.value, max_length=16, index=True)  # models.vocabulary.OutboxStatus
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    claim_token: str | None = Field(default=None, max_length=32)
    claimed_until: dt.datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    sent_at: dt.datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
