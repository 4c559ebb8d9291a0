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
    """A case's state (`oja_case.state`, `auditrecord.from_state` and `to_state`)."""

    AWAITING_TRIAGE = "wacht_op_triage"  # a signal is registered; the core team triages it
    PLANNING = "planvorming"  # triaged to an in-school arrangement (or returned); the joint plan is due
    PLAN_DRAFTED = "plan_opgesteld"  # a joint plan exists; consent is being collected
    CONSENTED = "toestemming_compleet"  # every consent the pupil's age requires is given; ready to start
    ACTIVE = "actief"  # the arrangement runs; reviews come on schedule
    REVIEWED = "geevalueerd"  # a review is recorded; a decision is due
    ESCALATED = "geescaleerd"  # referred to specialised care outside school (level 4)
    CLOSED = "gesloten"  # ended; can be reopened


class Action(StrEnum):
    """What moves a case from one state to the next (`TRANSITIONS`); each is also an `AuditAction`."""

    JOIN_SIGNAL = "signaal_toevoegen"  # a further signal for a pupil with an open case joins it
    TRIAGE_BASIC = "triage_basis"  # the school's own support (level 0); the case closes
    TRIAGE_OJA = "triage_oja"  # an in-school arrangement at level 1-3
    TRIAGE_SPECIALISED = "triage_specialistisch"  # direct referral to specialised care (level 4)
    TRIAGE_NO_ACTION = "triage_geen_actie"  # no action, with a reason; the case closes
    DRAFT_PLAN = "plan_opstellen"  # a (new version of the) joint plan; earlier consent lapses
    RECORD_CONSENT = "toestemming_vastleggen"  # one party's consent, given or refused
    CONSENT_COMPLETE = "toestemming_afronden"  # the last required consent arrived
    # a consent the pupil's age requires is withdrawn after it was complete: the arrangement pauses (plan_opgesteld)
    WITHDRAW_CONSENT = "toestemming_intrekken"
    ACTIVATE = "arrangement_starten"  # the arrangement starts
    RECORD_REVIEW = "evaluatie_vastleggen"  # a periodic review with GAS scores
    CONTINUE = "voortzetten"  # decision: go on as planned
    SCALE_UP = "opschalen"  # decision: a higher level in school
    SCALE_DOWN = "afschalen"  # decision: a lower level in school
    CLOSE = "afsluiten"  # decision: end, with an ending reason
    ESCALATE = "verwijzen"  # refer to specialised care (level 4)
    RETURN = "terugkeren"  # back from specialised care into an in-school arrangement
    REOPEN = "heropenen"  # a closed case is opened again for triage


class AuditAction(StrEnum):
    """Every action an audit record names (`auditrecord.action`): each lifecycle `Action`, with the same code,
    and what is audited without moving a case from one state to another."""

    JOIN_SIGNAL = Action.JOIN_SIGNAL.value
    TRIAGE_BASIC = Action.TRIAGE_BASIC.value
    TRIAGE_OJA = Action.TRIAGE_OJA.value
    TRIAGE_SPECIALISED = Action.TRIAGE_SPECIALISED.value
    TRIAGE_NO_ACTION = Action.TRIAGE_NO_ACTION.value
    DRAFT_PLAN = Action.DRAFT_PLAN.value
    RECORD_CONSENT = Action.RECORD_CONSENT.value
    CONSENT_COMPLETE = Action.CONSENT_COMPLETE.value
    WITHDRAW_CONSENT = Action.WITHDRAW_CONSENT.value
    ACTIVATE = Action.ACTIVATE.value
    RECORD_REVIEW = Action.RECORD_REVIEW.value
    CONTINUE = Action.CONTINUE.value
    SCALE_UP = Action.SCALE_UP.value
    SCALE_DOWN = Action.SCALE_DOWN.value
    CLOSE = Action.CLOSE.value
    ESCALATE = Action.ESCALATE.value
    RETURN = Action.RETURN.value
    REOPEN = Action.REOPEN.value
    # audited, but no transition
    REGISTER_SIGNAL = "signaal_registreren"  # a signal opens a case (there is no state before it)
    RECORD_MEASUREMENT = "meting_vastleggen"  # a progress-monitoring data point for a goal
    REFERRAL_ACCEPTED = "verwijzing_aanvaard"  # the district team accepted a referral; the case stays escalated
    REFUSED = "toegang_geweigerd"  # an action outside the actor's scope was refused (`AccessDenied`)
    RESCHEDULED = "termijn_verschoven"  # a school's new closing day moved a deadline of the case
    DESTROYED = "dossier_vernietigd"  # the retention term ended: the dossier was destroyed
    ERASURE_REQUESTED = "vernietiging_verzocht"  # a request to destroy the dossier early was registered
    ERASURE_GRANTED = "vernietiging_toegewezen"  # the request was granted: the dossier was destroyed
    ERASURE_REFUSED = "vernietiging_afgewezen"  # the request was refused, with a reason
    # a party the pupil's age does not ask for gave (or refused) consent: a note, never consent
    CONSENT_NOT_NEEDED = "toestemming_niet_nodig"
    DESCRIBE_GOALS = "doelen_beschreven"  # the goal texts of the current plan were set in the dossier


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
        A.WITHDRAW_CONSENT: S.PLAN_DRAFTED,
        A.ACTIVATE: S.ACTIVE,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.ACTIVE: {
        A.JOIN_SIGNAL: S.ACTIVE,
        A.RECORD_REVIEW: S.REVIEWED,
        A.WITHDRAW_CONSENT: S.PLAN_DRAFTED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    S.REVIEWED: {
        A.JOIN_SIGNAL: S.REVIEWED,
        A.CONTINUE: S.ACTIVE,
        A.SCALE_UP: S.ACTIVE,
        A.SCALE_DOWN: S.ACTIVE,
        A.WITHDRAW_CONSENT: S.PLAN_DRAFTED,
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
            raise InvalidInput(
                field, f"moet een niveau in school zijn: {LOWEST_IN_SCHOOL} tot en met {HIGHEST_IN_SCHOOL}"
            )
        return requested
    if action is Action.SCALE_UP:
        if current >= HIGHEST_IN_SCHOOL:
            raise InvalidInput(
                field, f"niveau {current} is het hoogste in school: verwijs in plaats daarvan naar specialistische zorg"
            )
        if requested is None or not current < requested <= HIGHEST_IN_SCHOOL:
            raise InvalidInput(
                field, f"opschalen vanaf niveau {current} vraagt niveau {current + 1} tot en met {HIGHEST_IN_SCHOOL}"
            )
        return requested
    if action is Action.SCALE_DOWN:
        if current <= LOWEST_IN_SCHOOL:
            raise InvalidInput(
                field,
                f"niveau {current} is het laagste in school: "
                "sluit in plaats daarvan af naar de basisondersteuning van de school",
            )
        if requested is None or not LOWEST_IN_SCHOOL <= requested < current:
            raise InvalidInput(
                field, f"afschalen vanaf niveau {current} vraagt niveau {LOWEST_IN_SCHOOL} tot en met {current - 1}"
            )
        return requested
    if action in (Action.TRIAGE_SPECIALISED, Action.ESCALATE):
        return SPECIALISED_LEVEL
    if action is Action.TRIAGE_BASIC:
        return BASIC_LEVEL
    return current
