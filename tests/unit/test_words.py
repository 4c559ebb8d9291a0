"""Dutch words for the codes a person reads (issue 23, 'codes and English in Dutch screens')."""

from __future__ import annotations

import re

import pytest

from models.errors import AccessDenied, IllegalTransition
from models.lifecycle import AuditAction, CaseState
from models.words import ACTIONS, STATES, action_word, level_word, reason_words, state_word

ENGLISH = re.compile(r"\b(granted|refused|complete|source|urgency|level|referral|safety|goal|activate|respond)\b")


def test_every_state_and_audited_action_has_a_dutch_word():
    assert set(STATES) == {s.value for s in CaseState}
    assert {a.value for a in AuditAction} <= set(ACTIONS)
    assert state_word("wacht_op_triage") == "wacht op triage"
    assert level_word(0) == "0 (basisondersteuning van de school)"


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("ouder_1=granted plan v1", "ouder 1: toestemming gegeven, plan versie 1"),
        ("leerling=refused plan v2", "leerling: toestemming geweigerd, plan versie 2"),
        (
            "ouder_2=granted plan v1; complete: leerling,ouder_1,ouder_2",
            "ouder 2: toestemming gegeven, plan versie 1; compleet: leerling, ouder 1, ouder 2",
        ),
        ("source=school;urgency=normaal", "bron school, urgentie normaal"),
        ("level 2", "niveau 2"),
        ("referral", "verwijzing"),
        ("referral; groep GRP-VK-1 verlaten", "verwijzing; groep GRP-VK-1 verlaten"),  # the audit names the group
        ("level 3; groep GRP-VK-1 verlaten", "niveau 3; groep GRP-VK-1 verlaten"),
        ("safety", "zorg over veiligheid"),
        ("goal 3", "doel 3"),
        (
            "respond_to_referral: alleen casussen van school 10HV",
            "verwijzing beantwoorden: alleen casussen van school 10HV",
        ),
        (None, ""),
    ],
)
def test_an_audit_reason_reads_in_dutch(stored, read):
    assert reason_words(stored) == read
    assert not ENGLISH.search(reason_words(stored))


def test_refusals_name_the_step_and_the_state_in_words_not_codes():
    denied = str(AccessDenied("PRF-0001", "respond_to_referral", "OJA-2026-000001", "alleen casussen van GM0164"))
    assert "'verwijzing beantwoorden'" in denied and "respond_to_referral" not in denied
    illegal = str(IllegalTransition("plan_opgesteld", "arrangement_starten", ("toestemming_vastleggen",), "OJA-1"))
    assert "stap 'arrangement starten' kan niet in status 'plan opgesteld, toestemming gevraagd'" in illegal
    assert illegal.endswith("mogelijk: toestemming vastleggen")
    assert action_word("activate") == "arrangement starten"


def test_every_action_a_use_case_checks_access_for_has_a_dutch_word():
    """The names the use cases pass to the scope check reach refusals: each must read as Dutch words."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "oja"
    source = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))
    named = set(re.findall(r'action="([a-z_]+)"', source))
    named |= set(re.findall(r'(?:_check_scope|_in_scope)\([^)]*"([a-z_]+)"', source))
    named |= set(re.findall(r'access\.check\([^)]*"([a-z_]+)"\)', source))
    assert named and named <= set(ACTIONS), named - set(ACTIONS)
