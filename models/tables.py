"""The engine's own database: an arrangement's whole life, as SQLModel tables.

Personal data (names, BSN, onderwijsnummer, birth dates) lives only here, in
`Pupil` and `Parent`. Everything else refers to a pupil by its pseudonymous
reference (`LL-000123`) and to a case by its case reference (`OJA-2026-000123`);
those are the only identifiers that reach Prefect or e-mail.

Codes (states, sources, reasons) are stored as plain strings so that the same
migrations run on SQLite and PostgreSQL; each column's comment names the enum that is its
vocabulary (`models.lifecycle`, `models.vocabulary`, `models.reminders`, `models.decisions`),
every one with Dutch values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.lifecycle import CaseState


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ts_column(*, nullable: bool, default: Callable[[], dt.datetime] | None = None) -> sa.Column[dt.datetime]:
    """A timezone-aware timestamp column; `default` fills it in on insert."""
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, default=default)


# ---- organisations -------------------------------------------------------------------------


class Municipality(SQLModel, table=True):
    """A gemeente: pays for youth care of its residents; its district team is the gate to specialised care."""

    code: str = Field(primary_key=True, max_length=6)  # CBS code, e.g. GM0164
    name: str = Field(max_length=100)
    district_team_email: str | None = Field(default=None, max_length=254)


class School(SQLModel, table=True):
    """A school in the region, with the holiday region its school days follow."""

    code: str = Field(primary_key=True, max_length=12)  # BRIN-like code, e.g. 12AB
    name: str = Field(max_length=100)
    holiday_region: str = Field(max_length=6)  # models.vocabulary.HolidayRegion
    municipality_code: str = Field(foreign_key="municipality.code", max_length=6)


class SchoolClosure(SQLModel, table=True):
    """A day one school is closed on top of the national rule: a study day, Good Friday, ..."""

    __tablename__ = "school_closure"

    school_code: str = Field(foreign_key="school.code", primary_key=True, max_length=12)
    day: dt.date = Field(primary_key=True)
    kind: str = Field(max_length=24)  # models.vocabulary.ClosureKind


class Provider(SQLModel, table=True):
    """A youth care provider delivering arrangements in schools."""

    code: str = Field(primary_key=True, max_length=12)
    name: str = Field(max_length=100)


class Professional(SQLModel, table=True):
    """Someone who acts on cases: coordinator, youth care worker, district team member, team lead."""

    code: str = Field(primary_key=True, max_length=12)  # e.g. PRF-0001
    name: str = Field(max_length=100)
    role: str = Field(max_length=32)  # models.vocabulary.Role
    email: str | None = Field(default=None, max_length=254)
    school_code: str | None = Field(default=None, foreign_key="school.code", max_length=12)
    provider_code: str | None = Field(default=None, foreign_key="provider.code", max_length=12)
    municipality_code: str | None = Field(default=None, foreign_key="municipality.code", max_length=6)


# ---- pupils (the only personal data) -----------------------------------------------------


class Pupil(SQLModel, table=True):
    """A pupil. `ref` is the pseudonym used everywhere outside this table."""

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True, max_length=12)  # LL-000123
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    bsn: str | None = Field(default=None, unique=True, max_length=9)
    onderwijsnummer: str | None = Field(default=None, unique=True, max_length=9)
    birth_date: dt.date | None  # None only once the dossier is destroyed
    school_code: str = Field(foreign_key="school.code", max_length=12)
    municipality_code: str = Field(foreign_key="municipality.code", max_length=6)  # of residence
    destroyed_on: dt.date | None = None  # the dossier was destroyed; the row keeps the pseudonym taken
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    # the pupil's own e-mail address (personal data: never to Prefect), typed by the professional who invites them
    email: str | None = Field(default=None, max_length=254)
    # from 16 the pupil decides whether the parents see the case on the family's page (`models.family`)
    parents_may_see: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    )


class Parent(SQLModel, table=True):
    """A parent or guardian of a pupil; only those with authority consent."""

    id: int | None = Field(default=None, primary_key=True)
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    position: int  # 1 or 2: the consent parties ouder_1 and ouder_2
    name: str = Field(max_length=100)
    has_authority: bool = True  # gezag
    email: str | None = Field(default=None, max_length=254)  # personal data: for the family's page, never to Prefect


# ---- the case and its life ---------------------------------------------------------------


_case_version = sa.Column("version", sa.Integer, nullable=False, server_default="1")
_reopened_after_plan = sa.Column("reopened_after_plan", sa.Integer, nullable=False, server_default="0")


class Case(SQLModel, table=True):
    """One arrangement's case, from the first signal to closure (and perhaps reopened)."""

    __tablename__ = "oja_case"
    __table_args__ = (
        # a pupil has at most one open case: a second signal joins it (no double intake)
        sa.Index(
            "uq_open_case_per_pupil",
            "pupil_id",
            unique=True,
            sqlite_where=sa.text(f"state != '{CaseState.CLOSED.value}'"),
            postgresql_where=sa.text(f"state != '{CaseState.CLOSED.value}'"),
        ),
    )
    __mapper_args__ = {"version_id_col": _case_version}  # optimistic lock against lost updates

    id: int | None = Field(default=None, primary_key=True)
    ref: str | None = Field(default=None, unique=True, index=True, max_length=20)  # OJA-2026-000123
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    school_code: str = Field(foreign_key="school.code", max_length=12, index=True)
    state: str = Field(max_length=24, index=True)  # models.lifecycle.CaseState
    level: int = 0  # intensity ladder 0-4
    urgency: str = Field(max_length=16)  # models.vocabulary.Urgency
    opened_on: dt.date
    triage_due_on: dt.date | None = None
    plan_due_on: dt.date | None = None  # the joint plan is due (after triage or a return)
    consent_due_on: dt.date | None = None  # consent is due complete (after a plan is drafted)
    triage_outcome: str | None = Field(default=None, max_length=24)  # models.vocabulary.TriageOutcome
    no_action_reason: str | None = Field(default=None, max_length=40)  # models.vocabulary.NoActionReason
    regie_holder_code: str | None = Field(default=None, foreign_key="professional.code", max_length=12)
    review_cadence_weeks: int | None = None
    activated_on: dt.date | None = None
    next_review_on: dt.date | None = Field(default=None, index=True)
    closed_on: dt.date | None = None
    end_reason: str | None = Field(default=None, max_length=40)  # models.vocabulary.EndReason or NoActionReason
    # the newest plan version when the case was last reopened (0: never, or before any plan): only the plans after
    # it are the current episode's (`oja.services.reads.episode_plan`), and give their providers access
    reopened_after_plan: int = Field(default=0, sa_column=_reopened_after_plan)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    version: int = Field(default=1, sa_column=_case_version)


class Signal(SQLModel, table=True):
    """A concern about a pupil. Several signals may belong to one case."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    source: str = Field(max_length=24)  # models.vocabulary.Source
    domains: str = Field(max_length=200)  # comma-separated models.vocabulary.Domain codes
    urgency: str = Field(max_length=16)  # models.vocabulary.Urgency
    received_on: dt.date
    registered_by: str = Field(foreign_key="professional.code", max_length=12)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))


class Plan(SQLModel, table=True):
    """A version of the joint plan (gezamenlijk plan van aanpak). The newest is current."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    version: int
    start_on: dt.date
    planned_end_on: dt.date
    review_cadence_weeks: int
    regie_holder_code: str = Field(foreign_key="professional.code", max_length=12)
    drafted_by: str = Field(foreign_key="professional.code", max_length=12)
    drafted_on: dt.date | None = None  # the working day it was drafted (set by the engine)
    # when help was delivered under this version: from the day the arrangement started on it to the day it ended
    # (closed or referred; None: still running or never started). Cost to date is counted from these, not from
    # the case's state now (docs/domain.md, cost to date)
    active_from: dt.date | None = None
    active_until: dt.date | None = None
    drafted_at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))


class PlanPeriod(SQLModel, table=True):
    """An earlier period of delivery under a plan version: the help was paused (consent withdrawn) and started
    again under the same version. Cost to date counts these as well as the plan's own `active_from`-`active_until`."""

    __tablename__ = "plan_period"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    active_from: dt.date
    active_until: dt.date


class Goal(SQLModel, table=True):
    """A goal of a plan. The description, if any, is entered in the engine, never through Prefect."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    number: int
    domain: str = Field(max_length=24)  # models.vocabulary.Domain
    measure: str = Field(max_length=24)  # models.vocabulary.Measure
    baseline: float
    target: float
    description: str | None = Field(default=None, max_length=2000)


class Intervention(SQLModel, table=True):
    """Help in a plan: who delivers it, how many hours a week, and who pays which share."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    number: int
    provider_code: str = Field(foreign_key="provider.code", max_length=12)
    professional_code: str | None = Field(default=None, foreign_key="professional.code", max_length=12)
    hours_per_week: float
    setting: str = Field(max_length=12)  # models.vocabulary.Setting
    swv_share_pct: int  # the SWV's share; the rest is paid by the municipality of residence


class ConsentRecord(SQLModel, table=True):
    """One party's consent to one plan version, given or refused."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    party: str = Field(max_length=12)  # models.vocabulary.ConsentParty
    granted: bool
    recorded_on: dt.date
    # who recorded it: a professional's code, or the party itself (`ouder_1`, `ouder_2`, `leerling`) when they gave
    # it on their own page (`FamilyConsentRequest`); so no foreign key to `professional`
    recorded_by: str = Field(max_length=12)


class Review(SQLModel, table=True):
    """A periodic review of an active arrangement."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    plan_id: int = Field(foreign_key="plan.id")
    held_on: dt.date
    attendance_pct: int | None = None
    wellbeing: int | None = None  # 1-10
    pupil_view: str | None = Field(default=None, max_length=16)  # models.vocabulary.View
    parent_view: str | None = Field(default=None, max_length=16)  # models.vocabulary.View
    satisfaction: int | None = None  # 1-10
    safety_concern: bool = False
    delivered_as_planned: bool = True
    recorded_by: str = Field(foreign_key="professional.code", max_length=12)


class GoalScore(SQLModel, table=True):
    """Goal Attainment Scaling score of one goal at one review (-2..+2)."""

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    goal_id: int = Field(foreign_key="goal.id")
    gas: int


class Measurement(SQLModel, table=True):
    """A repeated measurement of a goal (progress monitoring), compared with the goal's aim line."""

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goal.id", index=True)
    measured_on: dt.date
    value: float
    recorded_by: str = Field(foreign_key="professional.code", max_length=12)


class Decision(SQLModel, table=True):
    """What was decided about a case: continue, scale up or down, close, escalate, return."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    review_id: int | None = Field(default=None, foreign_key="review.id")
    kind: str = Field(max_length=24)  # models.vocabulary.DecisionKind or OtherDecision
    # models.vocabulary.EndReason (closing), ChangeReason (scaling) or ReturnReason (a return)
    reason_code: str | None = Field(default=None, max_length=40)
    from_level: int
    to_level: int
    decided_on: dt.date
    decided_by: str = Field(foreign_key="professional.code", max_length=12)
    recommended_kind: str | None = Field(default=None, max_length=24)  # what the engine recommended: DecisionKind
    recommendation_rule: str | None = Field(default=None, max_length=24)  # models.decisions.RecommendationRule
    # why the professional chose otherwise: models.vocabulary.OverrideReason
    override_reason: str | None = Field(default=None, max_length=32)


class Referral(SQLModel, table=True):
    """A referral to specialised care, addressed to the municipality of residence (district team)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    municipality_code: str = Field(foreign_key="municipality.code", max_length=6)
    status: str = Field(max_length=12)  # models.vocabulary.ReferralStatus
    referred_on: dt.date
    referred_by: str = Field(foreign_key="professional.code", max_length=12)
    responded_on: dt.date | None = None
    responded_by: str | None = Field(default=None, foreign_key="professional.code", max_length=12)
    returned_on: dt.date | None = None


class GroupArrangement(SQLModel, table=True):
    """One professional serving several pupils in a group (level 1): a fixed number of places and hours."""

    code: str = Field(primary_key=True, max_length=12)
    provider_code: str = Field(foreign_key="provider.code", max_length=12)
    professional_code: str = Field(foreign_key="professional.code", max_length=12)
    school_code: str | None = Field(default=None, foreign_key="school.code", max_length=12)
    capacity: int  # places
    hours_per_week: float  # the professional's hours for the whole group


class GroupMember(SQLModel, table=True):
    """A case's place in a group arrangement, from joining to leaving."""

    id: int | None = Field(default=None, primary_key=True)
    group_code: str = Field(foreign_key="grouparrangement.code", max_length=12, index=True)
    case_id: int = Field(foreign_key="oja_case.id", index=True)
    joined_on: dt.date
    left_on: dt.date | None = None


class AuditRecord(SQLModel, table=True):
    """Who did what to which case, when, from which state to which, and why. Written, never changed."""

    id: int | None = Field(default=None, primary_key=True)
    case_ref: str = Field(max_length=20, index=True)
    actor: str = Field(max_length=12)
    at: dt.datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, default=utcnow))
    action: str = Field(max_length=24)  # models.lifecycle.AuditAction
    # models.lifecycle.CaseState ("-" for a refusal or an erasure request about a pupil without a case)
    from_state: str | None = Field(default=None, max_length=24)
    to_state: str = Field(max_length=24)
    reason: str | None = Field(default=None, max_length=200)


# ---- retention and erasure ---------------------------------------------------------------


class ErasureRequest(SQLModel, table=True):
    """A request to destroy a pupil's dossier before the retention term ends; decided within 3 months.

    It refers to the pupil by pseudonym only, so it outlives the dossier it destroys.
    """

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True, max_length=16)  # VV-2026-000123
    pupil_ref: str = Field(max_length=12, index=True)
    school_code: str = Field(foreign_key="school.code", max_length=12)
    requested_by: str = Field(max_length=12)  # models.vocabulary.ConsentParty
    received_on: dt.date
    due_on: dt.date = Field(index=True)
    registered_by: str = Field(foreign_key="professional.code", max_length=12)
    decided_on: dt.date | None = None
    decided_by: str | None = Field(default=None, foreign_key="professional.code", max_length=12)
    outcome: str | None = Field(default=None, max_length=12)  # models.vocabulary.ErasureOutcome
    refusal_reason: str | None = Field(default=None, max_length=32)  # models.vocabulary.ErasureRefusal
