"""Referral flows: refer to specialised care, the district team's answer, the return to school.

Services: `oja/services/referral.py`.
"""

from __future__ import annotations

from flows import forms
from flows.common import Result, case_flow, commit
from models.schooldays import today as amsterdam_today
from models.vocabulary import ReferralAnswer
from oja.config import get_policy
from oja.services import referral as service


@case_flow("verwijzen-specialistische-zorg", "verwijzing")
def refer(form: forms.CaseAction) -> Result:
    """Refer to specialised care (level 4) through the pupil's municipality, outside a review."""
    return commit(
        "verwijzen-specialistische-zorg",
        service.refer,
        case_ref=form.case_ref,
        actor=form.actor,
        today=amsterdam_today(),
    )


@case_flow("verwijzing-beantwoorden", "verwijzing-antwoord")
def respond_to_referral(form: forms.RespondToReferral) -> Result:
    """The district team accepts a referral, or declines it and the case returns to school at a chosen level."""
    return commit(
        "verwijzing-beantwoorden",
        service.respond_to_referral,
        case_ref=form.case_ref,
        accepted=form.answer == ReferralAnswer.ACCEPTED,
        level_on_decline=form.level_on_decline,
        actor=form.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )


@case_flow("terugkeer-uit-specialistische-zorg", "terugkeer")
def return_from_specialised(form: forms.ReturnFromSpecialised) -> Result:
    """Return from specialised care into an in-school arrangement at a chosen level; a new plan follows."""
    return commit(
        "terugkeer-uit-specialistische-zorg",
        service.return_from_specialised,
        case_ref=form.case_ref,
        level=form.level,
        actor=form.actor,
        today=amsterdam_today(),
        policy=get_policy(),
    )
