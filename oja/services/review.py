"""Reviews: a periodic review, progress measurements, the engine's recommendation, and the decision.

After a review the recommendation applies: `decide` loads it itself, and a different decision needs a reason.
Flows: `flows/review.py`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import Session, col, select

from models import lifecycle as lc
from models.decisions import GoalSeries, PlannedEnd, Recommendation, ReviewFacts, recommend
from models.errors import FormCheck, IllegalTransition
from models.lifecycle import Action, AuditAction, CaseState
from models.measures import measurement_rule
from models.schooldays import SchoolCalendar, SchoolDayIndex, add_school_weeks, next_school_day
from models.tables import (
    Decision,
    Goal,
    GoalScore,
    Measurement,
    Review,
)
from models.vocabulary import (
    ChangeReason,
    DecisionKind,
    EndReason,
    OverrideReason,
    View,
)
from oja.config import Policy
from oja.services import audit
from oja.services.closing_questions import ask_family
from oja.services.family_opinion import attach_to_review, family_scores
from oja.services.groups import join_group, leave_groups, left_text, place_text
from oja.services.kernel import (
    CaseOutcome,
    case_calendar,
    case_outcome,
    choice,
    load_actor,
    load_case,
    not_future,
    transition,
)
from oja.services.planning import end_delivery
from oja.services.reads import key, plan_of, ref_of
from oja.services.referral import open_referral


def record_review(
    session: Session,
    *,
    case_ref: str,
    held_on: dt.date,
    actor: str,
    today: dt.date,
    gas_scores: dict[int, int] | None = None,
    attendance_pct: int | None = None,
    wellbeing: int | None = None,
    satisfaction: int | None = None,
    pupil_view: str | None = None,
    parent_view: str | None = None,
    safety_concern: bool = False,
    delivered_as_planned: bool = True,
) -> CaseOutcome:
    """Record a review of an active arrangement: GAS per goal and how things are going."""
    who = load_actor(session, actor)
    case = load_case(session, case_ref, who=who, action="record_review")
    lc.next_state(CaseState(case.state), Action.RECORD_REVIEW, case_ref=case.ref)
    check = FormCheck()  # every wrong field of the form at once
    with check.field():
        not_future(held_on, today, "held_on")
    if case.activated_on and held_on < case.activated_on:
        check.fail("held_on", f"mag niet voor de start van het arrangement liggen ({case.activated_on})")
    for name, value, lo, hi in (
        ("attendance_pct", attendance_pct, 0, 100),
        ("wellbeing", wellbeing, 1, 10),
        ("satisfaction", satisfaction, 1, 10),
    ):
        if value is not None and not lo <= value <= hi:
            check.fail(name, f"moet van {lo} tot en met {hi} zijn")
    views: dict[str, str | None] = {}
    for n, v in (("pupil_view", pupil_view), ("parent_view", parent_view)):
        views[n] = None
        if v is not None:
            with check.field():
                views[n] = choice(v, View, n)
    plan = plan_of(session, case)
    goals = {g.number: g for g in session.exec(select(Goal).where(Goal.plan_id == plan.id)).all()}
    for number, score in (gas_scores or {}).items():
        if number not in goals:
            check.fail("gas_scores", f"doel {number} staat niet in het plan; kies uit de doelen {sorted(goals)}")
        elif not isinstance(score, int) or not -2 <= score <= 2:
            check.fail(f"gas_scores[{number}]", "een GAS-score moet -2, -1, 0, +1 of +2 zijn")
    check.done()
    review = Review(
        case_id=key(case),
        plan_id=key(plan),
        held_on=held_on,
        attendance_pct=attendance_pct,
        wellbeing=wellbeing,
        satisfaction=satisfaction,
        safety_concern=safety_concern,
        delivered_as_planned=delivered_as_planned,
        recorded_by=who.code,
        pupil_view=views["pupil_view"],
        parent_view=views["parent_view"],
    )
    session.add(review)
    session.flush()
    for number, score in sorted((gas_scores or {}).items()):
        session.add(GoalScore(review_id=key(review), goal_id=key(goals[number]), gas=score))
    attach_to_review(session, case, key(review))  # the family's views for this review change no more
    transition(session, case, Action.RECORD_REVIEW, who, reason="safety" if safety_concern else None)
    return dataclasses.replace(case_outcome(case, Action.RECORD_REVIEW), review_id=key(review))


def record_measurement(
    session: Session,
    *,
    case_ref: str,
    goal_number: int,
    measured_on: dt.date,
    value: float,
    actor: str,
    today: dt.date,
) -> CaseOutcome:
    """A progress-monitoring data point for one goal of the current plan (while the arrangement runs)."""
    who = load_actor(session, actor)
    case = load_case(session, case_ref, who=who, action="record_measurement")
    if case.state not in (CaseState.ACTIVE.value, CaseState.REVIEWED.value):  # only while the arrangement runs
        allowed = tuple(a.value for a in lc.allowed_actions(CaseState(case.state)))
        raise IllegalTransition(case.state, AuditAction.RECORD_MEASUREMENT.value, allowed, case.ref)
    check = FormCheck()  # every wrong field of the form at once
    with check.field():
        not_future(measured_on, today, "measured_on")
    if case.activated_on and measured_on < case.activated_on:
        check.fail("measured_on", f"mag niet voor de start van het arrangement liggen ({case.activated_on})")
    plan = plan_of(session, case)
    goal = session.exec(select(Goal).where(Goal.plan_id == plan.id, Goal.number == goal_number)).first()
    if goal is None:
        check.fail("goal_number", f"doel {goal_number} staat niet in het plan")
    else:
        broken = measurement_rule(goal.measure, goal_number, value)  # the range of the goal's measure
        if broken:
            check.fail("value", broken)
    check.done()
    assert goal is not None  # refused above
    session.add(Measurement(goal_id=key(goal), measured_on=measured_on, value=value, recorded_by=who.code))
    audit.record(
        session,
        case_ref=ref_of(case),
        actor=who.code,
        action=AuditAction.RECORD_MEASUREMENT,
        from_state=case.state,
        to_state=case.state,
        reason=f"goal {goal_number}",
    )
    return case_outcome(case, AuditAction.RECORD_MEASUREMENT)


def recommendation(session: Session, *, case_ref: str, policy: Policy, for_update: bool = False) -> Recommendation:
    """The engine's recommendation for a reviewed case, from its reviews and measurements.

    A read: the case is not locked, unless the caller decides on it in the same transaction (`for_update`).
    """
    case = load_case(session, case_ref, lock=for_update)
    if case.state != CaseState.REVIEWED.value:
        allowed = tuple(a.value for a in lc.allowed_actions(CaseState(case.state)))
        raise IllegalTransition(case.state, "recommend", allowed, case.ref)
    plan = plan_of(session, case)
    goals = {g.id: g for g in session.exec(select(Goal).where(Goal.plan_id == plan.id)).all()}
    since = case.activated_on or plan.start_on
    reviews = session.exec(
        select(Review)
        .where(Review.case_id == case.id, Review.held_on >= since)
        .order_by(col(Review.held_on), col(Review.id))
    ).all()
    facts = []
    for r in reviews:
        scores = session.exec(select(GoalScore).where(GoalScore.review_id == r.id)).all()
        gas = {goals[s.goal_id].number: s.gas for s in scores if s.goal_id in goals}
        facts.append(ReviewFacts(r.held_on, gas, r.safety_concern, r.delivered_as_planned))
    series = []
    for g in goals.values():
        points = session.exec(select(Measurement).where(Measurement.goal_id == g.id)).all()
        if points:
            series.append(
                GoalSeries(
                    g.number,
                    g.baseline,
                    g.target,
                    plan.start_on,
                    plan.planned_end_on,
                    tuple((p.measured_on, p.value) for p in points),
                )
            )
    scaled_up_on = session.exec(
        select(col(Decision.decided_on))
        .where(Decision.case_id == case.id, Decision.kind == DecisionKind.SCALE_UP.value)
        .order_by(col(Decision.id).desc())
    ).first()
    family = family_scores(session, [key(reviews[-1])]).get(key(reviews[-1]), {}) if reviews else {}
    return recommend(
        level=case.level,
        reviews=facts,
        series=series,
        scaled_up_on=scaled_up_on,
        goal_count=len(goals),
        policy=policy.decision_policy(case.review_cadence_weeks),
        planned_end=_planned_end(
            plan.planned_end_on, facts[-1].held_on if facts else None, case_calendar(session, case)
        ),
        family=family,  # the family's own scores for the latest review: a difference of 2 or more is named
    )


def _planned_end(end: dt.date, held_on: dt.date | None, calendar: SchoolCalendar) -> PlannedEnd | None:
    """The plan's planned end as seen on the day of the latest review: school days from that day to it."""
    if held_on is None:
        return None
    index = SchoolDayIndex(calendar, min(held_on, end), max(held_on, end))
    return PlannedEnd(end, index.between(held_on, end))


DECISION_ACTIONS = {
    DecisionKind.CONTINUE.value: Action.CONTINUE,
    DecisionKind.SCALE_UP.value: Action.SCALE_UP,
    DecisionKind.SCALE_DOWN.value: Action.SCALE_DOWN,
    DecisionKind.CLOSE.value: Action.CLOSE,
    DecisionKind.ESCALATE.value: Action.ESCALATE,
}


def decide(
    session: Session,
    *,
    case_ref: str,
    kind: str,
    actor: str,
    today: dt.date,
    new_level: int | None = None,
    reason_code: str | None = None,
    override_reason: str | None = None,
    group_code: str | None = None,
    end_reason: str | None = None,
    change_reason: str | None = None,
    policy: Policy,
) -> CaseOutcome:
    """Carry out a decision: continue, scale up or down, close with a reason, or escalate.

    Closing takes an ending reason (`end_reason`), scaling a change reason (`change_reason`), as on the
    form; `reason_code` is either, for callers that have one code.

    Scaling down to level 1 can place the pupil in a group arrangement (`group_code`), if it has room;
    leaving level 1 (scaling up, closing, escalating) gives the place back.

    After a review (the case `reviewed`) the engine's recommendation applies: it is loaded here, in the same
    transaction, and a different decision is an override that needs an `override_reason`; a decision as
    recommended with an `override_reason` contradicts itself and is refused (nothing is dropped in silence).
    Without a review (no recommendation) an `override_reason` is kept as the reason for the decision.
    """
    who = load_actor(session, actor)
    case = load_case(session, case_ref, who=who, action="decide")
    kind = choice(kind, DecisionKind, "kind")
    action = DECISION_ACTIONS[kind]
    lc.next_state(CaseState(case.state), action, case_ref=case.ref)
    advice = (
        recommendation(session, case_ref=ref_of(case), policy=policy, for_update=True)
        if case.state == CaseState.REVIEWED.value
        else None
    )
    check = FormCheck()  # every wrong field of the form at once
    if advice is not None:
        same = kind == advice.kind.value and (new_level is None or new_level == advice.new_level)
        if not same and not override_reason:
            check.fail(
                "override_reason",
                f"de aanbeveling is '{advice.kind.value}': een ander besluit vraagt een reden om af te wijken",
            )
        elif same and override_reason:  # contradictory: refused, never dropped in silence (issue 25)
            check.fail(
                "override_reason",
                f"u volgt de aanbeveling '{advice.kind.value}': er is niets om van af te wijken; laat het veld leeg",
            )
            override_reason = None  # named once
        if same:
            new_level = advice.new_level  # the recommended level, when none was given
            reason_code = reason_code or advice.reason_code
    if override_reason is not None:
        with check.field():
            override_reason = choice(override_reason, OverrideReason, "override_reason")
    reason: str | None = None
    if action is Action.CLOSE:
        if change_reason:
            check.fail(
                "change_reason", "afsluiten vraagt een reden van beëindiging (end_reason), geen reden van wijziging"
            )
        if not (end_reason or reason_code):
            check.fail("end_reason", "afsluiten vraagt een reden van beëindiging (end_reason)")
        else:
            with check.field():
                reason = choice(end_reason or reason_code, EndReason, "end_reason")
    elif action in (Action.SCALE_UP, Action.SCALE_DOWN):
        if end_reason:
            check.fail("end_reason", "een reden van beëindiging hoort alleen bij afsluiten")
        default = ChangeReason.EXTENSION if action is Action.SCALE_UP else ChangeReason.SHORTENING
        with check.field():
            reason = choice(change_reason or reason_code or default.value, ChangeReason, "change_reason")
    elif end_reason or change_reason or reason_code:
        field = "end_reason" if end_reason else "change_reason" if change_reason else "reason_code"
        check.fail(field, f"bij besluit '{kind}' hoort geen redencode")
    if action not in (Action.SCALE_UP, Action.SCALE_DOWN) and new_level is not None:
        check.fail("new_level", "kies alleen een nieuw niveau bij opschalen of afschalen")
    before_level = case.level
    after_level = before_level
    with check.field():
        after_level = lc.level_after(action, case.level, new_level)
    if group_code and not (action is Action.SCALE_DOWN and after_level == lc.LOWEST_IN_SCHOOL):
        check.fail("group_code", "kies alleen een groep bij afschalen naar niveau 1")
    check.done()
    case.level = after_level
    places: list[str] = []
    if group_code:
        places = join_group(session, case, group_code, today)
    elif case.level != before_level or action in (Action.CLOSE, Action.ESCALATE):
        places = left_text(leave_groups(session, case, today))
    if action in (Action.CLOSE, Action.ESCALATE):
        end_delivery(session, case, today)
    review = None
    if case.state == CaseState.REVIEWED.value:
        review = session.exec(select(Review).where(Review.case_id == case.id).order_by(col(Review.id).desc())).first()
    why = _why(advice, override_reason)
    transition(session, case, action, who, reason=place_text(reason or f"{action.value} ({who.role})", why, *places))
    decision = Decision(
        case_id=key(case),
        review_id=key(review) if review else None,
        kind=kind,
        reason_code=reason,
        from_level=before_level,
        to_level=case.level,
        decided_on=today,
        decided_by=who.code,
        recommended_kind=advice.kind.value if advice else None,
        recommendation_rule=advice.rule.value if advice else None,
        override_reason=override_reason,
    )
    session.add(decision)
    if action in (Action.CONTINUE, Action.SCALE_UP, Action.SCALE_DOWN):
        region = case_calendar(session, case)
        cadence = case.review_cadence_weeks or policy.review_cadence_weeks
        case.next_review_on = add_school_weeks(next_school_day(today, region), cadence, region)
    elif action is Action.CLOSE:
        case.closed_on = today
        case.end_reason = reason
        case.next_review_on = None
        session.flush()  # the decision's id: the family's outcome questions name their closing
        ask_family(session, case, decision, today=today, policy=policy)
    elif action is Action.ESCALATE:
        open_referral(session, case, who, today)
    return case_outcome(case, action)


def _why(advice: Recommendation | None, override_reason: str | None) -> str:
    """Why this decision, for its audit record: the recommendation it followed, or the reason to differ from it."""
    if advice is None:
        return f"reden om af te wijken: {override_reason}" if override_reason else ""
    if override_reason:
        return f"afwijking van aanbeveling {advice.kind.value}: {override_reason}"
    return f"volgens aanbeveling ({advice.rule.value})"
