"""Who is told of a deadline: pure rules over plain data."""

from __future__ import annotations

import pytest

from models.recipients import RULES, CaseParties, Staff, Staffing, for_notice, for_weekly_overview
from models.reminders import NoticeKind
from models.vocabulary import Role

K = NoticeKind
STAFFING = Staffing(
    [
        Staff("ZC-A1", Role.COORDINATOR.value, school_code="A"),
        Staff("ZC-A2", Role.COORDINATOR.value, school_code="A"),
        Staff("ZC-B", Role.COORDINATOR.value, school_code="B"),
        Staff("ZC-X", Role.COORDINATOR.value),  # a coordinator without a school coordinates none
        Staff("TL-A", Role.TEAM_LEAD.value, school_code="A"),
        Staff("TL-ALL", Role.TEAM_LEAD.value),  # the team lead of every school without one of its own
        Staff("WT-1", Role.DISTRICT_TEAM.value, municipality_code="GM0164"),
        Staff("WT-2", Role.DISTRICT_TEAM.value, municipality_code="GM0164"),
        Staff("WT-X", Role.DISTRICT_TEAM.value),
        Staff("JH-1", Role.YOUTH_WORKER.value, school_code="A"),
    ]
)
WITH_REGIE = CaseParties("A", regie_holder="JH-1", workers=frozenset({"JH-2", "JH-1"}), municipality_code="GM0164")
WITHOUT_REGIE = CaseParties("B", workers=frozenset({"JH-3"}))


@pytest.mark.parametrize(
    ("kind", "with_regie", "without_regie"),
    [
        (K.REVIEW_REMINDER, ("JH-1", "JH-2"), ("JH-3",)),
        (K.REVIEW_DUE, ("JH-1", "JH-2"), ("JH-3",)),
        (K.REVIEW_OVERDUE, ("TL-A",), ("TL-ALL",)),  # escalated: the team lead, not the regie holder
        (K.TRIAGE_REMINDER, ("ZC-A1", "ZC-A2"), ("ZC-B",)),
        (K.TRIAGE_DUE, ("ZC-A1", "ZC-A2"), ("ZC-B",)),
        (K.TRIAGE_OVERDUE, ("TL-A", "ZC-A1", "ZC-A2"), ("TL-ALL", "ZC-B")),
        (K.PLAN_LATE, ("JH-1",), ("ZC-B",)),
        (K.CONSENT_LATE, ("JH-1",), ("ZC-B",)),
        (K.DECISION_DUE, ("JH-1",), ("ZC-B",)),
        (K.REFERRAL_SENT, ("WT-1", "WT-2"), ()),  # the district team of the pupil's municipality
        (K.REFERRAL_OPEN, ("WT-1", "WT-2"), ()),
        (K.ERASURE_REMINDER, ("ZC-A1", "ZC-A2"), ("ZC-B",)),
        (K.ERASURE_DUE, ("ZC-A1", "ZC-A2"), ("ZC-B",)),
        (K.ERASURE_OVERDUE, ("TL-A", "ZC-A1", "ZC-A2"), ("TL-ALL", "ZC-B")),
        (K.REFERRAL_CHECK_REMINDER, ("JH-1",), ("ZC-B",)),  # the regie holder checks with the district team
        (K.REFERRAL_CHECK_DUE, ("JH-1",), ("ZC-B",)),
        (K.REFERRAL_CHECK_OVERDUE, ("JH-1", "TL-A"), ("TL-ALL", "ZC-B")),  # late: the team leads as well
        (K.PLANNED_END_REMINDER, ("JH-1",), ("ZC-B",)),
        (K.PLANNED_END_DUE, ("JH-1",), ("ZC-B",)),
        (K.PLANNED_END_PASSED, ("JH-1", "TL-A"), ("TL-ALL", "ZC-B")),
    ],
)
def test_each_kind_of_notice_goes_to_those_its_rule_names(kind, with_regie, without_regie):
    assert for_notice(kind, WITH_REGIE, STAFFING) == with_regie
    assert for_notice(kind, WITHOUT_REGIE, STAFFING) == without_regie


def test_every_kind_but_the_weekly_overview_has_a_rule():
    assert set(RULES) == set(NoticeKind) - {NoticeKind.UPCOMING}
    with pytest.raises(ValueError, match="for_weekly_overview"):
        for_notice(NoticeKind.UPCOMING, WITH_REGIE, STAFFING)


@pytest.mark.parametrize(
    ("deadline", "with_regie", "without_regie"),
    [
        (K.REVIEW_DUE, ("JH-1",), ()),  # the regie holder alone, not the plan's other professionals
        (K.TRIAGE_DUE, ("ZC-A1", "ZC-A2"), ("ZC-B",)),
        (K.PLAN_LATE, ("JH-1",), ("ZC-B",)),
        (K.CONSENT_LATE, ("JH-1",), ("ZC-B",)),
    ],
)
def test_the_weekly_overview_goes_to_whoever_follows_the_deadline(deadline, with_regie, without_regie):
    assert for_weekly_overview(deadline, WITH_REGIE, STAFFING) == with_regie
    assert for_weekly_overview(deadline, WITHOUT_REGIE, STAFFING) == without_regie


def test_a_school_without_coordinators_or_a_municipality_without_a_team_tells_nobody():
    nowhere = CaseParties("C", municipality_code="GM9999")
    assert for_notice(K.TRIAGE_DUE, nowhere, STAFFING) == ()
    assert for_notice(K.REFERRAL_OPEN, nowhere, STAFFING) == ()
    assert for_notice(K.REVIEW_OVERDUE, nowhere, STAFFING) == ("TL-ALL",)
    assert for_notice(K.REVIEW_OVERDUE, nowhere, Staffing([])) == ()


def test_recipients_are_sorted_and_named_once():
    regie_also_works = CaseParties("A", regie_holder="JH-9", workers=frozenset({"JH-9", "JH-0"}))
    assert for_notice(K.REVIEW_DUE, regie_also_works, STAFFING) == ("JH-0", "JH-9")
    lead_and_coordinator = Staffing(
        [Staff("P-1", Role.TEAM_LEAD.value, "A"), Staff("P-1", Role.COORDINATOR.value, "A")]
    )
    assert for_notice(K.TRIAGE_OVERDUE, CaseParties("A"), lead_and_coordinator) == ("P-1",)
