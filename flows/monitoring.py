"""The daily monitoring deployment: keyed table artifacts for managers, small numbers suppressed and audited.

Every table goes through the small-numbers audit (models/suppression.py) before it is published. A table the
audit refuses is not published; the others are, and then the run fails with the refused tables' keys."""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from flows.run_names import dated_run_name
from models.errors import DisclosureError
from models.schooldays import today as amsterdam_today
from models.suppression import shown
from oja.adapters.db import get_engine
from oja.config import dossier_url, get_policy, get_settings
from oja.services import monitoring


@task(name="cijfers-publiceren", cache_policy=NO_CACHE)
def publish(day: dt.date) -> dict[str, int]:
    """Compute the figures in bulk, audit them together and publish each table that passes under its own key
    (the Artifacts page keeps history). Raises DisclosureError naming the tables it did not publish."""
    with Session(get_engine()) as session:
        publication = monitoring.manager_tables(session, today=day, policy=get_policy())
    published: dict[str, int] = {}
    for table in publication.publishable:
        records = table.as_records()
        create_table_artifact(
            key=table.key,
            table=[{k: shown(v) if not isinstance(v, str) else v for k, v in r.items()} for r in records],
            description=f"{table.title} ({day.isoformat()}). {monitoring.LEGEND}",
        )
        published[table.key] = len(records)
    get_run_logger().info("published %d tables for %s", len(published), day)
    if publication.refused:
        raise DisclosureError(publication.refused)
    return published


@task(name="evaluatierapport", cache_policy=NO_CACHE)
def evaluation_report(day: dt.date) -> str:
    """Write the pilot evaluation report to OJA_HOME/reports (the day's copy) and link the dossier's report page
    (behind its login: managers and team leads; a `file://` link opens nowhere but on the server) from an
    artifact."""
    from oja.services.report import default_periods, render_report

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
        link=f"{dossier_url()}/rapport/evaluatie",
        link_text=f"Pilotevaluatie {day.isoformat()} (in het dossier, na inloggen)",
        description=f"Vóór {before.label} tegenover na {after.label}. Een kopie van vandaag op de server: {path.name}.",
    )
    return str(path)


@flow(name="dagelijkse-monitoring", flow_run_name=dated_run_name("monitoring", "day"))
def daily_monitoring(day: dt.date | None = None) -> dict[str, int]:
    """Daily figures for managers: caseload, timeliness, reviews, decisions, outcomes, money, groups, report.

    Fails, after publishing everything that passed the small-numbers audit, naming whatever did not.

    Args:
        day: De dag van de cijfers. Leeg laten voor vandaag.
    """
    day = day or amsterdam_today()
    refused: list[str] = []
    published: dict[str, int] = {}
    try:
        published = publish(day)
    except DisclosureError as exc:
        refused += exc.tables
    try:
        evaluation_report(day)
    except DisclosureError as exc:
        refused += exc.tables
    if refused:
        raise DisclosureError(refused)
    return published
