"""What a pupil and the parents see on their own page (issue 26, "with the pupil and the parents, not on their
behalf"): the plan of the pupil's current case (the open one, else the latest), who holds regie and how to reach
them, the next review, who consented and who still has to, and the decisions with their reasons.

Codes and plain values only (the page puts them in words, `models.family_words`). It reads, never writes: the web
layer logs the view. What a family sees and does not see, and why: docs/domain.md, "The family's own page". The
professionals' working data stays out: the signals (who raised a concern, about what), the triage, the reviews'
scores and remarks, the audit trail, the professionals' codes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from models.errors import InvalidInput, UnknownReference
from models.identity import age_on, required_consent
from models.lifecycle import CaseState
from models.tables import Case, Decision, Goal, Intervention, Parent, Plan, Professional, Provider, Pupil, School
from oja.services.consent import consent_records, latest_words
from oja.services.pupils import PARENT_PARTIES, parents_with_authority
from oja.services.reads import episode_plan, ref_of
from oja.services.retention import export_pupil

PARTIES = ("ouder_1", "ouder_2", "leerling")  # models.vocabulary.ConsentParty


@dataclasses.dataclass(frozen=True)
class FamilyGoal:
    number: int
    domain: str  # models.vocabulary.Domain
    description: str | None  # the goal in the family's own words, as the team wrote it down; None: not yet


@dataclasses.dataclass(frozen=True)
class FamilyHelp:
    provider_name: str
    professional_name: str | None  # who gives it, when the plan names someone
    hours_per_week: float
    setting: str  # models.vocabulary.Setting


@dataclasses.dataclass(frozen=True)
class Contact:
    """Who holds regie (the one person who keeps the help together), and how to reach them."""

    name: str
    role: str  # models.vocabulary.Role
    organisation: str  # their school's or provider's name
    email: str | None
    phone: str | None  # the professional table has no phone yet: None; the page then names the school


@dataclasses.dataclass(frozen=True)
class FamilyConsent:
    party: str  # models.vocabulary.ConsentParty
    needed: bool  # by the pupil's age today (models.identity.required_consent)
    word: str  # "gegeven", "geweigerd" or "nog_niet": this party's latest word on the current plan
    parent_name: str | None  # a parent's name, for the pupil's page ("uw ouder ..."); None for the pupil


@dataclasses.dataclass(frozen=True)
class FamilyDecision:
    decided_on: dt.date
    kind: str  # models.vocabulary.DecisionKind or OtherDecision
    from_level: int
    to_level: int
    reason: str | None  # EndReason, ChangeReason or ReturnReason
    recommended: str | None  # what the engine advised after a review (DecisionKind)
    rule: str | None  # why it advised so: models.decisions.RecommendationRule
    override: str | None  # why the team chose otherwise: models.vocabulary.OverrideReason


@dataclasses.dataclass(frozen=True)
class FamilyView:
    """The family's page. `case_ref` None: the pupil has no case (or the dossier was destroyed: `destroyed`)."""

    party: str  # who reads it: ouder_1, ouder_2 or leerling
    pupil_ref: str
    given_name: str  # the pupil's first name ("Het plan van Yara")
    school_name: str
    destroyed: bool = False
    case_ref: str | None = None  # to name when calling the school
    state: str | None = None  # models.lifecycle.CaseState
    level: int | None = None
    closed_on: dt.date | None = None
    end_reason: str | None = None  # EndReason or NoActionReason, once closed
    plan_start_on: dt.date | None = None
    planned_end_on: dt.date | None = None
    started_on: dt.date | None = None  # the day the help started (or starts: maybe after today)
    goals: tuple[FamilyGoal, ...] = ()
    help: tuple[FamilyHelp, ...] = ()
    regie: Contact | None = None
    next_review_on: dt.date | None = None
    consent: tuple[FamilyConsent, ...] = ()  # every party needed or heard from, in PARTIES order
    consent_problem: str | None = None  # under 16 without a parent with authority (Dutch, for the school)
    decisions: tuple[FamilyDecision, ...] = ()  # oldest first


def family_view(session: Session, pupil_id: int, party: str, today: dt.date) -> FamilyView:
    """The page of the pupil `pupil_id` for `party` (ouder_1, ouder_2, leerling). Reads only. An unknown pupil is
    `UnknownReference`, a party that is none `InvalidInput`."""
    if party not in PARTIES:
        raise InvalidInput("partij", f"moet één van {', '.join(PARTIES)} zijn")
    pupil = session.get(Pupil, pupil_id)
    if pupil is None:
        raise UnknownReference("leerling", "leerling", str(pupil_id))
    school = session.get(School, pupil.school_code)
    base = FamilyView(party, pupil.ref, pupil.given_name, school.name if school else pupil.school_code)
    if pupil.destroyed_on is not None or pupil.birth_date is None:
        return dataclasses.replace(base, destroyed=True, given_name="")
    case = _case_of(session, pupil)
    if case is None:
        return base
    plan = episode_plan(session, case)  # a case reopened since its plan has none (yet)
    open_case = case.state != CaseState.CLOSED.value
    consent, problem = _consent(session, pupil, plan, today) if plan is not None and open_case else ((), None)
    return dataclasses.replace(
        base,
        case_ref=ref_of(case),
        state=case.state,
        level=case.level,
        closed_on=case.closed_on,
        end_reason=case.end_reason,
        plan_start_on=plan.start_on if plan else None,
        planned_end_on=plan.planned_end_on if plan else None,
        started_on=case.activated_on if plan else None,  # a case reopened since: its earlier start no longer
        goals=_goals(session, plan) if plan else (),
        help=_help(session, plan) if plan else (),
        regie=_contact(session, case.regie_holder_code) if open_case else None,
        next_review_on=case.next_review_on if open_case else None,
        consent=consent,
        consent_problem=problem,
        decisions=_decisions(session, case),
    )


def _case_of(session: Session, pupil: Pupil) -> Case | None:
    """The pupil's open case, else the latest."""
    cases = session.exec(select(Case).where(Case.pupil_id == pupil.id).order_by(col(Case.id).desc())).all()
    return next((c for c in cases if c.state != CaseState.CLOSED.value), cases[0] if cases else None)


def _goals(session: Session, plan: Plan) -> tuple[FamilyGoal, ...]:
    goals = session.exec(select(Goal).where(Goal.plan_id == plan.id).order_by(col(Goal.number))).all()
    return tuple(FamilyGoal(g.number, g.domain, g.description) for g in goals)


def _help(session: Session, plan: Plan) -> tuple[FamilyHelp, ...]:
    stmt = (
        select(Intervention, Provider.name, Professional.name)
        .join(Provider, col(Provider.code) == col(Intervention.provider_code))
        .outerjoin(Professional, col(Professional.code) == col(Intervention.professional_code))
        .where(Intervention.plan_id == plan.id)
        .order_by(col(Intervention.number))
    )
    return tuple(
        FamilyHelp(provider, person, i.hours_per_week, i.setting) for i, provider, person in session.exec(stmt).all()
    )


def _contact(session: Session, code: str | None) -> Contact | None:
    person = session.get(Professional, code) if code else None
    if person is None:
        return None
    place = session.get(School, person.school_code) if person.school_code else None
    provider = session.get(Provider, person.provider_code) if person.provider_code else None
    organisation = place.name if place else provider.name if provider else ""
    return Contact(person.name, person.role, organisation, person.email, None)


def _consent(
    session: Session, pupil: Pupil, plan: Plan, today: dt.date
) -> tuple[tuple[FamilyConsent, ...], str | None]:
    """Each party's word on the current plan, and whether the pupil's age asks for it (as the case page tells it)."""
    latest = latest_words(consent_records(session, plan))
    needed: frozenset[str] = frozenset()
    problem = None
    assert pupil.birth_date is not None
    try:
        needed = required_consent(age_on(pupil.birth_date, today), parents_with_authority(session, pupil))
    except InvalidInput as no_parent:
        problem = no_parent.rule
    names = {
        PARENT_PARTIES[p.position - 1]: p.name
        for p in session.exec(select(Parent).where(Parent.pupil_id == pupil.id)).all()
    }
    lines = tuple(
        FamilyConsent(
            party,
            party in needed,
            "nog_niet" if party not in latest else "gegeven" if latest[party] else "geweigerd",
            names.get(party),
        )
        for party in PARTIES
        if party in needed or party in latest
    )
    return lines, problem


def _decisions(session: Session, case: Case) -> tuple[FamilyDecision, ...]:
    stmt = select(Decision).where(Decision.case_id == case.id).order_by(col(Decision.decided_on), col(Decision.id))
    return tuple(
        FamilyDecision(
            d.decided_on,
            d.kind,
            d.from_level,
            d.to_level,
            d.reason_code,
            d.recommended_kind,
            d.recommendation_rule,
            d.override_reason,
        )
        for d in session.exec(stmt).all()
    )


def family_export(session: Session, pupil_id: int, party: str | None = None) -> dict[str, Any]:
    """The family's own subject-access export (AVG art. 15): everything held about their own child, the file the
    pupil's own school gives (`retention.export_pupil`). With `party`, the views the pupil and the parents gave before
    the reviews (issue 26) are only that party's own: another's words are theirs to share, not the page's. An unknown
    pupil is `UnknownReference`."""
    pupil = session.get(Pupil, pupil_id)
    if pupil is None:
        raise UnknownReference("leerling", "leerling", str(pupil_id))
    data = export_pupil(session, pupil.ref)
    if party is not None:
        for case in data["cases"]:
            own = [v for v in case.get("family_views", []) if v["party"] == party]
            ids = {v["id"] for v in own}
            case["family_views"] = own
            case["family_view_scores"] = [s for s in case.get("family_view_scores", []) if s["opinion_id"] in ids]
    return data
