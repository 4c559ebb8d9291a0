"""Retention and erasure (Jeugdwet art. 7.3.8-7.3.11): destroying dossiers, erasure requests, access exports.

A dossier is kept 20 years after its last change (policy `retention_years`), then destroyed by the
scheduled deployment. Parents, or the young person from 12, may ask for earlier destruction; the
request is decided within 3 months and refused only with a stated reason.

Destroying removes every row about the pupil's care (signals, plans, goals, interventions, consent,
reviews, scores, measurements, decisions, referrals, group places, reminders) and the parents, and
blanks the pupil's personal details. What stays holds no personal data: the pupil and case rows as
tombstones that keep their pseudonymous references taken (so no reference is ever reused), and the
audit trail, which records the destruction itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, TypeVar

import pendulum
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from models import access
from models.errors import FormCheck, InvalidInput, UnknownReference
from models.identity import age_on
from models.lifecycle import AuditAction, CaseState
from models.schooldays import previous_school_day
from models.tables import (
    AuditRecord,
    Case,
    ConsentRecord,
    Decision,
    ErasureRequest,
    Goal,
    GoalScore,
    GroupMember,
    Intervention,
    Measurement,
    Parent,
    Plan,
    PlanPeriod,
    Professional,
    Pupil,
    Referral,
    Review,
    Signal,
)
from models.tables_family import (
    ClosingAnswer,
    FamilyConsentRequest,
    FamilyInvitation,
    FamilyLogin,
    FamilyPasskey,
    FamilyPasskeyChallenge,
    FamilySession,
)
from models.tables_family_opinion import FamilyNotice, FamilyOpinion, FamilyOpinionScore
from models.tables_outbox import Notice, Outbox
from models.vocabulary import ConsentParty, ErasureOutcome, ErasureRefusal
from oja.config import Policy
from oja.services import audit as audit_trail
from oja.services import closing_questions
from oja.services.calendar import school_calendar
from oja.services.kernel import access_actor, case_scope, choice, load_actor, load_pupil, not_future

ERASURE_REF = "VV-{year}-{id:06d}"

_T = TypeVar("_T")


@dataclasses.dataclass
class RetentionReport:
    pupils: int = 0
    cases: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def _stored(value: _T | None, what: str) -> _T:
    """A value every stored row has (a primary key, a case's reference), narrowed from the model's optional field."""
    if value is None:
        raise RuntimeError(f"{what} is not stored yet: flush the session first")
    return value


# ---- destruction ----------------------------------------------------------------------------


def destroy_dossiers(
    session: Session, pupil_ids: list[int], *, actor: str, reason: str, today: dt.date, audit: bool = True
) -> int:
    """Destroy the dossiers of these pupils in bulk, in the caller's transaction; returns the cases touched.

    Each case gets a `dossier_vernietigd` audit record, unless the caller audits the destruction as part of its own
    action (`audit=False`: an erasure grant is one record, which says the dossier was destroyed).
    """
    if not pupil_ids:
        return 0
    cases = session.exec(select(Case.id, Case.ref, Case.state).where(col(Case.pupil_id).in_(pupil_ids))).all()
    case_ids = [c[0] for c in cases]
    plans = select(Plan.id).where(col(Plan.case_id).in_(case_ids))
    goals = select(Goal.id).where(col(Goal.plan_id).in_(plans))
    reviews = select(Review.id).where(col(Review.case_id).in_(case_ids))
    closing_questions.forget(session, case_ids)  # the family's answers at closing, and the address that asked
    opinions = select(FamilyOpinion.id).where(col(FamilyOpinion.case_id).in_(case_ids))  # the family's views
    family_mails = [  # the mails that asked for them: their rows hold the family's address
        n for n in session.exec(select(FamilyNotice.outbox_id).where(col(FamilyNotice.case_id).in_(case_ids))) if n
    ]
    for stmt in (
        sa.delete(Notice).where(col(Notice.case_id).in_(case_ids)),
        sa.delete(FamilyNotice).where(col(FamilyNotice.case_id).in_(case_ids)),
        sa.delete(Outbox).where(col(Outbox.id).in_(family_mails)),
        sa.delete(FamilyOpinionScore).where(col(FamilyOpinionScore.opinion_id).in_(opinions)),
        sa.delete(FamilyOpinion).where(col(FamilyOpinion.case_id).in_(case_ids)),
        sa.delete(GoalScore).where(col(GoalScore.review_id).in_(reviews)),
        sa.delete(Measurement).where(col(Measurement.goal_id).in_(goals)),
        sa.delete(Decision).where(col(Decision.case_id).in_(case_ids)),
        sa.delete(ConsentRecord).where(col(ConsentRecord.case_id).in_(case_ids)),
        sa.delete(FamilyConsentRequest).where(col(FamilyConsentRequest.case_id).in_(case_ids)),
        sa.delete(PlanPeriod).where(col(PlanPeriod.plan_id).in_(plans)),
        sa.delete(Review).where(col(Review.case_id).in_(case_ids)),
        sa.delete(Goal).where(col(Goal.plan_id).in_(plans)),
        sa.delete(Intervention).where(col(Intervention.plan_id).in_(plans)),
        sa.delete(Referral).where(col(Referral.case_id).in_(case_ids)),
        sa.delete(GroupMember).where(col(GroupMember.case_id).in_(case_ids)),
        sa.delete(Signal).where(col(Signal.case_id).in_(case_ids)),
    ):
        session.exec(stmt)
    session.exec(sa.update(Case).where(col(Case.id).in_(case_ids)).values(regie_holder_code=None))
    session.exec(sa.delete(Plan).where(col(Plan.case_id).in_(case_ids)))
    session.exec(sa.delete(Parent).where(col(Parent.pupil_id).in_(pupil_ids)))
    logins = select(FamilyLogin.id).where(col(FamilyLogin.pupil_id).in_(pupil_ids))  # the family's own way in
    session.exec(sa.delete(FamilySession).where(col(FamilySession.login_id).in_(logins)))
    session.exec(sa.delete(FamilyInvitation).where(col(FamilyInvitation.login_id).in_(logins)))
    session.exec(sa.delete(FamilyPasskey).where(col(FamilyPasskey.login_id).in_(logins)))
    session.exec(sa.delete(FamilyPasskeyChallenge).where(col(FamilyPasskeyChallenge.login_id).in_(logins)))
    session.exec(sa.delete(FamilyLogin).where(col(FamilyLogin.pupil_id).in_(pupil_ids)))
    session.exec(
        sa.update(Pupil)
        .where(col(Pupil.id).in_(pupil_ids))
        .values(
            given_name="",
            family_name="",
            bsn=None,
            onderwijsnummer=None,
            birth_date=None,
            email=None,
            destroyed_on=today,
        )
    )
    if audit:
        audit_trail.record_unchanged(
            session,
            ((_stored(ref, "a case's reference"), state) for _id, ref, state in cases),
            actor=actor,
            action=AuditAction.DESTROYED,
            reason=reason,
        )
    return len(cases)


def expired_pupils(session: Session, *, today: dt.date, years: int, limit: int) -> list[int]:
    """Pupils without an open case whose dossier was last changed more than `years` years before today."""
    cutoff = pendulum.date(today.year, today.month, today.day).subtract(years=years)
    cutoff_ts = dt.datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=dt.UTC)
    last_case = select(Case.pupil_id, func.max(Case.updated_at).label("last")).group_by(col(Case.pupil_id)).subquery()
    open_pupils = select(Case.pupil_id).where(Case.state != CaseState.CLOSED.value)
    stmt = (
        select(Pupil.id)
        .outerjoin(last_case, last_case.c.pupil_id == Pupil.id)
        .where(
            col(Pupil.destroyed_on).is_(None),
            func.coalesce(last_case.c.last, Pupil.created_at) < cutoff_ts,
            col(Pupil.id).not_in(open_pupils),
        )
        .order_by(col(Pupil.id))
        .limit(limit)
    )
    return [_stored(pupil_id, "a pupil's id") for pupil_id in session.exec(stmt).all()]


def apply_retention(engine: sa.Engine, *, today: dt.date, policy: Policy, batch: int = 500) -> RetentionReport:
    """Destroy every expired dossier, one transaction per batch; safe to re-run and to interrupt."""
    report = RetentionReport()
    while True:
        with Session(engine) as session:
            ids = expired_pupils(session, today=today, years=policy.retention_years, limit=batch)
            if not ids:
                return report
            report.cases += destroy_dossiers(
                session, ids, actor="SYSTEEM", reason=f"bewaartermijn {policy.retention_years} jaar", today=today
            )
            report.pupils += len(ids)
            session.commit()


# ---- erasure requests ------------------------------------------------------------------------


def request_erasure(
    session: Session,
    *,
    pupil_ref: str,
    requested_by: str,
    actor: str,
    received_on: dt.date,
    today: dt.date,
    policy: Policy,
) -> ErasureRequest:
    """Register a written request to destroy a dossier early, by a parent with authority or a pupil of 12+."""
    who = load_actor(session, actor)
    pupil = load_pupil(session, pupil_ref)
    _check_scope(session, who, pupil, "request_erasure")
    check = FormCheck()  # every wrong field of the form at once
    with check.field():
        not_future(received_on, today, "received_on")
    if received_on < today - dt.timedelta(days=31):
        check.fail("received_on", "registreer een verzoek binnen een maand na ontvangst")
    party = ""
    with check.field():
        party = choice(requested_by, ConsentParty, "requested_by")
    if party == ConsentParty.PUPIL.value:
        if age_on(_stored(pupil.birth_date, "the birth date of a pupil whose dossier is kept"), received_on) < 12:
            check.fail("requested_by", "een leerling mag pas vanaf 12 jaar om vernietiging vragen")
    elif party:
        position = 1 if party == ConsentParty.PARENT_1.value else 2
        parent = session.exec(select(Parent).where(Parent.pupil_id == pupil.id, Parent.position == position)).first()
        if parent is None or not parent.has_authority:
            check.fail("requested_by", f"{party} is geen geregistreerde ouder met gezag")
    check.done()
    pending = session.exec(
        select(ErasureRequest.ref).where(
            ErasureRequest.pupil_ref == pupil.ref, col(ErasureRequest.decided_on).is_(None)
        )
    ).first()
    if pending:
        raise InvalidInput(
            "pupil_ref", f"verzoek {pending} voor deze leerling wacht nog op een besluit: beslis daar eerst over"
        )
    due = pendulum.date(received_on.year, received_on.month, received_on.day).add(months=policy.erasure_decision_months)
    request = ErasureRequest(
        ref="VV-PENDING",
        pupil_ref=pupil.ref,
        school_code=pupil.school_code,
        requested_by=party,
        received_on=received_on,
        # a legal term: in a holiday it moves to the last school day before, never after
        due_on=previous_school_day(dt.date(due.year, due.month, due.day), school_calendar(session, pupil.school_code)),
        registered_by=who.code,
    )
    session.add(request)
    session.flush()
    request.ref = ERASURE_REF.format(year=received_on.year, id=request.id)
    session.add(request)
    _audit_pupil(session, pupil, who.code, AuditAction.ERASURE_REQUESTED, f"{request.ref};{party}")
    return request


def decide_erasure(
    session: Session,
    *,
    request_ref: str,
    grant: bool,
    refusal_reason: str | None,
    actor: str,
    today: dt.date,
) -> ErasureRequest:
    """Grant (destroy the dossier now) or refuse with a reason; a running arrangement must be closed first."""
    who = load_actor(session, actor)
    request = session.exec(
        select(ErasureRequest).where(ErasureRequest.ref == (request_ref or "").strip().upper()).with_for_update()
    ).first()
    if request is None:
        raise UnknownReference("request_ref", "verzoek om vernietiging", request_ref)
    if request.decided_on is not None:
        raise InvalidInput("request_ref", f"over {request.ref} is al besloten op {request.decided_on.isoformat()}")
    pupil = session.exec(select(Pupil).where(Pupil.ref == request.pupil_ref)).one()
    _check_scope(session, who, pupil, "decide_erasure")
    open_case = session.exec(
        select(Case.ref).where(Case.pupil_id == pupil.id, Case.state != CaseState.CLOSED.value)
    ).first()
    if grant:
        if refusal_reason:
            raise InvalidInput("refusal_reason", "een reden hoort alleen bij een afwijzing")
        if open_case:
            raise InvalidInput(
                "grant", f"casus {open_case} is nog open: sluit die eerst af, of wijs het verzoek af met een reden"
            )
        request.outcome = ErasureOutcome.GRANTED.value
    else:
        if not refusal_reason:
            raise InvalidInput("refusal_reason", "een afwijzing vraagt een reden")
        request.refusal_reason = choice(refusal_reason, ErasureRefusal, "refusal_reason")
        request.outcome = ErasureOutcome.REFUSED.value
    request.decided_on = today
    request.decided_by = who.code
    session.add(request)
    outcome = request.refusal_reason or "dossier vernietigd"
    action = AuditAction.ERASURE_GRANTED if grant else AuditAction.ERASURE_REFUSED
    _audit_pupil(session, pupil, who.code, action, f"{request.ref};{outcome}")
    if grant:  # the grant's one audit record says so: no second record for the destruction
        destroy_dossiers(
            session,
            [_stored(pupil.id, "a pupil's id")],
            actor=who.code,
            reason=f"verzoek {request.ref}",
            today=today,
            audit=False,
        )
    return request


def _check_scope(session: Session, who: Professional, pupil: Pupil, action: str) -> None:
    """The pupil's school, or whoever may act on the pupil's latest case, handles the request."""
    latest = session.exec(select(Case).where(Case.pupil_id == pupil.id).order_by(col(Case.id).desc())).first()
    scope = (
        case_scope(session, latest)
        if latest is not None
        else access.CaseScope(pupil.ref, pupil.school_code, pupil.municipality_code)
    )
    access.check(access_actor(who), dataclasses.replace(scope, ref=pupil.ref), action)


def _audit_pupil(session: Session, pupil: Pupil, actor: str, action: AuditAction, reason: str) -> None:
    """Audit a request or decision on each of the pupil's cases (the pupil reference when there is none)."""
    rows = session.exec(select(Case.ref, Case.state).where(Case.pupil_id == pupil.id)).all()
    cases = [(_stored(ref, "a case's reference"), state) for ref, state in rows] or [(pupil.ref, audit_trail.NO_STATE)]
    audit_trail.record_unchanged(session, cases, actor=actor, action=action, reason=reason)


# ---- subject access ------------------------------------------------------------------------


def _rows(session: Session, model: type[SQLModel], where: sa.ColumnElement[bool]) -> list[dict[str, Any]]:
    return [row.model_dump(mode="json") for row in session.exec(select(model).where(where)).all()]


def export_pupil(session: Session, pupil_ref: str) -> dict[str, Any]:
    """Everything the engine holds about one pupil, for the parents (AVG art. 15); contains personal data."""
    ref = (pupil_ref or "").strip().upper()
    pupil = session.exec(select(Pupil).where(Pupil.ref == ref)).first()
    if pupil is None:
        raise UnknownReference("pupil_ref", "leerling", ref)
    cases: list[dict[str, Any]] = []
    out: dict[str, Any] = {
        "pupil": pupil.model_dump(mode="json"),
        "parents": _rows(session, Parent, col(Parent.pupil_id) == pupil.id),
        "cases": cases,
    }
    for case in session.exec(select(Case).where(Case.pupil_id == pupil.id).order_by(col(Case.id))).all():
        plan_ids = list(session.exec(select(Plan.id).where(Plan.case_id == case.id)).all())
        goal_ids = list(session.exec(select(Goal.id).where(col(Goal.plan_id).in_(plan_ids))).all())
        review_ids = list(session.exec(select(Review.id).where(Review.case_id == case.id)).all())
        opinion_ids = list(session.exec(select(FamilyOpinion.id).where(FamilyOpinion.case_id == case.id)).all())
        cases.append(
            {
                "case": case.model_dump(mode="json"),
                "signals": _rows(session, Signal, col(Signal.case_id) == case.id),
                "plans": _rows(session, Plan, col(Plan.case_id) == case.id),
                "goals": _rows(session, Goal, col(Goal.id).in_(goal_ids)),
                "interventions": _rows(session, Intervention, col(Intervention.plan_id).in_(plan_ids)),
                "consent": _rows(session, ConsentRecord, col(ConsentRecord.case_id) == case.id),
                "reviews": _rows(session, Review, col(Review.case_id) == case.id),
                "goal_scores": _rows(session, GoalScore, col(GoalScore.review_id).in_(review_ids)),
                # the pupil's and the parents' own views for the reviews, with their words (issue 26)
                "family_views": _rows(session, FamilyOpinion, col(FamilyOpinion.case_id) == case.id),
                "family_view_scores": _rows(
                    session, FamilyOpinionScore, col(FamilyOpinionScore.opinion_id).in_(opinion_ids)
                ),
                "measurements": _rows(session, Measurement, col(Measurement.goal_id).in_(goal_ids)),
                "decisions": _rows(session, Decision, col(Decision.case_id) == case.id),
                "referrals": _rows(session, Referral, col(Referral.case_id) == case.id),
                "group_places": _rows(session, GroupMember, col(GroupMember.case_id) == case.id),
                # the family's answers to the two outcome questions at closing (issue 26)
                "closing_answers": _rows(session, ClosingAnswer, col(ClosingAnswer.case_id) == case.id),
                "audit": _rows(session, AuditRecord, col(AuditRecord.case_ref) == case.ref),
            }
        )
    out["erasure_requests"] = _rows(session, ErasureRequest, col(ErasureRequest.pupil_ref) == pupil.ref)
    return out
