"""Who may act on which case: every role inside and outside its scope."""

from __future__ import annotations

import pytest

from models.access import Actor, CaseScope, check, may_act
from models.errors import AccessDenied

CASE = CaseScope("OJA-2026-000001", school_code="40AB", municipality_code="GM0164", providers=frozenset({"PRV-A"}))


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (Actor("C1", "zorgcoordinator", school_code="40AB"), True),
        (Actor("C2", "zorgcoordinator", school_code="99ZZ"), False),
        (Actor("S1", "schoolmaatschappelijk_werker", school_code="40AB"), True),
        (Actor("S2", "schoolmaatschappelijk_werker", school_code="99ZZ"), False),
        (Actor("T1", "teamleider", school_code="40AB"), True),
        (Actor("T2", "teamleider", provider_code="PRV-A"), True),
        (Actor("T3", "teamleider", provider_code="PRV-B"), False),
        (Actor("W1", "jeugdhulpverlener", provider_code="PRV-A"), True),
        (Actor("W2", "jeugdhulpverlener", provider_code="PRV-B"), False),
        (Actor("W3", "jeugdhulpverlener"), False),
        (Actor("D1", "wijkteam", municipality_code="GM0164"), True),
        (Actor("D2", "wijkteam", municipality_code="GM0147"), False),
        (Actor("M1", "manager", school_code="40AB"), False),  # even of the case's own school
        (Actor("X1", "onbekend", school_code="40AB"), False),
    ],
)
def test_each_role_acts_within_its_scope_only(actor, allowed):
    assert may_act(actor, CASE) is allowed


def test_a_refusal_names_the_actor_the_action_and_the_scope_but_nothing_about_the_pupil():
    with pytest.raises(AccessDenied) as refused:
        check(Actor("W2", "jeugdhulpverlener", provider_code="PRV-B"), CASE, "record_review")
    err = refused.value
    assert err.field == "actor" and (err.actor, err.action, err.subject) == ("W2", "record_review", CASE.ref)
    assert "PRV-B" in str(err) and "alleen casussen waarin PRV-B hulp levert" in str(err)


def test_a_worker_has_no_access_before_the_plan_names_the_provider():
    assert not may_act(
        Actor("W1", "jeugdhulpverlener", provider_code="PRV-A"), CaseScope("OJA-2026-000002", "40AB", "GM0164")
    )
