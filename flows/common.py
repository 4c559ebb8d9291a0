"""Shared by the flows of every phase: one use case in one transaction, its event, run names from references.

A refusal by the engine (an illegal transition, missing consent, an unknown code) fails the run with a
message that names the field and the rule; nothing is written then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Flow, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.runtime import flow_run

from models.errors import ActionRefused, OjaError
from models.lifecycle import AuditAction
from models.schooldays import today as amsterdam_today
from oja.services.kernel import CaseOutcome, execute

P = ParamSpec("P")
R = TypeVar("R")
Result = dict[str, Any]  # what a run returns: codes and references only, stored as JSON


def case_flow(name: str, run_prefix: str) -> Callable[[Callable[P, R]], Flow[P, R]]:
    """A flow of a professional action: runs named from the form's reference (`run_name`), results kept.

    A run's result (the case reference, `joined`, the planned review date: codes only, never personal data)
    is kept as JSON where Prefect keeps results (PREFECT_HOME/storage, the same for the server and the
    workers that `oja start` starts), so the UI and the API can read it back.
    """
    return flow(name=name, flow_run_name=run_name(run_prefix), persist_result=True, result_serializer="json")


def run_name(prefix: str) -> Callable[[], str]:
    """A run name from the case or pupil reference in the form, never from personal data."""

    def name() -> str:
        form = flow_run.parameters.get("form", {})
        data = form if isinstance(form, dict) else form.model_dump()
        ref = data.get("case_ref") or data.get("pupil_ref") or data.get("request_ref") or ""
        return f"{prefix} {ref}".strip()

    return name


def run_use_case(action: str, use_case: Callable[..., R], **kwargs: Any) -> R:
    """One use case in one transaction (a refusal of access audited); a refusal fails the run with its message."""
    try:
        return execute(use_case, **kwargs)
    except OjaError as exc:
        get_run_logger().error("%s geweigerd: %s", action, exc)
        raise ActionRefused(str(exc)) from None


@task(name="wijziging-vastleggen", cache_policy=NO_CACHE)
def commit(action: str, use_case: Callable[..., CaseOutcome], **kwargs: Any) -> Result:
    """Run one use case in one transaction: the change and its audit record commit together or not at all."""
    outcome = run_use_case(action, use_case, **kwargs)
    logger = get_run_logger()
    logger.info("%s: %s -> %s (niveau %s)", outcome.case_ref, outcome.action, outcome.state, outcome.level)
    emit_transition_event(outcome)
    return outcome.as_dict()


# the Prefect event per audited action: `oja.arrangement.<name>` (automations listen for these names)
EVENT_NAMES: dict[AuditAction, str] = {
    AuditAction.REGISTER_SIGNAL: "signalled",
    AuditAction.JOIN_SIGNAL: "signal-joined",
    AuditAction.TRIAGE_BASIC: "triaged",
    AuditAction.TRIAGE_OJA: "triaged",
    AuditAction.TRIAGE_SPECIALISED: "triaged",
    AuditAction.TRIAGE_NO_ACTION: "triaged",
    AuditAction.DRAFT_PLAN: "plan-drafted",
    AuditAction.RECORD_CONSENT: "consent-recorded",
    AuditAction.CONSENT_COMPLETE: "consented",
    AuditAction.ACTIVATE: "activated",
    AuditAction.RECORD_REVIEW: "reviewed",
    AuditAction.RECORD_MEASUREMENT: "measured",
    AuditAction.CONTINUE: "continued",
    AuditAction.SCALE_UP: "scaled-up",
    AuditAction.SCALE_DOWN: "scaled-down",
    AuditAction.CLOSE: "closed",
    AuditAction.ESCALATE: "escalated",
    AuditAction.REFERRAL_ACCEPTED: "referral-accepted",
    AuditAction.RETURN: "returned",
    AuditAction.REOPEN: "reopened",
}


def emit_transition_event(outcome: CaseOutcome) -> None:
    """A Prefect event per change, with the case reference and codes only (e.g. `oja.arrangement.escalated`)."""
    emit_event(
        event=f"oja.arrangement.{EVENT_NAMES.get(AuditAction(outcome.action), outcome.action)}",
        resource={"prefect.resource.id": f"oja.case.{outcome.case_ref}", "prefect.resource.name": outcome.case_ref},
        payload={"action": outcome.action, "state": outcome.state, "level": outcome.level},
    )


def day(value: dt.date | None) -> dt.date:
    return value or amsterdam_today()
