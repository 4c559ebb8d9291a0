"""The two outcome questions at closing (issue 26): when they are asked, the answers' check, the period."""

from __future__ import annotations

import datetime as dt

import pytest

from models import closing
from models.errors import InvalidInput, InvalidInputs


def test_asked_only_after_an_arrangement_ran_and_only_at_a_decision():
    assert closing.asks(by_decision=True, arrangement_ran=True)
    assert not closing.asks(by_decision=True, arrangement_ran=False)  # closed while planning: no help given
    assert not closing.asks(by_decision=False, arrangement_ran=False)  # a triage without help
    assert not closing.asks(by_decision=False, arrangement_ran=True)


def test_the_answers_are_codes_of_the_two_scales():
    assert closing.check_answers({"tevredenheid": "tevreden", "verder_zonder_hulp": "deels"}) == ("tevreden", "deels")


def test_every_wrong_field_is_named_at_once():
    with pytest.raises(InvalidInputs) as refused:
        closing.check_answers({"tevredenheid": "", "verder_zonder_hulp": "misschien"})
    assert [(e.field, e.rule) for e in refused.value.errors] == [
        ("tevredenheid", "kies hoe tevreden u bent"),
        ("verder_zonder_hulp", "kies een van de antwoorden op de pagina"),
    ]


def test_one_wrong_field_alone():
    with pytest.raises(InvalidInput) as refused:
        closing.check_answers({"tevredenheid": "heel_tevreden"})
    assert refused.value.field == "verder_zonder_hulp"


def test_open_through_the_last_day_then_closed():
    last = dt.date(2027, 1, 29)
    assert closing.closed_refusal(last, last) is None
    late = closing.closed_refusal(last + dt.timedelta(days=1), last)
    assert late is not None and "gesloten" in late.rule
    assert closing.closed_refusal(last, None) is not None  # never asked


def test_the_shares_count_the_top_two_of_satisfaction_and_only_a_plain_yes():
    assert closing.SATISFIED == {"heel_tevreden", "tevreden"}
    assert closing.ABLE == {"ja"}
    assert len(closing.Satisfaction) == 5 and len(closing.WithoutHelp) == 4


def test_every_answer_and_question_has_words_in_dutch_and_english():
    from models import closing_words

    for taal in ("nl", "en"):
        assert [c for c, _ in closing_words.choices(taal, "tevredenheid")] == [s.value for s in closing.Satisfaction]
        assert [c for c, _ in closing_words.choices(taal, "verder_zonder_hulp")] == [
            w.value for w in closing.WithoutHelp
        ]
        for party in ("ouder_1", "ouder_2", "leerling"):
            for field in ("tevredenheid", "verder_zonder_hulp"):
                assert closing_words.question(taal, party, field).endswith("?")
    assert "je" in closing_words.question("nl", "leerling", "tevredenheid").split()
    assert "u" in closing_words.question("nl", "ouder_2", "tevredenheid").split()
