"""The lifecycle of one arrangement, as pure rules.

No database, no Prefect: the service layer asks these functions what the next
state is, and they raise `IllegalTransition` (naming the current state and the
allowed next actions) before anything is written. The steps are those of docs/domain.md,
"The lifecycle of one arrangement".
"""

from __future__ import annotations

from enum import StrEnum

from models.errors import IllegalTransition, InvalidInput


class CaseState(StrEnum):
    AWAITING_TRIAGE = "awaiting_triage"  # a signal is registered; the core team triages it
    PLANNING = "planning"  # triaged to an in-school arrangement (or returned); the joint plan is due
    PLAN_DRAFTED = "plan_drafted"  # a joint plan exists; consent is being collected
    CONSENTED = "consented"  # every consent the pupil's age requires is given; ready to start
    ACTIVE = "active"  # the arrangement runs; reviews come on schedule
    REVIEWED = "reviewed"  # a review is recorded; a decision is due
    ESCALATED = "escalated"  # referred to specialised care outside school (level 4)
    CLOSED = "closed"  # ended; can be reopened


class Action(StrEnum):
    JOIN_SIGNAL = "join_signal"  # a further signal for a pupil with an open case joins it
    TRIAGE_BASIC = "triage_basic"  # the school's own support (level 0); the case closes
    TRIAGE_OJA = "triage_oja"  # an in-school arrangement at level 1-3
    TRIAGE_SPECIALISED = "triage_specialised"  # direct referral to specialised care (level 4)
    TRIAGE_NO_ACTION = "triage_no_action"  # no action, with a reason; the case closes
    DRAFT_PLAN = "draft_plan"  # a (new version of the) joint plan; earlier consent lapses
    RECORD_CONSENT = "record_consent"  # one party's consent, given or refused
    CONSENT_COMPLETE = "consent_complete"  # the last required consent arrived
    ACTIVATE = "activate"  # the arrangement starts
    RECORD_REVIEW = "record_review"  # a periodic review with GAS scores
    CONTINUE = "continue"  # decision: go on as planned
    SCALE_UP = "scale_up"  # decision: a higher level in school
    SCALE_DOWN = "scale_down"  # decision: a lower level in school
    CLOSE = "close"  # decision: end, with an ending reason
    ESCALATE = "escalate"  # refer to specialised care (level 4)
    RETURN = "return"  # back from specialised care into an in-school arrangement
    REOPEN = "reopen"  # a closed case is opened again for triage


S, A = CaseState, Action

TRANSITIONS: dict[CaseState, dict[Action, CaseState]] = {
    S.AWAITING_TRIAGE: {
        A.JOIN_SIGNAL: S.AWAITING_TRIAGE,
        A.TRIAGE_BASIC: S.CLOSED,
        A.TRIAGE_OJA: S.PLANNING,
        A.TRIAGE_SPECIALISED: S.ESCALATED,
        A.TRIAGE_NO_ACTION: S.CLOSED,
    },
    S.PLANNING: {
        A.JOIN_SIGNAL: S.PLANNING,
        A.DRAFT_PLAN: S.PLAN_DRAFTED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.PLAN_DRAFTED: {
        A.JOIN_SIGNAL: S.PLAN_DRAFTED,
        A.DRAFT_PLAN: S.PLAN_DRAFTED,
        A.RECORD_CONSENT: S.PLAN_DRAFTED,
        A.CONSENT_COMPLETE: S.CONSENTED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.CONSENTED: {
        A.JOIN_SIGNAL: S.CONSENTED,
        A.DRAFT_PLAN: S.PLAN_DRAFTED,
        A.ACTIVATE: S.ACTIVE,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.ACTIVE: {
        A.JOIN_SIGNAL: S.ACTIVE,
        A.RECORD_REVIEW: S.REVIEWED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.REVIEWED: {
        A.JOIN_SIGNAL: S.REVIEWED,
        A.CONTINUE: S.ACTIVE,
        A.SCALE_UP: S.ACTIVE,
        A.SCALE_DOWN: S.ACTIVE,
        A.CLOSE: S.CLOSED,
        A.ESCALATE: S.ESCALATED,
    },
    S.ESCALATED: {
        A.JOIN_SIGNAL: S.ESCALATED,
        A.RETURN: S.PLANNING,
        A.CLOSE: S.CLOSED,
    },
    S.CLOSED: {
        A.REOPEN: S.AWAITING_TRIAGE,
    },
}

OPEN_STATES = frozenset(s for s in CaseState if s is not CaseState.CLOSED)

# The intensity ladder (docs/domain.md, "Why this exists"): 0 the school's own support, 1-3 in school,
# 4 specialised care.
BASIC_LEVEL = 0
LOWEST_IN_SCHOOL = 1
HIGHEST_IN_SCHOOL = 3
SPECIALISED_LEVEL = 4


def allowed_actions(state: CaseState) -> tuple[Action, ...]:
    """The actions that may follow `state`, in lifecycle order."""
    return tuple(TRANSITIONS[state])


def next_state(state: CaseState, action: Action, *, case_ref: str | None = None) -> CaseState:
    """The state after `action`, or `IllegalTransition` naming what is allowed instead."""
    try:
        return TRANSITIONS[state][action]
    except KeyError:
        raise IllegalTransition(
            state.value, action.value, tuple(a.value for a in allowed_actions(state)), case_ref
        ) from None


def level_after(action: Action, current: int, requested: int | None, *, field: str = "new_level") -> int:
    """The intensity level after `action`, checking the requested level against the ladder."""
    if action in (Action.TRIAGE_OJA, Action.RETURN):
        if requested is None or not LOWEST_IN_SCHOOL <= requested <= HIGHEST_IN_SCHOOL:
            raise InvalidInput(field, f"an in-school level is {LOWEST_IN_SCHOOL} to {HIGHEST_IN_SCHOOL}")
        return requested
    if action is Action.SCALE_UP:
        if current >= HIGHEST_IN_SCHOOL:
            raise InvalidInput(field, f"level {current} is the highest in school: escalate to specialised care instead")
        if requested is None or not current < requested <= HIGHEST_IN_SCHOOL:
            raise InvalidInput(
                field, f"scaling up from level {current} needs a level {current + 1} to {HIGHEST_IN_SCHOOL}"
            )
        return requested
    if action is Action.SCALE_DOWN:
        if current <= LOWEST_IN_SCHOOL:
            raise InvalidInput(
                field, f"level {current} is the lowest in school: close to the school's own support instead"
            )
        if requested is None or not LOWEST_IN_SCHOOL <= requested < current:
            raise InvalidInput(
                field, f"scaling down from level {current} needs a level {LOWEST_IN_SCHOOL} to {current - 1}"
            )
        return requested
    if action in (Action.TRIAGE_SPECIALISED, Action.ESCALATE):
        return SPECIALISED_LEVEL
    if action is Action.TRIAGE_BASIC:
        return BASIC_LEVEL
    return current
