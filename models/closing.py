"""The two national outcome questions at closing (issue 26): plain Python, no database.

The Jeugdwet's policy information measures youth care by three outcome criteria (NJi and VNG, "Outcome in zicht";
docs/domain.md "The two outcome questions at closing"): drop-out (from the ending reason), the client's
satisfaction with the use and effect of the help, and goal attainment, of which the first part is whether the client
can go on without this help. The last two are asked of the pupil and each parent when an arrangement ends:

    asked          when a case closes by a decision after an arrangement ran (not at a triage without help), of
                   each invited family member who may see the case that day (`models.family.view_refusal`)
    once           one answer set per party per closing (the closing decision); a second mail never goes
    changed        the party may change the answers until `open_until` (policy `closing_answer_school_days`
                   school days after the closing day, default 20); after that the question is closed

A refusal is a rule in Dutch (B1), naming the field; every wrong field of the form is named at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum

from models.errors import FormCheck, InvalidInput

SATISFACTION_FIELD = "tevredenheid"
WITHOUT_HELP_FIELD = "verder_zonder_hulp"
CLOSED_RULE = "de vragen zijn gesloten: u kon ze beantwoorden tot en met {day}"
NOT_ASKED_RULE = "er staan geen vragen voor u open: die komen pas als de hulp is gestopt"


class Satisfaction(StrEnum):
    """How satisfied with the help and what it brought (cliënttevredenheid over nut en effect), five steps."""

    VERY_SATISFIED = "heel_tevreden"
    SATISFIED = "tevreden"
    NEUTRAL = "neutraal"
    DISSATISFIED = "ontevreden"
    VERY_DISSATISFIED = "heel_ontevreden"


class WithoutHelp(StrEnum):
    """Whether the family can go on without this help (doelrealisatie: verder zonder deze hulp)."""

    YES = "ja"
    PARTLY = "deels"
    NO = "nee"
    UNSURE = "weet_niet"


SATISFIED = frozenset({Satisfaction.VERY_SATISFIED.value, Satisfaction.SATISFIED.value})
"""The answers that count as satisfied in the managers' share (the top two of five)."""
ABLE = frozenset({WithoutHelp.YES.value})
"""The answer that counts as able to go on without this help."""


def asks(*, by_decision: bool, arrangement_ran: bool) -> bool:
    """Whether a closing asks the family the two questions: only after help ran (a decision that closes an
    arrangement that started), never at a triage that closes without help."""
    return by_decision and arrangement_ran


def is_open(today: dt.date, open_until: dt.date) -> bool:
    return today <= open_until


def check_answers(form: Mapping[str, object]) -> tuple[str, str]:
    """The two answers of the form (codes), or `InvalidInputs` naming every wrong field at once."""
    check = FormCheck()
    answers: list[str] = []
    for field, enum, missing in (
        (SATISFACTION_FIELD, Satisfaction, "kies hoe tevreden u bent"),
        (WITHOUT_HELP_FIELD, WithoutHelp, "kies of u verder kunt zonder deze hulp"),
    ):
        value = form.get(field)
        if not isinstance(value, str) or not value:
            check.fail(field, missing)
        elif value not in {m.value for m in enum}:
            check.fail(field, "kies een van de antwoorden op de pagina")
        else:
            answers.append(value)
    check.done()
    return answers[0], answers[1]


def closed_refusal(today: dt.date, open_until: dt.date | None) -> InvalidInput | None:
    """Why the party may not answer today (no question open, or closed), or None."""
    if open_until is None:
        return InvalidInput(SATISFACTION_FIELD, NOT_ASKED_RULE)
    if not is_open(today, open_until):
        return InvalidInput(SATISFACTION_FIELD, CLOSED_RULE.format(day=open_until.isoformat()))
    return None
