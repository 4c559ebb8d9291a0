"""Dutch identity and consent rules: BSN, onderwijsnummer, consent by age.

Pure functions; the error messages never repeat the number that was refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.nl import bsn as stdnum_bsn
from stdnum.nl import onderwijsnummer as stdnum_onderwijsnummer

from models.errors import ConsentMissing, InvalidBSN, InvalidInput, InvalidOnderwijsnummer

PUPIL = "leerling"  # the consent party that is the pupil; parents are "ouder_1", "ouder_2"

# Jeugdwet / WGBO: who must consent, by age at the moment of consent.
CONSENT_AGE_WITH_PARENTS = 12  # from 12 the pupil consents too
CONSENT_AGE_ALONE = 16  # from 16 the pupil alone


# ASCII digits 0-9 in groups separated by one space, dot or hyphen: "111 222 333", "1112.22.333".
# No sign, no other characters, and no other digits: str.isdigit() and python-stdnum accept full-width
# and other Unicode digits, and stdnum drops a leading minus, so the shape is checked here first.
_GROUPED_DIGITS = re.compile(r"[0-9]+(?:[ .-][0-9]+)*", re.ASCII)
_DIGITS_RULE = (
    "mag alleen cijfers 0-9 bevatten, eventueel gegroepeerd met spaties of punten (geen teken, geen andere tekens)"
)


def _digits(value: str, field: str, error: type[InvalidInput]) -> str:
    text = value.strip()
    if not text:
        raise error(field, "mag niet leeg zijn")
    if not _GROUPED_DIGITS.fullmatch(text):
        raise error(field, _DIGITS_RULE)
    return re.sub(r"[ .-]", "", text)


def validate_bsn(value: str, *, field: str = "bsn") -> str:
    """A valid BSN as 9 digits. 8 digits get a leading zero; anything shorter is refused.

    python-stdnum pads any short input with zeros, so the length is checked here first.
    """
    number = _digits(value, field, InvalidBSN)
    if len(number) == 8:
        number = "0" + number
    if len(number) != 9:
        raise InvalidBSN(field, "een BSN moet 9 cijfers hebben (of 8: dan telt een voorloopnul)")
    if set(number) == {"0"}:
        raise InvalidBSN(field, "een BSN mag niet alleen uit nullen bestaan")
    try:
        return stdnum_bsn.validate(number)
    except InvalidChecksum:
        raise InvalidBSN(field, "het BSN moet de elfproef doorstaan (controlegetal)") from None
    except ValidationError:
        raise InvalidBSN(field, "moet een geldig BSN zijn") from None


def validate_onderwijsnummer(value: str, *, field: str = "onderwijsnummer") -> str:
    """A valid onderwijsnummer (9 digits starting with 10, eleven-test with remainder 5)."""
    number = _digits(value, field, InvalidOnderwijsnummer)
    if len(number) != 9:
        raise InvalidOnderwijsnummer(field, "een onderwijsnummer moet 9 cijfers hebben")
    if not number.startswith("10"):
        raise InvalidOnderwijsnummer(field, "een onderwijsnummer moet met 10 beginnen")
    try:
        return stdnum_onderwijsnummer.validate(number)
    except InvalidChecksum:
        raise InvalidOnderwijsnummer(field, "het onderwijsnummer moet de elfproef doorstaan (controlegetal)") from None
    except InvalidComponent:
        raise InvalidOnderwijsnummer(field, "een onderwijsnummer moet met 10 beginnen") from None
    except (InvalidFormat, InvalidLength, ValidationError):
        raise InvalidOnderwijsnummer(field, "moet een geldig onderwijsnummer zijn") from None


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """Age in whole years on a given day."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def validate_birth_date(birth_date: dt.date, today: dt.date, *, field: str = "birth_date") -> dt.date:
    """A pupil's birth date: not in the future, and of school age (2 to 27 years)."""
    if birth_date > today:
        raise InvalidInput(field, "een geboortedatum mag niet in de toekomst liggen")
    age = age_on(birth_date, today)
    if age < 2 or age > 27:
        raise InvalidInput(field, "de leerling moet tussen 2 en 27 jaar oud zijn")
    return birth_date


def required_consent(age: int, parents_with_authority: Sequence[str]) -> frozenset[str]:
    """The parties whose consent a plan needs, by the pupil's age.

    Under 12 the parents with authority (all of them); 12 to 15 the pupil and the
    parents; 16 and over the pupil alone.
    """
    parents = frozenset(parents_with_authority)
    if age >= CONSENT_AGE_ALONE:
        return frozenset({PUPIL})
    if not parents:
        raise InvalidInput(
            "parents", "registreer voor een leerling onder de 16 een ouder of voogd met gezag: die geeft toestemming"
        )
    if age >= CONSENT_AGE_WITH_PARENTS:
        return parents | {PUPIL}
    return parents


def not_needed_rule(age: int) -> str:
    """Why a party's consent does not count at this age (`required_consent`), in Dutch; no age itself."""
    if age >= CONSENT_AGE_ALONE:
        return "vanaf 16 jaar geeft de leerling alleen toestemming"
    if age < CONSENT_AGE_WITH_PARENTS:
        return "onder de 12 jaar geven de ouders met gezag toestemming"
    return "van 12 tot en met 15 jaar geven de leerling en de ouders met gezag toestemming"


def check_consent(
    age: int, parents_with_authority: Sequence[str], granted: set[str] | frozenset[str], *, case_ref: str | None = None
) -> None:
    """Raise `ConsentMissing` unless every required party granted consent."""
    missing = required_consent(age, parents_with_authority) - set(granted)
    if missing:
        raise ConsentMissing(tuple(sorted(missing)), case_ref)
