"""BSN and onderwijsnummer checks, consent by age, birth dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import ConsentMissing, InvalidBSN, InvalidInput, InvalidOnderwijsnummer
from models.identity import (
    age_on,
    check_consent,
    required_consent,
    validate_birth_date,
    validate_bsn,
    validate_onderwijsnummer,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("111222333", "111222333"),
        ("123456782", "123456782"),
        ("1234.56.782", "123456782"),
        (" 111 222 333 ", "111222333"),
        ("11222333", "011222333"),
    ],
)
def test_valid_bsns_are_accepted(given, expected):
    if expected == "011222333":  # an 8-digit BSN is read with a leading zero; find a valid one
        given = next(f"{n:08d}" for n in range(11222333, 11223333) if _eleven(f"0{n:08d}"))
        expected = "0" + given
    assert validate_bsn(given) == expected


def _eleven(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:8], range(9, 1, -1), strict=True)) - int(number[8])
    return total % 11 == 0


@pytest.mark.parametrize(
    ("given", "rule"),
    [
        ("123456789", "elfproef"),
        ("1234567", "9 cijfers"),
        ("1234567890", "9 cijfers"),
        ("12345678a", "alleen cijfers 0-9"),
        ("000000000", "nullen"),
        ("", "leeg"),
        ("   ", "leeg"),
        # python-stdnum accepts all of these; the engine does not
        ("-111222333", "geen teken"),
        ("+111222333", "geen teken"),
        ("111222333-", "alleen cijfers 0-9"),
        ("\uff11\uff11\uff11\uff12\uff12\uff12\uff13\uff13\uff13", "alleen cijfers 0-9"),  # full-width
        ("\u0661\u0661\u0661\u0662\u0662\u0662\u0663\u0663\u0663", "alleen cijfers 0-9"),  # Arabic-Indic
        ("11122233\u00b3", "alleen cijfers 0-9"),  # superscript three
        ("111..222333", "alleen cijfers 0-9"),
        ("111\t222\n333", "alleen cijfers 0-9"),
    ],
)
def test_invalid_bsns_are_refused_without_repeating_the_number(given, rule):
    with pytest.raises(InvalidBSN) as raised:
        validate_bsn(given)
    assert raised.value.field == "bsn" and rule in raised.value.rule
    if given:
        assert given not in str(raised.value)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_a_nine_digit_number_is_a_bsn_exactly_when_it_passes_the_eleven_test(number):
    valid = _eleven(number) and set(number) != {"0"}
    try:
        validate_bsn(number)
        accepted = True
    except InvalidBSN:
        accepted = False
    assert accepted == valid


def test_onderwijsnummers():
    valid = next(f"10{n:07d}" for n in range(10000000) if _onderwijs_ok(f"10{n:07d}"))
    assert validate_onderwijsnummer(valid) == valid
    wrong_checksum = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    for bad, rule in (
        (wrong_checksum, "elfproef"),
        ("201222331", "met 10 beginnen"),
        ("10122233", "9 cijfers"),
        ("10122233x", "alleen cijfers 0-9"),
        ("-101222331", "geen teken"),
        ("\uff11\uff10\uff11\uff12\uff12\uff12\uff13\uff13\uff11", "alleen cijfers 0-9"),
    ):
        with pytest.raises(InvalidOnderwijsnummer) as raised:
            validate_onderwijsnummer(bad)
        assert raised.value.field == "onderwijsnummer" and rule in raised.value.rule


def _onderwijs_ok(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:8], range(9, 1, -1), strict=True)) - int(number[8])
    return total % 11 == 5


BIRTHDAY = dt.date(2014, 6, 15)


@pytest.mark.parametrize(
    ("on", "age"),
    [(dt.date(2026, 6, 14), 11), (dt.date(2026, 6, 15), 12), (dt.date(2030, 6, 14), 15), (dt.date(2030, 6, 15), 16)],
)
def test_age_turns_on_the_birthday(on, age):
    assert age_on(BIRTHDAY, on) == age


def test_a_leap_day_birthday_counts_from_the_first_of_march_in_other_years():
    assert age_on(dt.date(2012, 2, 29), dt.date(2024, 2, 28)) == 11
    assert age_on(dt.date(2012, 2, 29), dt.date(2024, 3, 1)) == 12


@pytest.mark.parametrize(
    ("age", "parents", "needed"),
    [
        (11, ["ouder_1", "ouder_2"], {"ouder_1", "ouder_2"}),
        (11, ["ouder_1"], {"ouder_1"}),
        (12, ["ouder_1", "ouder_2"], {"leerling", "ouder_1", "ouder_2"}),
        (15, ["ouder_1"], {"leerling", "ouder_1"}),
        (16, ["ouder_1", "ouder_2"], {"leerling"}),
        (16, [], {"leerling"}),
    ],
)
def test_who_consents_depends_on_age(age, parents, needed):
    assert required_consent(age, parents) == needed


def test_under_sixteen_without_a_parent_with_authority_nobody_can_consent():
    with pytest.raises(InvalidInput) as raised:
        required_consent(14, [])
    assert raised.value.field == "parents"


def test_missing_consent_names_who_is_missing():
    with pytest.raises(ConsentMissing) as raised:
        check_consent(13, ["ouder_1", "ouder_2"], {"ouder_1"}, case_ref="OJA-2026-000007")
    assert raised.value.missing == ("leerling", "ouder_2")
    assert "OJA-2026-000007" in str(raised.value) and "toestemming van leerling, ouder_2 ontbreekt" in str(raised.value)
    check_consent(13, ["ouder_1", "ouder_2"], {"ouder_1", "ouder_2", "leerling"})


@pytest.mark.parametrize(
    ("born", "rule"),
    [(dt.date(2026, 12, 1), "toekomst"), (dt.date(1990, 1, 1), "tussen 2 en 27"), (dt.date(2025, 6, 1), "tussen")],
)
def test_implausible_birth_dates_are_refused(born, rule):
    with pytest.raises(InvalidInput) as raised:
        validate_birth_date(born, dt.date(2026, 11, 23))
    assert raised.value.field == "birth_date" and rule in raised.value.rule
