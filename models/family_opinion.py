"""The family's own view at every review (issue 26, hoorrecht): pure rules, no database.

Before a review falls due, the pupil and each parent who may see the case give their view: per goal of the current
plan a GAS score (-2..+2, or "weet ik niet"), and in their own words what goes well and what should change. One view
per party per review due date; it may be changed until the review is recorded.

    window      the view opens `open_days` school days before the review's due date (policy
                `family_view_school_days`, default 10) and stays open until the review is recorded
    mails       an invitation when the window opens, a reminder `remind_days` school days before the due date
                (policy `family_view_reminder_school_days`, default 3) to whoever has not given it yet
    difference  a goal where the pupil or a parent differs from the professional by `DIFFERENCE` (2) or more is
                named among the recommendation's reasons, in codes and numbers only (they may reach Prefect)

The free text is personal data: it stays in the engine's database (never Prefect, never a mail).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from enum import StrEnum
from statistics import fmean

from models.errors import FormCheck
from models.gas import PARENTS, PUPIL, t_score

LOWEST, HIGHEST = -2, 2
UNKNOWN = "weet_ik_niet"  # the form's value of "I don't know": no score for that goal
TEXT_MAX = 2000
DIFFERENCE = 2  # a family score this far from the professional's is named among the recommendation's reasons
GOING_WELL, TO_CHANGE = "gaat_goed", "moet_anders"  # the form's text fields
PUPIL_INFORMANT, PARENTS_INFORMANT = PUPIL, PARENTS  # the models.gas informants of the family's scores
PARTY_WORDS = {"leerling": "de leerling", "ouder_1": "ouder 1", "ouder_2": "ouder 2"}  # in a reason (codes only)


class FamilyNoticeKind(StrEnum):
    """A mail to a family member about their view (`family_notice.kind`): decided once per review due date."""

    INVITATION = "mening_gevraagd"  # the window opened: give your view
    REMINDER = "mening_herinnering"  # a few school days before the review, not given yet


def informant_of(party: str) -> str:
    """Whose T-score a party's scores count in: the pupil's own, or the parents' (both parents together)."""
    return PUPIL_INFORMANT if party == "leerling" else PARENTS_INFORMANT


def informant_t(by_party: Mapping[str, Mapping[int, int | None]]) -> dict[str, float | None]:
    """The pupil's and the parents' T-scores of one review from their views (by party, by goal; None "weet ik
    niet", left out): the parents' T is the mean of each parent's own T; None where nobody scored a goal."""
    found: dict[str, list[float]] = defaultdict(list)
    for party, scores in sorted(by_party.items()):
        t = t_score({goal: x for goal, x in scores.items() if x is not None})
        if t is not None:
            found[informant_of(party)].append(t)
    return {who: fmean(found[who]) if found[who] else None for who in (PUPIL, PARENTS)}


def is_open(school_days_left: int, *, open_days: int) -> bool:
    """Whether a view may be given `school_days_left` school days before the due date (negative: overdue, still
    open until the review is recorded, which the caller checks)."""
    return school_days_left <= open_days


def notice_due(school_days_left: int, *, open_days: int, remind_days: int, given: bool) -> FamilyNoticeKind | None:
    """Which mail about the view is due today, if any: the reminder from `remind_days` school days before (only
    when the view was not given), else the invitation once the window is open. The caller sends each once."""
    if not is_open(school_days_left, open_days=open_days):
        return None
    if school_days_left <= remind_days:
        return None if given else FamilyNoticeKind.REMINDER
    return FamilyNoticeKind.INVITATION


def notice_holds(kind: str, *, case_active: bool, given: bool, may_see: bool) -> bool:
    """Whether a queued mail about the view is still true just before it is sent: the review not yet recorded (the
    case still active), the member still allowed to see the case, and, for the reminder, the view still not given."""
    if kind not in {k.value for k in FamilyNoticeKind} or not case_active or not may_see:
        return False
    return kind == FamilyNoticeKind.INVITATION.value or not given


@dataclasses.dataclass(frozen=True)
class OpinionForm:
    """A view as checked: a score per goal number (None: "weet ik niet") and the two texts (None: left empty)."""

    scores: dict[int, int | None]
    going_well: str | None
    to_change: str | None


def goal_field(number: int) -> str:
    return f"doel_{number}"


def check_form(goal_numbers: list[int], form: Mapping[str, str]) -> OpinionForm:
    """The view from a form's fields (`doel_<n>`: -2..2 or `weet_ik_niet`, `gaat_goed`, `moet_anders`). Refused
    with every wrong field at once (`InvalidInputs`): a goal without a choice or with another value, a text too
    long, or nothing given at all."""
    check = FormCheck()
    scores: dict[int, int | None] = {}
    for number in goal_numbers:
        name = goal_field(number)
        raw = (form.get(name) or "").strip()
        if raw == UNKNOWN:
            scores[number] = None
        elif raw.lstrip("+-").isdigit() and raw.isascii() and LOWEST <= int(raw) <= HIGHEST:
            scores[number] = int(raw)
        elif not raw:
            check.fail(name, f"kies bij doel {number} een antwoord (of 'weet ik niet')")
        else:
            check.fail(name, f"kies bij doel {number} -2, -1, 0, +1, +2 of 'weet ik niet'")
    texts: dict[str, str | None] = {}
    for name in (GOING_WELL, TO_CHANGE):
        text = (form.get(name) or "").replace("\r\n", "\n").strip()
        if len(text) > TEXT_MAX:
            check.fail(name, f"mag niet langer zijn dan {TEXT_MAX} tekens (nu {len(text)})")
        elif any(ord(c) < 32 and c not in "\n\t" for c in text):
            check.fail(name, "bevat tekens die geen tekst zijn")
        texts[name] = text or None
    if not goal_numbers and not check.failed and texts[GOING_WELL] is None and texts[TO_CHANGE] is None:
        check.fail(GOING_WELL, "schrijf iets op, of ga terug")
    check.done()
    return OpinionForm(scores, texts[GOING_WELL], texts[TO_CHANGE])


@dataclasses.dataclass(frozen=True)
class Difference:
    goal: int
    party: str
    family: int
    professional: int


def differences(
    professional: Mapping[int, int], family: Mapping[str, Mapping[int, int | None]], gap: int = DIFFERENCE
) -> list[Difference]:
    """Every goal where a party's score differs from the professional's by `gap` or more, by goal then party."""
    found = []
    for goal, mine in sorted(professional.items()):
        for party in sorted(family, key=lambda p: (p != "leerling", p)):
            theirs = family[party].get(goal)
            if theirs is not None and abs(theirs - mine) >= gap:
                found.append(Difference(goal, party, theirs, mine))
    return found


def difference_reason(d: Difference) -> str:
    """One reason of the recommendation: codes and numbers only, never the family's words."""
    who = PARTY_WORDS.get(d.party, d.party)
    return (
        f"Doel {d.goal}: {who} scoort {d.family:+d}, de professional {d.professional:+d}: "
        f"verschil van {DIFFERENCE} of meer; bespreek dit."
    )
