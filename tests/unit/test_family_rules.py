"""Who of the family may be invited to, and see, the family's page (models.family, issue 26)."""

from __future__ import annotations

import datetime as dt

import pytest

from models import family as rules
from models.errors import InvalidInput

TODAY = dt.date(2026, 12, 5)


def fam(party: str, age: int, authority: bool | None = True, may_see: bool = True) -> rules.Family:
    return rules.Family(party, age, authority if party != "leerling" else None, may_see)


def test_age_counts_whole_years_and_the_birthday_itself() -> None:
    assert rules.age_on(dt.date(2014, 12, 5), TODAY) == 12
    assert rules.age_on(dt.date(2014, 12, 6), TODAY) == 11
    assert rules.age_on(dt.date(2012, 2, 29), dt.date(2028, 2, 28)) == 15
    assert rules.age_on(dt.date(2012, 2, 29), dt.date(2028, 2, 29)) == 16
    assert rules.age_on(None, TODAY) == 0


def test_a_parent_is_invited_only_with_authority() -> None:
    assert rules.invite_refusal(fam("ouder_1", 10)) is None
    assert rules.invite_refusal(fam("ouder_2", 10, authority=False)) == rules.NO_AUTHORITY
    assert rules.invite_refusal(fam("ouder_2", 10, authority=None)) == rules.NO_PARENT


def test_the_pupil_is_invited_from_12() -> None:
    assert rules.invite_refusal(fam("leerling", 11)) == rules.TOO_YOUNG
    assert rules.invite_refusal(fam("leerling", 12)) is None


def test_an_unknown_party_is_refused_by_its_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.invite_refusal(fam("oma", 12))
    assert refused.value.field == "partij"


def test_a_parent_without_authority_sees_nothing() -> None:
    assert rules.view_refusal(fam("ouder_1", 14, authority=False)) == rules.NO_AUTHORITY


def test_from_16_the_pupil_decides_whether_the_parents_see() -> None:
    assert rules.view_refusal(fam("ouder_1", 16, may_see=False)) == rules.CLOSED_BY_PUPIL
    assert rules.view_refusal(fam("ouder_1", 16, may_see=True)) is None
    # under 16 the switch does not count (it cannot be set then; a pupil who turns 16 later sets it anew)
    assert rules.view_refusal(fam("ouder_1", 15, may_see=False)) is None
    assert rules.view_refusal(fam("leerling", 16, may_see=False)) is None


def test_only_the_pupil_from_16_decides() -> None:
    assert rules.may_decide_for_parents(fam("leerling", 16))
    assert not rules.may_decide_for_parents(fam("leerling", 15))
    assert not rules.may_decide_for_parents(fam("ouder_1", 40))


def test_the_actor_is_the_party_and_the_pseudonym() -> None:
    assert rules.actor_words("ouder_1", "LL-000123") == "ouder_1 van LL-000123"


@pytest.mark.parametrize("typed", ["", " ", "geen-adres", "a@b", "é@x.nl", "a b@x.nl", "x" * 250 + "@x.nl", None])
def test_an_email_address_is_refused_naming_the_field(typed: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.check_email(typed)
    assert refused.value.field == "e-mailadres"


def test_an_email_address_is_trimmed_and_lower_case() -> None:
    assert rules.check_email("  Ouder.Een@Voorbeeld.NL ") == "ouder.een@voorbeeld.nl"
