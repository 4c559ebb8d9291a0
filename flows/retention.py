"""Retention and erasure: the scheduled destruction of expired dossiers, and erasure requests.

A subject-access export holds personal data, so it is not a flow: `oja pupil export` writes it to a file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from flows import forms
from flows.common import RUN_SUMMARY, Result, case_flow, day, refused, settle, tag_run
from flows.result_erasure import DECIDE_STEP, erasure_markdown, erasure_summary, erasure_title
from flows.run_names import dated_run_name
from models.errors import OjaError
from models.schooldays import today as amsterdam_today
from models.tables import ErasureRequest
from oja.adapters.db import get_engine
from oja.adapters.step_links import step_links
from oja.config import get_policy
from oja.services import retention
from oja.services.kernel import execute


@flow(
    name="bewaartermijn", flow_run_name=dated_run_name("bewaartermijn"), persist_result=True, result_serializer="json"
)
def apply_retention() -> Result:
    """Destroy the dossiers whose last change is older than the retention term (default 20 years)."""
    policy = get_policy()
    report = retention.apply_retention(get_engine(), today=amsterdam_today(), policy=policy)
    get_run_logger().info(
        "%d dossier(s) of %d case(s) destroyed (term %d years)", report.pupils, report.cases, policy.retention_years
    )
    return report.as_dict()


def _commit(step: str, use_case: Callable[..., ErasureRequest], **kwargs: Any) -> Result:
    """The request in one transaction; a refusal raises `ActionRefused` (the run ends Failed, in Dutch). Then its
    result on the run, as every step's: what changed and what comes next (`flows.result_erasure`)."""
    result = settle(_record(step, use_case, **kwargs))
    _show(step, result)
    return result


def _show(step: str, result: Result) -> None:
    """The request's result on the run (artifact), the run's message, the run tagged by the request. Recorded
    already: trouble showing it is a warning, not a failed step."""
    try:
        ref = str(result["request_ref"])
        links = step_links([DECIDE_STEP], {"request_ref": ref}) if result.get("outcome") is None else {}
        create_markdown_artifact(markdown=erasure_markdown(step, result, links), description=erasure_title(ref))
        RUN_SUMMARY.set(erasure_summary(result))
        tag_run({f"verzoek:{ref}"})
    except Exception as exc:
        get_run_logger().warning("het resultaat kon niet op de run worden getoond: %s", exc)


@task(name="verzoek-vastleggen", cache_policy=NO_CACHE)
def _record(step: str, use_case: Callable[..., ErasureRequest], **kwargs: Any) -> Result:
    try:
        request = execute(use_case, **kwargs)
    except OjaError as exc:
        return refused(step, exc)
    result: Result = {
        "request_ref": request.ref,
        "pupil_ref": request.pupil_ref,
        "due_on": request.due_on.isoformat(),
        "outcome": request.outcome,
        "requested_by": request.requested_by,
        "refusal_reason": request.refusal_reason,
    }
    what = "decided" if result["outcome"] else "requested"
    emit_event(
        event=f"oja.erasure.{what}",
        resource={
            "prefect.resource.id": f"oja.erasure.{result['request_ref']}",
            "prefect.resource.name": request.ref,
        },
        payload={k: v for k, v in result.items() if k != "pupil_ref"},
    )
    get_run_logger().info(
        "%s: %s", result["request_ref"], result["outcome"] or f"te beslissen uiterlijk {result['due_on']}"
    )
    return result


@case_flow("verzoek-vernietiging-registreren", "vernietigingsverzoek")
def request_erasure(form: forms.RequestErasure) -> Result:
    """Register a request to destroy a dossier early; it is to be decided within 3 months, with reminders."""
    return _commit(
        "verzoek-vernietiging-registreren",
        retention.request_erasure,
        pupil_ref=form.pupil_ref,
        requested_by=form.requested_by,
        actor=form.actor,
        received_on=day(form.received_on),
        today=amsterdam_today(),
        policy=get_policy(),
    )


@case_flow("verzoek-vernietiging-beslissen", "besluit vernietiging")
def decide_erasure(form: forms.DecideErasure) -> Result:
    """Grant (the dossier is destroyed now, an audit record remains) or refuse with a stated reason."""
    return _commit(
        "verzoek-vernietiging-beslissen",
        retention.decide_erasure,
        request_ref=form.request_ref,
        grant=form.grant,
        refusal_reason=form.refusal_reason,
        actor=form.actor,
        today=amsterdam_today(),
    )
