"""The family's words (models/family_words.py): every code a family can meet has its words in Dutch and English,
and a party is named as seen by the one who reads the page."""

from __future__ import annotations

from enum import StrEnum

import pytest

from models import family_words as fw
from models.decisions import RecommendationRule
from models.lifecycle import CaseState
from models.vocabulary import (
    ChangeReason,
    DecisionKind,
    Domain,
    EndReason,
    NoActionReason,
    OtherDecision,
    OverrideReason,
    ReturnReason,
    Role,
    Setting,
)

TABLES: list[tuple[dict[str, dict[str, str]], tuple[type[StrEnum], ...]]] = [
    (fw.STATES, (CaseState,)),
    (fw.DOMAINS, (Domain,)),
    (fw.SETTINGS, (Setting,)),
    (fw.ROLES, (Role,)),
    (fw.DECISIONS, (DecisionKind, OtherDecision)),
    (fw.REASONS, (EndReason, ChangeReason, ReturnReason, NoActionReason)),
    (fw.RULES, (RecommendationRule,)),
    (fw.OVERRIDES, (OverrideReason,)),
]


@pytest.mark.parametrize("language", fw.LANGUAGES)
@pytest.mark.parametrize(("table", "enums"), TABLES, ids=[enums[0].__name__ for _, enums in TABLES])
def test_every_code_has_its_words_in_both_languages(table, enums, language):
    codes = {member.value for enum in enums for member in enum}
    assert codes <= set(table[language]), codes - set(table[language])
    assert all(text.strip() and "_" not in text for text in table[language].values())


@pytest.mark.parametrize("language", fw.LANGUAGES)
def test_every_level_has_its_words(language):
    assert sorted(fw.LEVELS[language]) == [0, 1, 2, 3, 4]


def test_a_party_is_named_as_seen_by_the_reader():
    nl, en = fw.Words("nl"), fw.Words("en")
    assert [nl.party("ouder_1", p) for p in ("ouder_1", "ouder_2", "leerling")] == ["u", "de andere ouder", "uw kind"]
    assert [en.party("ouder_2", p) for p in ("ouder_1", "ouder_2", "leerling")] == [
        "the other parent",
        "you",
        "your child",
    ]
    assert nl.party("leerling", "leerling") == "u"
    assert nl.party("leerling", "ouder_1", "Anna Jansen") == "uw ouder Anna Jansen"
    assert en.party("leerling", "ouder_2") == "your parent (2)"


def test_hours_and_an_unknown_language_or_code():
    assert (fw.Words("nl").hours(1.5), fw.Words("en").hours(1.5), fw.Words("nl").hours(2.0)) == ("1,5", "1.5", "2")
    assert fw.Words("fr").language == "nl"
    assert fw.Words("nl").state("iets_nieuws") == "iets nieuws"
