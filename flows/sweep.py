"""The daily sweep and the outbox dispatch: scheduled deployments in `prefect.yaml`.

One flow run a day for the whole region, two tasks, batches inside: never a
flow run or a task per arrangement.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import Flow, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun, State

from flows.run_names import dated_run_name
from flows.worklist import every_school, refresh_worklists
from models.errors import DispatchIncomplete
from models.schooldays import today as amsterdam_today
from oja.adapters.db import get_engine
from oja.adapters.messages import message_options
from oja.adapters.notify import build_sender
from oja.adapters.signals import graceful_stop
from oja.config import get_policy, get_settings
from oja.services import dispatch, sweep


def _log_planned(report: sweep.SweepReport) -> None:
    get_run_logger().info(
        "%s: %d deadlines in reach, %d new notices, %d messages queued %s, %d to families (their view)",
        report.sweep_date,
        report.candidates,
        report.notices,
        report.messages,
        dict(report.by_kind),
        report.family_messages,
    )


def _log_sent(report: dispatch.DispatchReport) -> None:
    get_run_logger().info("sent %d, failed %d, undeliverable %d", report.sent, report.failed, report.undeliverable)


@task(name="herinneringen-bepalen", cache_policy=NO_CACHE)
def plan_notices(day: dt.date) -> dict[str, Any]:
    """Decide which reminders are due today and queue one message per recipient (one transaction per batch)."""
    settings = get_settings()
    report = sweep.plan_notices(
        get_engine(),
        day=day,
        policy=get_policy(),
        **message_options(settings),
    )
    _log_planned(report)
    return report.as_dict()


@task(name="berichten-versturen", cache_policy=NO_CACHE)
def dispatch_outbox() -> dict[str, Any]:
    """Send what is pending in the outbox; failures stay pending for the next attempt."""
    settings = get_settings()
    sender = build_sender(settings)
    try:
        with graceful_stop() as stop:  # SIGTERM: finish the message being sent, release the rest
            report = dispatch.dispatch(get_engine(), sender, stop=stop, **settings.dispatch_options)
    finally:
        sender.close()
    _log_sent(report)
    return report.as_dict()


@task(name="herinneringen-bepalen-en-versturen", cache_policy=NO_CACHE)
def plan_and_send(day: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decide the day's reminders and send them, overlapped: sending starts with the first batch decided."""
    settings = get_settings()
    sender = build_sender(settings)
    try:
        with graceful_stop() as stop:  # SIGTERM: finish the message being sent, release the rest
            planned, sent = sweep.sweep_day(
                get_engine(),
                sender,
                day=day,
                policy=get_policy(),
                stop=stop,
                **settings.dispatch_options,
                **message_options(settings),
            )
    finally:
        sender.close()
    _log_planned(planned)
    _log_sent(sent)
    return planned.as_dict(), sent.as_dict()


def _raise_if_incomplete(report: dict[str, Any]) -> None:
    if report["failed"] or report["undeliverable"]:
        first = report["errors"][0] if report["errors"] else ""
        raise DispatchIncomplete(
            f"{report['failed']} message(s) failed and stay pending, {report['undeliverable']} undeliverable; "
            f"first error: {first}"
        )


def _alert(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """A failed or crashed sweep is loud: the operators hear of it (codes and counts only)."""
    from oja.adapters.notify import alert_operators

    alert_operators(
        get_settings(),
        f"OJA: {flow.name} {(state.name or state.type.value).lower()}",
        f"Run {flow_run.name} ended {state.name}: {state.message or ''}\nOpen the run in the Prefect UI.",
    )


@flow(
    name="dagelijkse-herinneringen",
    flow_run_name=dated_run_name("herinneringsronde", "sweep_date"),
    on_failure=[_alert],
    on_crashed=[_alert],
)
def daily_sweep(sweep_date: dt.date | None = None, send: bool = True) -> dict[str, Any]:
    """Daily: reminders before reviews, due-day notices, escalation of overdue work, weekly digests; then the
    worklist of every school, an empty one too (one task run).

    Args:
        sweep_date: De schooldag van de ronde. Leeg laten voor vandaag.
        send: Uitvinken om de berichten alleen klaar te zetten, niet te versturen.
    """
    day = sweep_date or amsterdam_today()
    result: dict[str, Any]
    if not send:
        result = {"planned": plan_notices(day)}
    else:
        planned, dispatched = plan_and_send(day)
        result = {"planned": planned, "dispatch": dispatched}
    result["worklists"] = refresh_worklists(every_school(), day)  # once the notices are planned
    if send:
        _raise_if_incomplete(result["dispatch"])
    return result


@flow(
    name="berichten-versturen",
    flow_run_name=dated_run_name("berichten versturen", with_time=True),
    on_failure=[_alert],
    on_crashed=[_alert],
)
def send_pending() -> dict[str, Any]:
    """Send whatever is still pending in the outbox (after a mail server outage, for instance)."""
    report = dispatch_outbox()
    _raise_if_incomplete(report)
    return report
