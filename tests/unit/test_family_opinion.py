"""The family's view at a review (issue 26, hoorrecht): the window, the mails, the form, the differences
(models.family_opinion), the recommendation's reasons (models.decisions) and T per informant (models.gas)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from models import family_opinion as rules
from models.decisions import ReviewFacts, recommend
from models.errors import InvalidInput, InvalidInputs
from models.gas import INFORMANTS, t_score

K = rules.FamilyNoticeKind


@pytest.mark.parametrize(
    ("left", "given", "expected"),
    [
        (11, False, None),  # not open yet
        (10, False, K.INVITATION),  # opens 10 school days before
        (4, False, K.INVITATION),
        (4, True, K.INVITATION),  # the invitation is decided once; given or not does not matter for it
        (3, False, K.REMINDER),  # 3 school days before, not given yet
        (3, True, None),  # given already: no reminder
        (0, False, K.REMINDER),
        (-2, False, K.REMINDER),  # overdue, not yet recorded: a missed sweep still catches up
    ],
)
def test_the_mail_due_follows_the_window_and_whether_the_view_was_given(left, given, expected) -> None:
    assert rules.notice_due(left, open_days=10, remind_days=3, given=given) is expected


def test_the_window_opens_at_the_policy_setting() -> None:
    assert not rules.is_open(11, open_days=10)
    assert rules.is_open(10, open_days=10) and rules.is_open(-5, open_days=10)
    assert rules.notice_due(5, open_days=5, remind_days=1, given=False) is K.INVITATION


def test_a_form_is_read_per_goal_with_dont_know_and_the_texts_trimmed() -> None:
    form = rules.check_form(
        [1, 2, 3], {"doel_1": "-1", "doel_2": "weet_ik_niet", "doel_3": "+2", "gaat_goed": "  Lezen gaat goed\r\n"}
    )
    assert form.scores == {1: -1, 2: None, 3: 2}
    assert (form.going_well, form.to_change) == ("Lezen gaat goed", None)


def test_a_bad_form_names_every_wrong_field_at_once() -> None:
    with pytest.raises(InvalidInputs) as refused:
        rules.check_form([1, 2, 3], {"doel_1": "3", "doel_3": "١", "moet_anders": "x" * 2001})
    fields = [e.field for e in refused.value.errors]
    assert fields == ["doel_1", "doel_2", "doel_3", "moet_anders"]
    assert "weet ik niet" in str(refused.value) and "2000" in str(refused.value)


def test_one_wrong_field_is_one_refusal() -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.check_form([1], {"doel_1": "", "gaat_goed": "ok"})
    assert refused.value.field == "doel_1"


def test_a_difference_of_two_or_more_is_found_per_goal_and_party() -> None:
    found = rules.differences({1: 1, 2: 0, 3: -2}, {"ouder_1": {1: -1, 2: 1, 3: None}, "leerling": {1: 0, 2: -2}})
    assert [(d.goal, d.party, d.family, d.professional) for d in found] == [
        (1, "ouder_1", -1, 1),
        (2, "leerling", -2, 0),
    ]


def test_the_recommendation_names_each_goal_where_the_family_differs_by_two_or_more_in_numbers_only() -> None:
    reviews = [ReviewFacts(dt.date(2026, 11, 2), {1: 1, 2: 0})]
    family = {"leerling": {1: -1, 2: 0}, "ouder_1": {1: 1, 2: None}, "ouder_2": {1: 0, 2: 2}}
    rec = recommend(level=2, reviews=reviews, family=family)
    said = [r for r in rec.reasons if r.startswith("Doel ")]
    assert said == [
        "Doel 1: de leerling scoort -1, de professional +1: verschil van 2 of meer; bespreek dit.",
        "Doel 2: ouder 2 scoort +2, de professional +0: verschil van 2 of meer; bespreek dit.",
    ]
    assert (
        recommend(level=2, reviews=reviews, family={"leerling": {1: 0, 2: 1}}).reasons
        == recommend(level=2, reviews=reviews).reasons
    )


def test_t_per_informant_a_worked_example_by_hand() -> None:
    # pupil: -1, 0, +1 -> sum 0 -> T 50; parents: +1 and +2 on two goals
    # T = 50 + 10 * 3 / sqrt(0.7 * 2 + 0.3 * 4) = 50 + 30 / sqrt(2.6) = 50 + 18.6052... = 68.6
    assert INFORMANTS == ("professional", "pupil", "parents")
    assert t_score({1: -1, 2: 0, 3: 1}) == 50
    assert math.isclose(t_score({1: 1, 2: 2}), 50 + 30 / math.sqrt(2.6))
    assert round(t_score({1: 1, 2: 2}), 1) == 68.6


def test_the_policy_settings_are_validated_in_dutch(tmp_path) -> None:
    from oja.config import Policy, load_policy

    assert (Policy().family_view_school_days, Policy().family_view_reminder_school_days) == (10, 3)
    for toml, field in (
        ("family_view_school_days = 0", "policy.family_view_school_days"),
        ("family_view_school_days = 4\nfamily_view_reminder_school_days = 4", "policy.policy"),
    ):
        path = tmp_path / "beleid.toml"
        path.write_text(f"[policy]\n{toml}\n", encoding="utf-8")
        with pytest.raises(InvalidInput) as refused:
            load_policy(path)
        assert refused.value.field == field
    assert "kleiner" in refused.value.rule


def test_the_parents_t_is_the_mean_of_each_parents_own_t_and_dont_know_is_no_score() -> None:
    # ouder_1: +2 on one goal -> 70; ouder_2: 0 and -1 -> 50 - 10/sqrt(2.6) = 43.798; mean 56.899
    found = rules.informant_t({"ouder_1": {1: 2, 2: None}, "ouder_2": {1: 0, 2: -1}, "leerling": {1: None}})
    assert found["pupil"] is None
    assert math.isclose(found["parents"], (70 + 50 - 10 / math.sqrt(2.6)) / 2)
    assert round(found["parents"], 1) == 56.9


def test_a_queued_mail_holds_only_while_the_review_is_to_come_and_the_member_may_see() -> None:
    holds = rules.notice_holds
    assert holds("mening_gevraagd", case_active=True, given=True, may_see=True)
    assert not holds("mening_herinnering", case_active=True, given=True, may_see=True)  # given meanwhile
    assert holds("mening_herinnering", case_active=True, given=False, may_see=True)
    assert not holds("mening_gevraagd", case_active=False, given=False, may_see=True)  # the review recorded
    assert not holds("mening_gevraagd", case_active=True, given=False, may_see=False)  # authority removed
    assert not holds("iets_anders", case_active=True, given=False, may_see=True)
