"""The pilot evaluation report: two periods compared, as one self-contained HTML page with inline SVG charts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from statistics import median

import jinja2
from markupsafe import escape
from sqlmodel import Session, func, select

from models.schooldays import SchoolDayIndex
from models.suppression import suppress_total
from models.tables import Case, Intervention, Referral, School, Signal
from notifications.render import TEMPLATES, long_date
from oja.monitoring import current_plans


@dataclasses.dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} t/m {self.end.isoformat()}"

    def weeks_overlap(self, start: dt.date | None, end: dt.date | None) -> float:
        a = max(self.start, start or self.start)
        b = min(self.end, end or self.end)
        return max(0, (b - a).days + 1) / 7


@dataclasses.dataclass
class PeriodFigures:
    signals_per_school: dict[str, int | None]  # suppressed 1-5
    signals_total: int
    median_days_to_help: float | None
    started: int
    referrals: int
    cost_eur: float


def figures(session: Session, period: Period, *, rate: float, today: dt.date) -> PeriodFigures:
    schools = dict(session.exec(select(School.code, School.holiday_region)).all())
    per_school = dict(
        session.exec(
            select(Case.school_code, func.count(Signal.id))
            .join(Case, Case.id == Signal.case_id)
            .where(Signal.received_on >= period.start, Signal.received_on <= period.end)
            .group_by(Case.school_code)
        ).all()
    )
    started = session.exec(
        select(Case.school_code, Case.opened_on, Case.activated_on).where(
            Case.activated_on >= period.start, Case.activated_on <= period.end
        )
    ).all()
    days = []
    for school, opened, activated in started:
        index = SchoolDayIndex(schools[school], min(opened, activated), max(opened, activated))
        days.append(index.between(opened, activated))
    referrals = session.exec(
        select(func.count(Referral.id)).where(Referral.referred_on >= period.start, Referral.referred_on <= period.end)
    ).one()
    plans = current_plans()
    cost = 0.0
    for per_week, activated, closed in session.exec(
        select(Intervention.hours_per_week, Case.activated_on, Case.closed_on)
        .join(plans, plans.c.id == Intervention.plan_id)
        .join(Case, Case.id == plans.c.case_id)
        .where(Case.activated_on.is_not(None))
    ).all():
        cost += per_week * period.weeks_overlap(activated, min(closed or today, today)) * rate
    return PeriodFigures(
        signals_per_school={code: suppress_total(per_school.get(code, 0)) for code in sorted(schools)},
        signals_total=sum(per_school.values()),
        median_days_to_help=float(median(days)) if len(days) > 5 else None,
        started=len(days),
        referrals=referrals,
        cost_eur=round(cost, 2),
    )


def _bars(pairs: list[tuple[str, float | None, float | None]], *, unit: str = "") -> str:
    """A grouped bar chart (before, after) as inline SVG; a hidden figure is drawn as an empty, dashed bar."""
    width, bar, gap, left = 720, 18, 26, 250
    top = max([v for _, a, b in pairs for v in (a, b) if v is not None] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{len(pairs) * (2 * bar + gap) + 10}" '
        'role="img">'
    ]
    y = 5
    for label, before, after in pairs:
        parts.append(f'<text x="0" y="{y + bar + 4}" font-size="12">{escape(label)}</text>')
        for i, (value, colour) in enumerate(((before, "#9aa5b1"), (after, "#1f6feb"))):
            yy = y + i * bar
            if value is None:
                parts.append(
                    f'<rect x="{left}" y="{yy}" width="40" height="{bar - 3}" fill="none" stroke="{colour}" '
                    'stroke-dasharray="3"/>'
                    f'<text x="196" y="{yy + bar - 6}" font-size="11">≤5</text>'
                )
            else:
                w = 0 if top == 0 else (width - 230) * value / top
                parts.append(
                    f'<rect x="150" y="{yy}" width="{w:.1f}" height="{bar - 3}" fill="{colour}"/>'
                    f'<text x="{156 + w:.1f}" y="{yy + bar - 6}" font-size="11">{value:g}{unit}</text>'
                )
        y += 2 * bar + gap
    parts.append("</svg>")
    return "".join(parts)


def render_report(session: Session, before: Period, after: Period, *, rate: float, today: dt.date) -> str:
    b, a = figures(session, before, rate=rate, today=today), figures(session, after, rate=rate, today=today)
    names = dict(session.exec(select(School.code, School.name)).all())
    charts = {
        "signals": _bars(
            [(f"{names[c]} ({c})", b.signals_per_school[c], a.signals_per_school[c]) for c in b.signals_per_school]
        ),
        "totals": _bars(
            [
                ("zorgsignalen", b.signals_total, a.signals_total),
                ("verwijzingen zware zorg", b.referrals, a.referrals),
                ("mediaan schooldagen tot hulp", b.median_days_to_help, a.median_days_to_help),
            ]
        ),
        "cost": _bars([("kosten (€)", round(b.cost_eur), round(a.cost_eur))]),
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "nl"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template("evaluation.html.j2").render(
        before=before,
        after=after,
        b=b,
        a=a,
        names=names,
        charts=charts,
        made_on=long_date(today, "nl"),
        rate=rate,
    )


def default_periods(today: dt.date, split: dt.date | None = None) -> tuple[Period, Period]:
    """Half a year before a split date (for instance when a school joined) against the time since."""
    split = split or today - dt.timedelta(days=182)
    return Period(split - dt.timedelta(days=182), split - dt.timedelta(days=1)), Period(split, today)
