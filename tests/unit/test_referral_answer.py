"""The district team's answer to a referral is a choice made on purpose: no default, named in the result."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from flows import forms
from flows.result import result_markdown
from models.vocabulary import ReferralAnswer, ReferralStatus
from oja.services.status import CaseStatus, ReferralLine

REF = "OJA-2026-000010"


def test_the_answer_is_required_and_has_no_default_in_the_form():
    schema = forms.RespondToReferral.model_json_schema()
    assert "answer" in schema["required"] and "accepted" not in schema["properties"]
    answer = schema["properties"]["answer"]
    assert "default" not in answer
    choices = schema["$defs"][answer["$ref"].rsplit("/", 1)[1]]["enum"] if "$ref" in answer else answer["enum"]
    assert choices == ["aanvaard", "afgewezen"]


def test_a_form_left_untouched_declines_nothing():
    with pytest.raises(ValidationError) as raised:
        forms.RespondToReferral.model_validate({"case_ref": REF, "actor": "PRF-0021"})
    assert [e["loc"] for e in raised.value.errors()] == [("answer",)]
    form = forms.RespondToReferral.model_validate({"case_ref": REF, "answer": "afgewezen", "actor": "PRF-0021"})
    assert form.answer == ReferralAnswer.DECLINED


def test_the_level_on_decline_is_left_empty_unless_declining():
    """Issue 25 (3): a filled-in level was ignored on an acceptance; empty now means level 3 on a decline."""
    level = forms.RespondToReferral.model_json_schema()["properties"]["level_on_decline"]
    assert "default" not in level and (level["minimum"], level["maximum"]) == (1, 3)
    assert "alleen bij afwijzing" in level["title"] and "Leeg: niveau 3" in level["description"]
    form = forms.RespondToReferral.model_validate({"case_ref": REF, "answer": "aanvaard", "actor": "PRF-0021"})
    assert form.level_on_decline is None


def _status(state: str, referral: ReferralLine) -> CaseStatus:
    return CaseStatus(REF, "10HV", state, 4, "PRF-0001", None, None, (), (), (), (), None, referral=referral)


def test_the_result_names_the_answer_and_the_follow_up():
    accepted = ReferralLine(
        ReferralStatus.ACCEPTED, "GM0164", dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2027, 1, 12), ()
    )
    text = result_markdown(
        "verwijzing-beantwoorden", {"action": "verwijzing_aanvaard"}, _status("geescaleerd", accepted), {}
    )
    assert "**aanvaard**" in text and "GM0164" in text
    assert "2027-01-12" in text and "navragen bij het wijkteam" in text  # what now: the check, by when
    declined = ReferralLine(ReferralStatus.DECLINED, "GM0164", dt.date(2026, 11, 23), dt.date(2026, 11, 24), None, ())
    text = result_markdown("verwijzing-beantwoorden", {"action": "terugkeren"}, _status("planvorming", declined), {})
    assert "**afgewezen**" in text


def test_the_result_of_a_referral_names_who_answers():
    sent = ReferralLine(ReferralStatus.SENT, "GM0164", dt.date(2026, 11, 23), None, None, ("PRF-0021",))
    text = result_markdown("verwijzen-specialistische-zorg", {"action": "verwijzen"}, _status("geescaleerd", sent), {})
    assert "wijkteam van GM0164" in text and "PRF-0021" in text
