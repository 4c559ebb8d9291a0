"""The family's answers to the two outcome questions at closing (`models.closing`) as figures for managers: per
informant (the pupil, the parents; never mixed) the number of answers, the share satisfied and the share able to
go on without this help. For the outcome table (`monitoring_region.outcomes`) and the evaluation report.

Small numbers: an informant's answers are four cells (satisfied or not x able to go on or not); the number of
answers is a protected figure over all four, each share the figure of the count it reveals (the satisfied, the able)
and shown only beside the number; the complements (not satisfied, not able) follow from a share and the number, so
they are audited too though nobody reads them. The linear-programming audit (`models/suppression.py`) covers the
cells with the rest of the release. Over 1 to 5 distinct pupils the number and the shares are hidden whatever the
count of answers (two parents of three pupils give six answers).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Hashable

from sqlmodel import Session

from models import closing
from models.errors import DisclosureError
from models.suppression import FigureId, Protection, Release, is_small, protect
from oja.services.closing_questions import Answered, answered

INFORMANTS = ("leerling", "ouders")
WORDS = {"leerling": "leerling", "ouders": "ouders"}
NOT_APPLICABLE = "–"
KEY = "afsluitvragen"


@dataclasses.dataclass(frozen=True)
class Tally:
    """One informant's answers: counts by (satisfied, able to go on), and over how many distinct pupils."""

    informant: str
    counts: dict[tuple[bool, bool], int]
    pupils: int

    @property
    def answers(self) -> int:
        return sum(self.counts.values())

    def part(self, *, satisfied: bool | None = None, able: bool | None = None) -> int:
        return sum(
            n
            for (s, a), n in self.counts.items()
            if (satisfied is None or s == satisfied) and (able is None or a == able)
        )


def tally(found: list[Answered]) -> dict[str, Tally]:
    out = {}
    for informant in INFORMANTS:
        mine = [a for a in found if a.informant == informant]
        counts = {(s, a): 0 for s in (True, False) for a in (True, False)}
        for answer in mine:
            counts[(answer.satisfaction in closing.SATISFIED, answer.without_help in closing.ABLE)] += 1
        out[informant] = Tally(informant, counts, len({a.pupil_id for a in mine}))
    return out


@dataclasses.dataclass(frozen=True)
class AnswerFigures:
    """The release's figure ids of one informant's answers: the number, the satisfied, the able. A share of 0 has
    no figure (None): zeros are always shown to the audit, but a share is shown only beside its number, so a 0%
    beside a hidden number would tell the audit something no reader sees, and refuse the release for a leak that is
    not there (one parent who cannot go on yet: "not able" = number - 0 >= 1). Shown, 0% says "nobody", no group."""

    answers: FigureId
    satisfied: FigureId | None
    able: FigureId | None


def add_cells(release: Release, table: str, tallies: dict[str, Tally]) -> dict[str, AnswerFigures]:
    """The answers' cells and figures in `release` (of `table`), per informant."""
    ids = {}
    for informant, t in tallies.items():

        def cell(s: bool, a: bool, informant: str = informant) -> tuple[Hashable, ...]:
            return (table, KEY, informant, s, a)

        for (s, a), n in t.counts.items():
            release.add_cell(cell(s, a), n)
        every = [cell(s, a) for s, a in t.counts]
        base = (table, KEY, informant)
        total = release.add_figure((*base, "antwoorden"), table, every).id
        satisfied = able = None
        if t.part(satisfied=True):
            satisfied = release.add_figure((*base, "tevreden"), table, [cell(True, True), cell(True, False)]).id
        if t.part(able=True):
            able = release.add_figure((*base, "verder"), table, [cell(True, True), cell(False, True)]).id
        # nobody reads these, but the number and a share give them: audit them too
        release.add_figure((*base, "niet tevreden"), table, [cell(False, True), cell(False, False)], published=False)
        release.add_figure((*base, "niet verder"), table, [cell(True, False), cell(False, False)], published=False)
        ids[informant] = AnswerFigures(total, satisfied, able)
    return ids


def share(part: int, whole: int) -> float | str:
    return round(100 * part / whole, 1) if whole else NOT_APPLICABLE


@dataclasses.dataclass(frozen=True)
class Published:
    """One informant's figures as published: None hidden, '–' over no answer."""

    answers: int | None
    satisfied: float | str | None
    able: float | str | None


def published(t: Tally, ids: AnswerFigures, protection: Protection) -> Published:
    """What may be shown of one informant's answers after the audit."""
    if is_small(t.pupils):  # over 1 to 5 distinct pupils: theirs, whatever the count of answers
        return Published(None, None, None)
    n = protection.value(ids.answers)
    if n is None:
        return Published(None, None, None)
    if n == 0:
        return Published(0, NOT_APPLICABLE, NOT_APPLICABLE)
    satisfied = share(t.part(satisfied=True), n) if _shows(protection, ids.satisfied) else None
    able = share(t.part(able=True), n) if _shows(protection, ids.able) else None
    return Published(n, satisfied, able)


def _shows(protection: Protection, figure: FigureId | None) -> bool:
    """A share beside its shown number: shown unless its figure is hidden (a share of 0 has none)."""
    return figure is None or protection.shows(figure)


def period_answers(session: Session, start: dt.date, end: dt.date) -> dict[str, Published]:
    """The answers at closings of a period, as the report publishes them (its own release, audited; raises
    `DisclosureError` if the audit refuses it)."""
    tallies = tally(answered(session, start=start, end=end))
    release = Release()
    ids = add_cells(release, KEY, tallies)
    protection = protect(release)
    if not protection.ok:
        raise DisclosureError([KEY])
    return {who: published(t, ids[who], protection) for who, t in tallies.items()}


def add_rows(
    session: Session,
    release: Release,
    table: str,
    rows: list[list[str | int | float | None]],
    figures: dict[tuple[int, int], FigureId],
    needs: dict[tuple[int, int], tuple[FigureId, ...]],
    few: set[tuple[int, int]],
    *,
    since: dt.date,
) -> None:
    """The outcome table's rows of the answers at closings since a day (a (criterion, value) table): three rows per
    informant, their cells in `release`, their positions in `figures`, `needs` and `few` (`Table`)."""
    tallies = tally(answered(session, start=since))
    ids = add_cells(release, table, tallies)
    for who, t in tallies.items():
        word, n = WORDS[who], t.answers
        rows.append([f"afsluitvragen {word}: aantal antwoorden", n])
        rows.append([f"afsluitvragen {word}: tevreden over de hulp (%)", share(t.part(satisfied=True), n)])
        rows.append([f"afsluitvragen {word}: verder zonder deze hulp (%)", share(t.part(able=True), n)])
        count, satisfied, able = ((len(rows) - i, 1) for i in (3, 2, 1))
        figures[count] = ids[who].answers
        if n:  # a share of nobody does not apply ('–'); each is shown only beside the number, a share of 0 too
            needs |= {satisfied: (ids[who].answers,), able: (ids[who].answers,)}
            for position, figure in ((satisfied, ids[who].satisfied), (able, ids[who].able)):
                if figure is not None:
                    figures[position] = figure
        if is_small(t.pupils):
            few |= {count, satisfied, able}
