"""Cost to date: the hours delivered under every plan from its start to its end (or today), whatever the case's
state now (docs/domain.md, cost to date). The monitoring table and the pilot report both count from here.

A plan delivers help on the days from `plan.active_from` (the day the arrangement started on it) up to, not
including, `plan.active_until` (the day it was closed or referred) or today: closing an arrangement today changes
nothing that was delivered, and two periods that meet add up without a day counted twice. A plan whose help was
paused (consent withdrawn) and started again also delivered in its earlier periods (`PlanPeriod`); the pause is not
counted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import Session, col, select

from models.tables import Case, Intervention, Plan, PlanPeriod, Pupil


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One intervention of one plan that started: hours a week, the SWV's share, and when it ran."""

    hours_per_week: float
    swv_share_pct: int
    municipality: str
    start: dt.date
    until: dt.date | None  # None: still running
    pupil_id: int  # whose arrangement: a figure over 1 to 5 pupils is not published (docs/domain.md, small numbers)

    def weeks(self, since: dt.date, before: dt.date, *, today: dt.date) -> float:
        """Weeks delivered on the days from `since` up to, not including, `before` (and not after today)."""
        end = min(self.until or today, today, before)
        return max(0, (end - max(self.start, since)).days) / 7

    def cost(self, since: dt.date, before: dt.date, *, today: dt.date, rate: float) -> float:
        return self.hours_per_week * self.weeks(since, before, today=today) * rate


def deliveries(session: Session) -> list[Delivery]:
    """Every intervention of every plan version that started, of every case in any state."""
    rows = session.exec(
        select(Intervention, col(Pupil.municipality_code), Plan, col(Pupil.id))
        .join(Plan, col(Plan.id) == col(Intervention.plan_id))
        .join(Case, col(Case.id) == col(Plan.case_id))
        .join(Pupil, col(Pupil.id) == col(Case.pupil_id))
        .where(col(Plan.active_from).is_not(None))
    ).all()
    return [
        Delivery(iv.hours_per_week, iv.swv_share_pct, m, plan.active_from, plan.active_until, pupil)
        for iv, m, plan, pupil in rows
        if plan.active_from is not None and pupil is not None
    ] + [
        Delivery(iv.hours_per_week, iv.swv_share_pct, m, period.active_from, period.active_until, pupil)
        for iv, m, period, pupil in session.exec(
            select(Intervention, col(Pupil.municipality_code), PlanPeriod, col(Pupil.id))
            .join(PlanPeriod, col(PlanPeriod.plan_id) == col(Intervention.plan_id))
            .join(Plan, col(Plan.id) == col(PlanPeriod.plan_id))
            .join(Case, col(Case.id) == col(Plan.case_id))
            .join(Pupil, col(Pupil.id) == col(Case.pupil_id))
        ).all()
        if pupil is not None
    ]
