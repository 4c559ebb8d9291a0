"""The pilot evaluation report: two periods compared, as one self-contained HTML page with inline SVG charts.

Small numbers: care reports per school are pupil counts at school level, published with their region total.
Each period is one release for the audit in models/suppression.py: the school counts are cells, the region
total a protected figure over them, so the total minus the shown schools cannot give a hidden school away and
a total of 1 to 5 is hidden too. A period the audit refuses is not published: render_report raises. The
charts draw exactly what the table shows: a hidden figure is a hatched bar of one fixed width, never its
height. The other region figures are about 1 to 5 pupils as much as a school's are: arrangements started and
referrals are hidden when 1 to 5, the median time to help is shown only over 6 or more pupils, and the
cost only when it is the cost of 6 or more pupils' arrangements (it would show their hours). The number of
reviews with GAS scores in a period is a count like these (hidden when 1 to 5), and each informant's average
GAS T-score (models/gas.py) over them is shown only over the reviews of 6 or more distinct pupils. The family's
answers to the two outcome questions at the period's closings are a release of their own per period, audited
(`oja.services.outcome_answers`): per informant the number of answers and the shares satisfied and able to go on
without the help, over 6 or more distinct pupils only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Hashable
from statistics import median

import jinja2
from markupsafe import escape
from sqlmodel import Session, col, func, select

from models.errors import DisclosureError
from models.gas import INFORMANTS, shown_t
from models.schooldays import SchoolDayIndex
from models.suppression import HIDDEN, Release, is_small, protect, suppress_total
from models.tables import Case, Referral, School, Signal
from models.words import INFORMANTS as INFORMANT_WORDS
from notifications.render import TEMPLATES, long_date
from oja.services.calendar import school_calendars
from oja.services.cost import deliveries
from oja.services.gas import average_t, review_t_scores
from oja.services.outcome_answers import WORDS as ANSWER_WORDS
from oja.services.outcome_answers import Published, period_answers

REPORT = "oja-evaluatierapport"


@dataclasses.dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} t/m {self.end.isoformat()}"


@dataclasses.dataclass
class PeriodFigures:
    """A period's figures as published (None: hidden), but for the cost, which `cost_shown` publishes."""

    signals_per_school: dict[str, int | None]
    signals_total: int | None  # region-wide: a count like any other, hidden over 1 to 5
    median_days_to_help: float | None  # None: over 1 to 5 pupils (hidden) or none
    started: int | None
    referrals: int | None
    cost_eur: float  # the true cost of the period (oja/services/cost.py)
    cost_pupils: int  # how many pupils' arrangements it is the cost of
    # by informant (models.gas.INFORMANTS): the reviews held in the period with GAS scores (None: 1 to 5, hidden)
    # and their average T-score (None: none, or over 1 to 5 pupils: hidden; `t_shown` tells which)
    gas_reviews: dict[str, int | None] = dataclasses.field(default_factory=dict)
    gas_t: dict[str, float | None] = dataclasses.field(default_factory=dict)
    # by informant (leerling, ouders): the answers to the two outcome questions at the period's closings, audited
    answers: dict[str, Published] = dataclasses.field(default_factory=dict)

    @property
    def cost_shown(self) -> float | None:
        """The cost as published: the hours of 1 to 5 pupils' arrangements would show through it."""
        return None if is_small(self.cost_pupils) else self.cost_eur


def figures(session: Session, period: Period, *, rate: float, today: dt.date) -> PeriodFigures:
    calendars = school_calendars(session)
    per_school = dict(
        session.exec(
            select(col(Case.school_code), func.count(col(Signal.id)))
            .join(Case, col(Case.id) == col(Signal.case_id))
            .where(col(Signal.received_on) >= period.start, col(Signal.received_on) <= period.end)
            .group_by(col(Case.school_code))
        ).all()
    )
    started = session.exec(
        select(col(Case.school_code), col(Case.opened_on), col(Case.activated_on), col(Case.pupil_id)).where(
            col(Case.activated_on) >= period.start, col(Case.activated_on) <= period.end
        )
    ).all()
    days = []
    for school, opened, activated, _ in started:
        assert activated is not None  # the query asks for a start within the period
        index = SchoolDayIndex(calendars[school], min(opened, activated), max(opened, activated))
        days.append(index.between(opened, activated))
    referrals = session.exec(
        select(func.count(col(Referral.id))).where(
            col(Referral.referred_on) >= period.start, col(Referral.referred_on) <= period.end
        )
    ).one()
    after_end = period.end + dt.timedelta(days=1)  # the period's last day counts
    costs = [(d.pupil_id, d.cost(period.start, after_end, today=today, rate=rate)) for d in deliveries(session)]
    signals, signals_total = _signals_per_school(per_school, sorted(calendars))
    averages = [average_t(review_t_scores(session, start=period.start, end=period.end), who) for who in INFORMANTS]
    return PeriodFigures(
        signals_per_school=signals,
        signals_total=signals_total,
        # over 1 to 5 pupils (a pupil can have started twice) a median is theirs, however many arrangements
        median_days_to_help=None if not days or is_small(len({p for *_, p in started})) else float(median(days)),
        started=suppress_total(len(days)),
        referrals=suppress_total(referrals),
        cost_eur=round(sum(c for _, c in costs), 2),
        cost_pupils=len({pupil for pupil, c in costs if c}),
        gas_reviews={t.informant: suppress_total(t.reviews) for t in averages},
        # a statistic over 1 to 5 pupils is theirs, however many reviews it is over
        gas_t={t.informant: None if is_small(t.pupils) else shown_t(t.mean) for t in averages},
        answers=period_answers(session, period.start, period.end),
    )


def _signals_per_school(per_school: dict[str, int], schools: list[str]) -> tuple[dict[str, int | None], int | None]:
    """Care reports per school as published beside their region total, and that total (a protected count too);
    raises if the audit refuses them."""
    release = Release()
    counts: dict[tuple[Hashable, Hashable], int] = {(code, "signalen"): per_school.get(code, 0) for code in schools}
    release.add_grid(REPORT, schools, ["signalen"], counts, row_totals=False, column_totals=False)
    if schools:
        cells = [(REPORT, code, "signalen") for code in schools]
        release.add_figure((REPORT, "regio"), REPORT, cells, total=True)
    protection = protect(release)
    if not protection.ok:
        raise DisclosureError([REPORT])
    total = protection.value((REPORT, "regio")) if schools else 0
    return {code: protection.value((REPORT, code, "signalen")) for code in schools}, total


def _bars(pairs: list[tuple[str, float | str | None, float | str | None]], *, unit: str = "") -> str:
    """A grouped bar chart (before, after) as inline SVG. A hidden figure (None) is a hatched bar of one fixed
    width marked as hidden, whatever its value; text (a figure that does not apply) gets no bar."""
    width, bar, gap, left, right = 760, 18, 26, 270, 70
    top = max([v for _, a, b in pairs for v in (a, b) if isinstance(v, int | float)] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{len(pairs) * (2 * bar + gap) + 10}" '
        'role="img"><defs>'
        '<pattern id="hidden-before" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#9aa5b1" stroke-width="2"/></pattern>'
        '<pattern id="hidden-after" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#1f6feb" stroke-width="2"/></pattern>'
        "</defs>"
    ]
    y = 5
    for label, before, after in pairs:
        parts.append(f'<text x="0" y="{y + bar + 4}" font-size="12">{escape(label)}</text>')
        for i, (value, colour, name) in enumerate(((before, "#9aa5b1", "before"), (after, "#1f6feb", "after"))):
            yy = y + i * bar
            if value is None:
                parts.append(
                    f'<rect x="{left}" y="{yy}" width="40" height="{bar - 3}" fill="url(#hidden-{name})" '
                    f'stroke="{colour}"/><text x="{left + 46}" y="{yy + bar - 6}" font-size="11">{HIDDEN} '
                    "afgeschermd</text>"
                )
            elif isinstance(value, str):
                parts.append(f'<text x="{left}" y="{yy + bar - 6}" font-size="11">{escape(value)}</text>')
            else:
                w = (width - left - right) * value / top
                parts.append(
                    f'<rect x="{left}" y="{yy}" width="{w:.1f}" height="{bar - 3}" fill="{colour}"/>'
                    f'<text x="{left + 6 + w:.1f}" y="{yy + bar - 6}" font-size="11">{value:g}{unit}</text>'
                )
        y += 2 * bar + gap
    parts.append("</svg>")
    return "".join(parts)


def _median(f: PeriodFigures) -> float | str | None:
    """The median as shown: over no arrangement it does not apply, over 1 to 5 it is hidden."""
    if f.median_days_to_help is not None:
        return f.median_days_to_help
    return "–" if f.started == 0 else None


def t_shown(f: PeriodFigures, informant: str) -> float | str | None:
    """An informant's average T-score as shown: over no review it does not apply, over 1 to 5 pupils it is hidden."""
    if f.gas_t[informant] is not None:
        return f.gas_t[informant]
    return "–" if f.gas_reviews[informant] == 0 else None


def _rounded(value: float | None) -> int | None:
    return None if value is None else round(value)


def render_report(
    session: Session, before: Period, after: Period, *, rate: float, today: dt.date, part: bool = False
) -> str:
    """The evaluation report as a document of its own, or (`part`) its content for a page of the dossier."""
    b, a = figures(session, before, rate=rate, today=today), figures(session, after, rate=rate, today=today)
    names = dict(session.exec(select(col(School.code), col(School.name))).all())
    charts = {
        "signals": _bars(
            [(f"{names[c]} ({c})", b.signals_per_school[c], a.signals_per_school[c]) for c in b.signals_per_school]
        ),
        "totals": _bars(
            [
                ("zorgsignalen", b.signals_total, a.signals_total),
                ("verwijzingen zware zorg", b.referrals, a.referrals),
                ("mediaan schooldagen tot hulp", _median(b), _median(a)),
            ]
        ),
        "cost": _bars([("kosten (€)", _rounded(b.cost_shown), _rounded(a.cost_shown))]),
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "nl"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template("_evaluation_part.html.j2" if part else "evaluation.html.j2").render(
        before=before,
        after=after,
        b=b,
        a=a,
        names=names,
        charts=charts,
        hidden=HIDDEN,
        medians=(_median(b), _median(a)),
        informants={who: INFORMANT_WORDS[who] for who in INFORMANTS},
        answer_informants=ANSWER_WORDS,
        t_shown=t_shown,
        made_on=long_date(today, "nl"),
        rate=rate,
    )


def default_periods(today: dt.date, split: dt.date | None = None) -> tuple[Period, Period]:
    """Half a year before a split date (for instance when a school joined) against the time since."""
    split = split or today - dt.timedelta(days=182)
    return Period(split - dt.timedelta(days=182), split - dt.timedelta(days=1)), Period(split, today)
