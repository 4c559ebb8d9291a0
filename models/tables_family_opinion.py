"""The family's own view at a review (issue 26, hoorrecht; rules in `models.family_opinion`), and the mails that
ask for it. Apart from the professionals' `Review` and `GoalScore`: a view is what a pupil or a parent says before
the review; once the review is recorded it points at it (`review_id`) and no longer changes.

The texts (`going_well`, `to_change`) are personal data in the family's own words: they stay in this database,
never in Prefect (parameters, logs, results, a recommendation's reasons) and never in a mail.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.tables import ts_column, utcnow


class FamilyOpinion(SQLModel, table=True):
    """One party's view for one review of a case (by its due date): one per party per due date."""

    __tablename__ = "family_opinion"
    __table_args__ = (sa.UniqueConstraint("case_id", "due_on", "party", name="uq_family_opinion_once"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    plan_id: int = Field(foreign_key="plan.id")  # the plan whose goals were scored
    party: str = Field(max_length=12)  # models.family: ouder_1, ouder_2, leerling
    due_on: dt.date  # the review's due date it is for (`Case.next_review_on` when given)
    going_well: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    to_change: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    submitted_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    changed_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    review_id: int | None = Field(default=None, foreign_key="review.id", index=True)  # set when the review is recorded


class FamilyOpinionScore(SQLModel, table=True):
    """A goal's score in a view: -2..+2, or None for "weet ik niet"."""

    __tablename__ = "family_opinion_score"

    opinion_id: int = Field(foreign_key="family_opinion.id", primary_key=True)
    goal_id: int = Field(foreign_key="goal.id", primary_key=True)
    gas: int | None = None


class FamilyNotice(SQLModel, table=True):
    """A mail to a family member about their view, decided once per review due date and kind (the sweep); its
    message in the outbox (`outbox_id`)."""

    __tablename__ = "family_notice"
    __table_args__ = (sa.UniqueConstraint("login_id", "case_id", "due_on", "kind", name="uq_family_notice_once"),)

    id: int | None = Field(default=None, primary_key=True)
    login_id: int = Field(foreign_key="family_login.id", index=True)
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    due_on: dt.date
    kind: str = Field(max_length=24)  # models.family_opinion.FamilyNoticeKind
    sweep_date: dt.date
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
