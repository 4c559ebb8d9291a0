"""The lifecycle rules: every legal transition, every illegal one with its message, the intensity ladder."""

from __future__ import annotations

import itertools

import pytest

from models.errors import IllegalTransition, InvalidInput
from models.lifecycle import TRANSITIONS, Action, CaseState, allowed_actions, level_after, next_state
from models.words import action_word, state_word

S, A = CaseState, Action

# The transitions as docs/domain.md ("The lifecycle of one arrangement") states them, written out here and
# not read from models/lifecycle.py, so that a wrong, missing or extra entry there fails a test. Per state,
# the actions in the order the refusal message lists them.
EXPECTED: dict[CaseState, dict[Action, CaseState]] = {
    # 1. a signal opens a case; a further signal joins the open case (no double intake).
    # 2. triage: the school's own support (level 0, the case closes), an OJA (levels 1-3, a plan is due),
    #    direct specialised care (level 4), or no action with a reason (the case closes).
    S.AWAITING_TRIAGE: {
        A.JOIN_SIGNAL: S.AWAITING_TRIAGE,
        A.TRIAGE_BASIC: S.CLOSED,
        A.TRIAGE_OJA: S.PLANNING,
        A.TRIAGE_SPECIALISED: S.ESCALATED,
        A.TRIAGE_NO_ACTION: S.CLOSED,
    },
    # 3. the joint plan; an open case can be escalated or closed at any step.
    S.PLANNING: {
        A.JOIN_SIGNAL: S.PLANNING,
        A.DRAFT_PLAN: S.PLAN_DRAFTED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    # 4. consent, one party at a time; the last one needed completes it. A new plan version keeps the
    #    case collecting consent.
    S.PLAN_DRAFTED: {
        A.JOIN_SIGNAL: S.PLAN_DRAFTED,
        A.DRAFT_PLAN: S.PLAN_DRAFTED,
        A.RECORD_CONSENT: S.PLAN_DRAFTED,
        A.CONSENT_COMPLETE: S.CONSENTED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    # 5. no active plan without consent; a new plan version after consent needs consent again.
    S.CONSENTED: {
        A.JOIN_SIGNAL: S.CONSENTED,
        A.DRAFT_PLAN: S.PLAN_DRAFTED,
        A.WITHDRAW_CONSENT: S.PLAN_DRAFTED,  # issue 26: a required consent withdrawn, the arrangement paused
        A.ACTIVATE: S.ACTIVE,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    # 5-6. the active arrangement is reviewed periodically.
    S.ACTIVE: {
        A.JOIN_SIGNAL: S.ACTIVE,
        A.RECORD_REVIEW: S.REVIEWED,
        A.WITHDRAW_CONSENT: S.PLAN_DRAFTED,
        A.ESCALATE: S.ESCALATED,
        A.CLOSE: S.CLOSED,
    },
    # 7. the decision after a review: continue, scale up or down (the arrangement goes on), close, escalate.
    S.REVIEWED: {
        A.JOIN_SIGNAL: S.REVIEWED,
        A.CONTINUE: S.ACTIVE,
        A.SCALE_UP: S.ACTIVE,
        A.SCALE_DOWN: S.ACTIVE,
        A.WITHDRAW_CONSENT: S.PLAN_DRAFTED,
        A.CLOSE: S.CLOSED,
        A.ESCALATE: S.ESCALATED,
    },
    # 7. later, a return from specialised care into an in-school arrangement (a new plan is due).
    S.ESCALATED: {
        A.JOIN_SIGNAL: S.ESCALATED,
        A.RETURN: S.PLANNING,
        A.CLOSE: S.CLOSED,
    },
    # a closed case can be reopened for triage, and nothing else.
    S.CLOSED: {
        A.REOPEN: S.AWAITING_TRIAGE,
    },
}

LEGAL = [(s, a, t) for s, moves in EXPECTED.items() for a, t in moves.items()]
ILLEGAL = [(s, a) for s, a in itertools.product(CaseState, Action) if a not in EXPECTED[s]]


def test_the_expected_table_covers_every_state():
    assert set(EXPECTED) == set(CaseState)


@pytest.mark.parametrize(("state", "action", "target"), LEGAL, ids=[f"{s.value}-{a.value}" for s, a, _ in LEGAL])
def test_every_legal_transition_reaches_its_target(state, action, target):
    assert next_state(state, action) is target


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=[f"{s.value}-{a.value}" for s, a in ILLEGAL])
def test_every_illegal_transition_names_the_state_and_the_allowed_actions(state, action):
    with pytest.raises(IllegalTransition) as raised:
        next_state(state, action, case_ref="OJA-2026-000001")
    message = str(raised.value)
    assert f"stap '{action_word(action)}' kan niet in status '{state_word(state)}'" in message  # words, not codes
    assert "OJA-2026-000001" in message
    for allowed in EXPECTED[state]:
        assert action_word(allowed) in message
    assert raised.value.allowed == tuple(a.value for a in EXPECTED[state])


@pytest.mark.parametrize("state", list(CaseState), ids=[s.value for s in CaseState])
def test_the_allowed_actions_of_each_state(state):
    assert allowed_actions(state) == tuple(EXPECTED[state])


def test_every_state_can_be_reached_and_every_open_state_can_be_left_towards_closure():
    reachable = {CaseState.AWAITING_TRIAGE}
    frontier = [CaseState.AWAITING_TRIAGE]
    while frontier:
        for target in TRANSITIONS[frontier.pop()].values():
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(CaseState)
    for state in CaseState:
        if state is not CaseState.CLOSED:
            assert Action.CLOSE in TRANSITIONS[state] or Action.TRIAGE_NO_ACTION in TRANSITIONS[state]


def test_a_closed_case_can_only_be_reopened():
    assert allowed_actions(CaseState.CLOSED) == (Action.REOPEN,)


def test_a_plan_cannot_become_active_before_consent_is_complete():
    with pytest.raises(IllegalTransition):
        next_state(CaseState.PLAN_DRAFTED, Action.ACTIVATE)
    assert next_state(CaseState.CONSENTED, Action.ACTIVATE) is CaseState.ACTIVE


@pytest.mark.parametrize(
    ("action", "current", "requested", "expected"),
    [
        (Action.TRIAGE_OJA, 0, 1, 1),
        (Action.TRIAGE_OJA, 0, 3, 3),
        (Action.RETURN, 4, 2, 2),
        (Action.SCALE_UP, 1, 2, 2),
        (Action.SCALE_UP, 2, 3, 3),
        (Action.SCALE_DOWN, 3, 1, 1),
        (Action.SCALE_DOWN, 2, 1, 1),
        (Action.ESCALATE, 2, None, 4),
        (Action.TRIAGE_SPECIALISED, 0, None, 4),
        (Action.TRIAGE_BASIC, 0, None, 0),
        (Action.CONTINUE, 2, None, 2),
    ],
)
def test_the_intensity_ladder(action, current, requested, expected):
    assert level_after(action, current, requested) == expected


@pytest.mark.parametrize(
    ("action", "current", "requested", "rule"),
    [
        (Action.TRIAGE_OJA, 0, None, "niveau in school zijn: 1 tot en met 3"),
        (Action.TRIAGE_OJA, 0, 4, "niveau in school zijn: 1 tot en met 3"),
        (Action.RETURN, 4, 0, "niveau in school zijn: 1 tot en met 3"),
        (Action.SCALE_UP, 3, 3, "hoogste in school: verwijs"),
        (Action.SCALE_UP, 2, 2, "vraagt niveau 3 tot en met 3"),
        (Action.SCALE_UP, 1, 4, "vraagt niveau 2 tot en met 3"),
        (Action.SCALE_DOWN, 1, 1, "laagste in school: sluit"),
        (Action.SCALE_DOWN, 3, 3, "vraagt niveau 1 tot en met 2"),
        (Action.SCALE_DOWN, 2, 0, "vraagt niveau 1 tot en met 1"),
    ],
)
def test_a_level_off_the_ladder_is_refused_naming_the_field(action, current, requested, rule):
    with pytest.raises(InvalidInput) as raised:
        level_after(action, current, requested)
    assert raised.value.field == "new_level" and rule in raised.value.rule
