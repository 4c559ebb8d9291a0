"""Figures for managers, computed in the database in bulk and published only after the small-numbers audit.

`manager_tables` computes the eight tables of a day as one release (models/suppression.py): every pupil count,
at school level and region-wide alike, is a protected figure over cells (true counts), and what one table says
about another's cells is a relation. Suppression is chosen for the release as a whole and audited by linear
programming, so that no table undoes another's suppression. An average or percentage over 1 to 5 pupils
reveals them as a count does: it stands beside its count (`Table.needs`) and is hidden unless that count is
shown, and over 1 to 5 distinct pupils it is hidden whatever the count (`Table.few`). How each table is modelled:

- caseload per school: a grid of open cases (school x level) with school totals, level totals and the grand
  total, all protected (1 to 5 is hidden, region-wide too).
- caseload per provider and municipality: region-wide counts, protected. A case counts for the providers of
  its episode's plan (not a plan from before it was reopened); providers add up to nothing. The municipality
  rows add up to every open case, so they are tied to the caseload grid's cells (a region total minus the
  other schools must not give a school away).
- reviews per school: on time + overdue = running; running arrangements are open cases, so at most the
  school's caseload total (a relation).
- timeliness per school: triaged = within the norm + outside it; the percentage within the norm reveals
  both counts, so it is shown only where both may be. Medians and 90th percentiles are not sums: the audit
  cannot bound them, so they are shown only beside a count that is itself shown (6 or more), and the triage
  ones only where the percentage is shown too (a percentile under the norm bounds the share within it).
  Over 0 pupils they do not apply ('–').
- group arrangements: places taken per group, at most its places (known beforehand, so it clips the rule).
- decisions: a protected count per kind and their total; the share of specialised care reveals the count of
  referrals, so it needs that count and the total shown.
- outcomes: the closed arrangements are three cells (as planned, drop-out, otherwise) with a protected total;
  each percentage is the figure of the count it reveals and needs the total; the satisfaction average needs
  the number of measurements, and each informant's average GAS T-score the number of reviews scored (a
  protected count); the family's answers at closing per informant, four cells each (satisfied or not x able to go
  on without the help or not) under a protected number of answers, each share the figure of the count it reveals.
- hours and cost: money and hours are not pupil counts and stay out of the release, but a stream's over 1 to
  5 pupils is hidden (their hours), and the SWV's where it would give such a stream away.

Where it is done (this module is the one to import from):
- oja/services/monitoring_table.py: what a table is (`Table`, `Publication`), the table keys and constants;
- oja/services/monitoring_schools.py: the open cases read once (`read_open_cases`) and the tables of pupil
  counts per school (caseload, timeliness, reviews, group arrangements);
- oja/services/monitoring_region.py: the region-wide tables (decisions, provider and municipality, outcomes,
  hours and cost).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models.suppression import Release, protect
from oja.config import Policy
from oja.services.monitoring_region import (
    DROP_OUT,
    PLANNED_ENDINGS,
    caseload_by_provider_and_municipality,
    decisions,
    hours_and_cost,
    outcomes,
)
from oja.services.monitoring_schools import (
    OpenCases,
    caseload_by_school,
    group_use,
    read_open_cases,
    reviews_by_school,
    timeliness_by_school,
)
from oja.services.monitoring_table import (
    CASELOAD,
    DECISIONS,
    GROUPS,
    HOURS_AND_COST,
    LEGEND,
    LEVELS,
    NO_BUDGET,
    NOT_APPLICABLE,
    OUTCOMES,
    PROVIDER_MUNICIPALITY,
    REVIEWS,
    TIMELINESS,
    Publication,
    Row,
    Table,
    Value,
)

__all__ = [
    "CASELOAD",
    "DECISIONS",
    "DROP_OUT",
    "GROUPS",
    "HOURS_AND_COST",
    "LEGEND",
    "LEVELS",
    "NOT_APPLICABLE",
    "NO_BUDGET",
    "OUTCOMES",
    "PLANNED_ENDINGS",
    "PROVIDER_MUNICIPALITY",
    "REVIEWS",
    "TIMELINESS",
    "OpenCases",
    "Publication",
    "Row",
    "Table",
    "Value",
    "_open_cases",
    "caseload_by_provider_and_municipality",
    "caseload_by_school",
    "decisions",
    "group_use",
    "hours_and_cost",
    "manager_tables",
    "outcomes",
    "read_open_cases",
    "reviews_by_school",
    "timeliness_by_school",
]

_open_cases = read_open_cases  # the name tests/integration/test_monitoring.py builds a release with


def manager_tables(session: Session, *, today: dt.date, policy: Policy) -> Publication:
    """The eight monitoring tables of a day, protected and audited together."""
    release = Release()
    open_cases = read_open_cases(session, release, today=today)
    since = today - dt.timedelta(days=365)
    tables = [
        caseload_by_school(release, open_cases),
        timeliness_by_school(session, release, triage_norm=policy.triage_norm_school_days, today=today),
        reviews_by_school(release, open_cases),
        decisions(session, release, since=since),
        caseload_by_provider_and_municipality(session, release, open_cases),
        outcomes(session, release, since=since),
        hours_and_cost(
            session,
            today=today,
            rate=policy.hourly_rate_eur,
            budget_swv=policy.budget_swv_eur,
            budget_municipality=policy.budget_municipality_eur,
        ),
        group_use(session, release),
    ]
    protection = protect(release)
    for table in tables:
        if table.key not in protection.refused:  # a refused table keeps rows None: it cannot be published
            table.publish(protection)
    return Publication(tables, protection)
