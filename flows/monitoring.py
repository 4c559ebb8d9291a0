"""The daily monitoring deployment: keyed table artifacts for managers, small numbers suppressed."""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from models.schooldays import today as amsterdam_today
from models.suppression import shown
from oja import monitoring
from oja.config import get_policy, get_settings
from oja.db import get_engine


@task(name="cijfers-publiceren", cache_policy=NO_CACHE)
def publish(day: dt.date) -> dict[str, int]:
    """Compute the figures in bulk and publish each table under its own key (the Artifacts page keeps history)."""
    policy = get_policy()
    with Session(get_engine()) as session:
        tables = [
            monitoring.caseload_by_school(session),
            monitoring.timeliness_by_school(session, triage_norm=policy.triage_norm_school_days, today=day),
            monitoring.reviews_by_school(session, today=day),
            monitoring.decisions(session, since=day - dt.timedelta(days=365)),
            monitoring.caseload_by_provider_and_municipality(session),
            monitoring.outcomes(session, since=day - dt.timedelta(days=365)),
            monitoring.hours_and_cost(
                session,
                today=day,
                rate=policy.hourly_rate_eur,
                budget_swv=policy.budget_swv_eur,
                budget_municipality=policy.budget_municipality_eur,
            ),
            monitoring.group_use(session),
        ]
    for table in tables:
        create_table_artifact(
            key=table.key,
            table=[{k: shown(v) if not isinstance(v, str) else v for k, v in r.items()} for r in table.as_records()],
            description=f"{table.title} ({day.isoformat()}). Aantallen van 1 tot 5 leerlingen staan als ≤5.",
        )
    get_run_logger().info("published %d tables for %s", len(tables), day)
    return {t.key: len(t.rows) for t in tables}


@task(name="evaluatierapport", cache_policy=NO_CACHE)
def evaluation_report(day: dt.date) -> str:
    """Write the pilot evaluation report to OJA_HOME/reports and link it from an artifact."""
    from oja.report import default_periods, render_report

    policy = get_policy()
    before, after = default_periods(day, policy.evaluation_split_date)
    with Session(get_engine()) as session:
        html = render_report(session, before, after, rate=policy.hourly_rate_eur, today=day)
    folder = get_settings().home.resolve() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"evaluatie-{day.isoformat()}.html"
    path.write_text(html, encoding="utf-8")
    create_link_artifact(
        key="oja-evaluatierapport",
        link=path.as_uri(),
        link_text=f"Pilotevaluatie {day.isoformat()}",
        description=f"Vóór {before.label} tegenover na {after.label}.",
    )
    return str(path)


@flow(name="dagelijkse-monitoring", flow_run_name="monitoring {day}")
def daily_monitoring(day: dt.date | None = None) -> dict[str, int]:
    """Daily figures for managers: caseload, timeliness, reviews, decisions, outcomes, money, groups, report."""
    day = day or amsterdam_today()
    published = publish(day)
    evaluation_report(day)
    return published
