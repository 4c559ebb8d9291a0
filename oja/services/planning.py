"""Planning: the joint plan (with, at level 1, a place in a group arrangement: `oja/services/groups.py`), the
consent the pupil's age requires, the start of the arrangement.

Flows: `flows/planning.py`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session

from models import access
from models import lifecycle as lc
from models.errors import FormCheck, InvalidInput
from models.identity import (
    age_on,
    check_consent,
)
from models.lifecycle import Action, CaseState
from models.measures import goal_value_rule
from models.schooldays import add_school_days, add_school_weeks, next_school_day
from models.tables import (
    Case,
    Goal,
    Intervention,
    Plan,
    PlanPeriod,
    Professional,
    Provider,
)
from models.vocabulary import (
    Domain,
    Measure,
    Setting,
)
from oja.config import Policy
from oja.services.consent import granted_parties
from oja.services.groups import group_for, join_group, leave_groups, left_text, place_text
from oja.services.kernel import (
    CaseOutcome,
    access_actor,
    case_calendar,
    case_outcome,
    case_scope,
    choice,
    clean_code,
    load,
    load_actor,
    load_case,
    not_past,
    transition,
)
from oja.services.pupils import parents_with_authority
from oja.services.reads import born, current_plan, key, plan_of, pupil_of


@dataclasses.dataclass(frozen=True)
class GoalSpec:
    domain: str
    measure: str = Measure.GAS.value
    baseline: float = -1
    target: float = 0


@dataclasses.dataclass(frozen=True)
class InterventionSpec:
    provider_code: str
    hours_per_week: float
    setting: str = Setting.INDIVIDUAL.value
    swv_share_pct: int = 50
    professional_code: str | None = None


def draft_plan(
    session: Session,
    *,
    case_ref: str,
    goals: Sequence[GoalSpec],
    interventions: Sequence[InterventionSpec],
    regie_holder: str,
    start_on: dt.date,
    planned_end_on: dt.date,
    actor: str,
    today: dt.date,
    policy: Policy,
    review_cadence_weeks: int | None = None,
    group_code: str | None = None,
) -> CaseOutcome:
    """Draft (a new version of) the joint plan. Consent given to an earlier version lapses.

    At level 1 the plan can start the pupil in a group arrangement (`group_code`: it exists, is of the case's
    school and has a free place); a new version without one gives the place back."""
    who = load_actor(session, actor)
    case = load_case(session, case_ref, who=who, action="draft_plan")
    lc.next_state(CaseState(case.state), Action.DRAFT_PLAN, case_ref=case.ref)
    check = FormCheck()  # every wrong field of the form at once
    regie: Professional | None = None
    with check.field():
        regie = load_actor(session, regie_holder, "regie_holder")
    with check.field():
        not_past(start_on, today, "start_on")
    if planned_end_on <= start_on:
        check.fail("planned_end_on", "moet na de startdatum (start_on) liggen")
    elif planned_end_on > start_on + dt.timedelta(weeks=policy.max_plan_weeks):
        check.fail(
            "planned_end_on",
            f"mag hoogstens {policy.max_plan_weeks} weken na de start liggen: een arrangement is tijdelijk",
        )
    cadence = review_cadence_weeks if review_cadence_weeks is not None else policy.review_cadence_weeks
    if not 1 <= cadence <= 26:
        check.fail("review_cadence_weeks", "moet 1 tot en met 26 schoolweken zijn")
    for field, rows, one, many in (
        ("goals", goals, "doel", "doelen"),
        ("interventions", interventions, "interventie", "interventies"),
    ):
        if not rows:
            check.fail(field, f"een plan vraagt minstens één {one}")
        elif len(rows) > 10:
            check.fail(field, f"hoogstens 10 {many}")
    checked_goals = []
    for i, g in enumerate(goals[:10], start=1):
        domain = measure = ""
        with check.field():
            domain = choice(g.domain, Domain, f"goals[{i}].domain")
        with check.field():
            measure = choice(g.measure, Measure, f"goals[{i}].measure")
        for name, value in (("baseline", g.baseline), ("target", g.target)):
            broken = goal_value_rule(measure, value) if measure else None  # the range of the goal's measure
            if broken:
                check.fail(f"goals[{i}].{name}", broken)
        checked_goals.append(
            Goal(
                plan_id=0, number=i, domain=domain, measure=measure, baseline=float(g.baseline), target=float(g.target)
            )
        )
    checked_interventions = []
    for i, iv in enumerate(interventions[:10], start=1):
        provider_code = prof_code = None
        where = f"interventions[{i}]"
        with check.field():
            provider_code = load(
                session, Provider, clean_code(iv.provider_code, f"{where}.provider_code"), f"{where}.provider_code",
                "aanbieder",
            ).code  # fmt: skip
        if iv.professional_code:
            with check.field():
                prof = load_actor(session, iv.professional_code, f"{where}.professional_code")
                if provider_code is not None and prof.provider_code != provider_code:
                    raise InvalidInput(
                        f"{where}.professional_code",
                        f"moet een professional van aanbieder {provider_code} zijn; {prof.code} werkt daar niet",
                    )
                prof_code = prof.code
        if not 0 < iv.hours_per_week <= policy.max_hours_per_week:
            check.fail(
                f"{where}.hours_per_week",
                f"moet meer dan 0 en hoogstens {policy.max_hours_per_week:g} uur per week zijn",
            )
        if not 0 <= iv.swv_share_pct <= 100:
            check.fail(f"{where}.swv_share_pct", "moet een percentage van 0 tot en met 100 zijn")
        setting = ""
        with check.field():
            setting = choice(iv.setting, Setting, f"{where}.setting")
        checked_interventions.append(
            Intervention(
                plan_id=0,
                number=i,
                provider_code=provider_code or "",
                professional_code=prof_code,
                hours_per_week=float(iv.hours_per_week),
                setting=setting,
                swv_share_pct=int(iv.swv_share_pct),
            )
        )
    if group_code:
        with check.field():
            group_for(session, case, group_code, level=case.level)
    if regie is not None:  # the regie holder: of the core team, and able to act on the case under this plan
        under_plan = dataclasses.replace(
            case_scope(session, case), providers=frozenset(i.provider_code for i in checked_interventions)
        )
        refusal = access.regie_refusal(access_actor(regie), under_plan)
        if refusal:
            check.fail("regie_holder", refusal)
    check.done()
    assert regie is not None  # checked above
    previous = current_plan(session, case)
    plan = Plan(
        case_id=key(case),
        version=(previous.version + 1) if previous else 1,
        start_on=start_on,
        planned_end_on=planned_end_on,
        review_cadence_weeks=cadence,
        regie_holder_code=regie.code,
        drafted_by=who.code,
        drafted_on=today,
    )
    session.add(plan)
    session.flush()
    for row in (*checked_goals, *checked_interventions):
        row.plan_id = plan.id
        session.add(row)
    case.regie_holder_code = regie.code
    case.review_cadence_weeks = cadence
    case.plan_due_on = None
    case.consent_due_on = add_school_days(today, policy.consent_deadline_school_days, case_calendar(session, case))
    if group_code:
        places = join_group(session, case, group_code, today)
    else:  # a plan without a group: a place an earlier version took is given back
        places = left_text(leave_groups(session, case, today))
    transition(session, case, Action.DRAFT_PLAN, who, reason=place_text(f"plan v{plan.version}", *places))
    return case_outcome(case, Action.DRAFT_PLAN)


def activate(session: Session, *, case_ref: str, actor: str, today: dt.date) -> CaseOutcome:
    """Start the arrangement: only with the consent the pupil's age requires today."""
    who = load_actor(session, actor)
    case = load_case(session, case_ref, who=who, action="activate")
    pupil = pupil_of(session, case)
    plan = plan_of(session, case)
    if case.state == CaseState.PLAN_DRAFTED.value:  # say what is missing, not just the state
        check_consent(
            age_on(born(pupil), today),
            parents_with_authority(session, pupil),
            granted_parties(session, plan),
            case_ref=case.ref,
        )
    lc.next_state(CaseState(case.state), Action.ACTIVATE, case_ref=case.ref)
    # the pupil may have turned 12 or 16 since consent was complete
    check_consent(
        age_on(born(pupil), today),
        parents_with_authority(session, pupil),
        granted_parties(session, plan),
        case_ref=case.ref,
    )
    region = case_calendar(session, case)
    start = next_school_day(max(plan.start_on, today), region)
    if plan.active_from is not None and plan.active_until is not None:  # again after a pause (consent withdrawn)
        session.add(PlanPeriod(plan_id=key(plan), active_from=plan.active_from, active_until=plan.active_until))
    else:
        case.activated_on = start
    plan.active_from, plan.active_until = start, None
    session.add(plan)
    case.next_review_on = add_school_weeks(start, plan.review_cadence_weeks, region)
    case.consent_due_on = None
    transition(session, case, Action.ACTIVATE, who, reason=f"plan v{plan.version}")
    return case_outcome(case, Action.ACTIVATE)


def end_delivery(session: Session, case: Case, today: dt.date) -> None:
    """The arrangement stops (closed, referred): help under the current plan was delivered until today. What it
    cost stays counted (docs/domain.md, cost to date); a plan that never started has nothing to end."""
    plan = current_plan(session, case)
    if plan is not None and plan.active_from is not None and plan.active_until is None:
        plan.active_until = max(today, plan.active_from)
        session.add(plan)
