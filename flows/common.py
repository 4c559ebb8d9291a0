"""Shared by the flows of every phase: the form checked, one use case in one transaction, its event, its
result on the run, run names and tags from references.

A refusal by the engine (an illegal transition, missing consent, an unknown code) or a wrong form ends the
run Failed with a Dutch message that names the field and the rule, without a traceback; nothing is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import inspect
import re
import typing
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar, cast
from uuid import UUID

from prefect import Flow, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import ArtifactCreate
from prefect.client.schemas.objects import State
from prefect.context import FlowRunContext
from prefect.events import emit_event
from prefect.runtime import flow_run
from prefect.states import Completed, Failed
from pydantic import BaseModel, TypeAdapter, ValidationError

from flows import form_fields
from flows.form_errors import dutch_errors, titled
from flows.result import STEP_TITLES, refusal_markdown, result_markdown, result_title, summary
from flows.run_client import run_client
from flows.worklist import publish_pending, publish_when_completed
from models.errors import ActionRefused, OjaError
from models.lifecycle import AuditAction
from models.schooldays import today as amsterdam_today
from oja.adapters.db import unit_of_work
from oja.adapters.step_links import deployment_ids, step_links, ui_url
from oja.config import get_policy
from oja.services.kernel import CaseOutcome, execute
from oja.services.status import CaseStatus, case_status, next_steps
from oja.services.worklist import ANSWER_REFERRAL

# the one line a recorded step's run ends with (its state message), set when its result is shown
RUN_SUMMARY: ContextVar[str | None] = ContextVar("oja_run_summary", default=None)

P = ParamSpec("P")
R = TypeVar("R")
Result = dict[str, Any]  # what a run returns: codes and references only, stored as JSON


def case_flow(name: str, run_prefix: str) -> Callable[[Callable[P, R]], Flow[P, R]]:
    """A flow of a professional action: its form checked in Dutch, its result shown on the run, results kept.

    - The form is checked here, not by Prefect: a wrong value ends the run Failed with every wrong field
      named by its Dutch title and rule (`flows.form_errors`), without a traceback in the logs.
    - A refusal by the engine (`commit` raises `ActionRefused`) ends the run the same way.
    - Either way the run gets a markdown artifact saying nothing was recorded (`flows.result`), and the run's
      state message is the Dutch message alone (the first thing its page shows).
    - A step that was recorded ends Completed with a message of one line: what changed, and where its result
      artifact is (`RUN_SUMMARY`, set by `show_result`): the run's own page leads to the result.
    - A run's result (the case reference, `joined`, the planned review date: codes only) is kept as JSON
      where Prefect keeps results (PREFECT_HOME/storage, the same for the server and the workers that
      `oja start` starts), so the UI and the API can read it back.
    """

    def decorate(fn: Callable[P, R]) -> Flow[P, R]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            hints = typing.get_type_hints(fn)
            raw = signature.bind(*args, **kwargs).arguments
            form = next(iter(raw.values()), None)
            model = _form_model(hints)
            try:
                values = {param: TypeAdapter(hints[param]).validate_python(value) for param, value in raw.items()}
            except ValidationError as exc:
                return _refuse(name, dutch_errors(exc, model), form)
            token = RUN_SUMMARY.set(None)
            try:
                result = fn(**values)  # type: ignore[call-arg]
            except ActionRefused as refusal:
                return _refuse(name, titled(str(refusal), model), form)
            finally:
                said = RUN_SUMMARY.get()
                RUN_SUMMARY.reset(token)
            if said is None:
                return result
            get_run_logger().info("%s", said)
            return Completed(message=said, data=result)  # the run's own page says it, and where the result is

        return cast(
            "Flow[P, R]",
            flow(
                name=name,
                flow_run_name=run_name(run_prefix),
                persist_result=True,
                result_serializer="json",
                validate_parameters=False,
                on_completion=[publish_pending],  # the school's worklist, after the person sees Completed
            )(run),
        )

    return decorate


def _form_model(hints: dict[str, Any]) -> type[BaseModel] | None:
    forms = [h for p, h in hints.items() if p != "return" and isinstance(h, type) and issubclass(h, BaseModel)]
    return forms[0] if forms else None


def _form_data(form: object) -> dict[str, Any]:
    if isinstance(form, BaseModel):
        return form.model_dump(mode="json")
    return dict(form) if isinstance(form, dict) else {}


# the references a run may be named and tagged by: only a value of their own form (a form that failed its
# check may hold anything in these fields, a name too, when the UI's check was switched off)
REFERENCES = (
    ("case_ref", re.compile(form_fields.CASE_REF_PATTERN)),
    ("pupil_ref", re.compile(form_fields.PUPIL_REF_PATTERN)),
    ("request_ref", re.compile(form_fields.REQUEST_REF_PATTERN)),
)


def _reference(form: object, *keys: str) -> str | None:
    """The first of these references in the form that has its own form (`OJA-2026-000123`), else None."""
    data = _form_data(form)
    for key, pattern in REFERENCES:
        value = data.get(key)
        if key in keys and isinstance(value, str) and pattern.fullmatch(value):
            return value
    return None


def _refuse(step: str, message: str, form: object) -> State:
    """End the run Failed with the Dutch message, without a traceback; nothing was recorded."""
    get_run_logger().warning("Niet vastgelegd (%s):\n%s", STEP_TITLES.get(step, step), message)
    case_ref = _reference(form, "case_ref")
    try:
        create_markdown_artifact(markdown=refusal_markdown(step, message, case_ref), description="Niet vastgelegd")
        if case_ref is not None:
            tag_run({f"casus:{case_ref}"})
    except Exception as exc:  # the refusal stands; showing it is best effort
        get_run_logger().warning("de weigering kon niet op de run worden getoond: %s", exc)
    return Failed(message=message.replace("\n", "; "))


def tag_run(tags: set[str], client: SyncPrefectClient | None = None) -> None:
    """Add tags to this flow run, so the Runs page filters one case's history or one school's work."""
    run_id = _run_id()
    if run_id is None:
        return
    context = FlowRunContext.get()
    known = getattr(getattr(context, "flow_run", None), "tags", None)  # the run's tags as its engine read them
    with contextlib.nullcontext(client) if client is not None else run_client() as api:
        current = set(known if known is not None else api.read_flow_run(run_id).tags)
        if not tags <= current:
            api.update_flow_run(run_id, tags=sorted(current | tags))


def _run_id() -> UUID | None:
    run_id = flow_run.get_id()
    return None if run_id is None else UUID(str(run_id))


def run_name(prefix: str) -> Callable[[], str]:
    """A run name from the case, pupil or request reference in the form, never from personal data."""

    def name() -> str:
        ref = _reference(flow_run.parameters.get("form", {}), "case_ref", "pupil_ref", "request_ref")
        return f"{prefix} {ref or ''}".strip()

    return name


REFUSED = "geweigerd"  # the key of a task's result when the engine refused its change


def refused(step: str, exc: OjaError) -> Result:
    """What a task returns when the engine refuses: the message, for the flow to end Failed with it.

    A refusal is expected (a person's input), not an operator's error: no failed task run, and no log line of
    its own (the flow says it once, in Dutch with each field's title: `_refuse`).
    """
    get_run_logger().debug("%s geweigerd: %s", step, exc)
    return {REFUSED: str(exc)}


def settle(result: Result) -> Result:
    """A task's result, or `ActionRefused` with the engine's message when it was refused (the run ends Failed)."""
    if REFUSED in result:
        raise ActionRefused(str(result[REFUSED]))
    return result


@task(name="wijziging-vastleggen", cache_policy=NO_CACHE)
def _commit(step: str, use_case: Callable[..., CaseOutcome], **kwargs: Any) -> Result:
    """Run one use case in one transaction: the change and its audit record commit together or not at all."""
    try:
        outcome = execute(use_case, **kwargs)
    except OjaError as exc:
        return refused(step, exc)
    logger = get_run_logger()
    logger.info("%s: %s -> %s (niveau %s)", outcome.case_ref, outcome.action, outcome.state, outcome.level)
    emit_transition_event(outcome)
    return outcome.as_dict()


def commit(step: str, use_case: Callable[..., CaseOutcome], **kwargs: Any) -> Result:
    """One use case in one transaction, then its result shown on the run; a refusal raises `ActionRefused`.

    `step` is the flow name of the step (`besluit-nemen`), as the result and the links name it.
    """
    result = settle(_commit(step, use_case, **kwargs))
    status = show_result(step, result)
    rec = status.recommendation if status is not None else None
    if rec is not None:  # after a review: what the engine recommends deciding, also in the run's return value
        result["recommendation"] = {"kind": rec.kind.value, "new_level": rec.new_level, "rule": rec.rule.value}
    return result


def show_result(step: str, outcome: Result) -> CaseStatus | None:
    """The step's result on the run (artifact), the run tagged with case and school, and the school's worklist
    kept to be refreshed when the run is Completed (that school only). Not a task: the artifacts belong to the
    flow run itself. One API client for all of it, the run's own (a new client costs a TLS set-up), and one look-up
    of the deployments for the links of both the result and the worklist (each look-up is two requests to the
    Prefect server, whose one process every run waits on).

    The change is committed already: trouble showing it is logged as a warning, not a failed step.
    """
    logger = get_run_logger()
    try:
        with unit_of_work() as session:
            status = case_status(session, case_ref=outcome["case_ref"], today=amsterdam_today(), policy=get_policy())
        # the case, not who took this step: whoever opens the result and follows a link is the one who acts
        # (the gateway fills in the professional logged in)
        prefill = {"case_ref": status.case_ref}
        rec = status.recommendation
        decision = {} if rec is None else {"kind": rec.kind.value, "new_level": rec.new_level}
        preset = {"besluit-nemen": {k: v for k, v in decision.items() if v is not None}}
        team = status.referral.district_team if status.referral is not None else ()
        if len(team) == 1:  # the district team answers a referral: their code, not whoever referred
            preset[ANSWER_REFERRAL] = {"actor": team[0]}
        steps = next_steps(status)
        with run_client() as client:
            ids = deployment_ids({*steps, *(row.next_step for row in status.worklist)}, client) if ui_url() else {}
            links = step_links(steps, prefill, preset, ids=ids)
            client.create_artifact(
                ArtifactCreate(
                    type="markdown",
                    data=result_markdown(step, outcome, status, links),
                    description=result_title(step, status.case_ref),
                    flow_run_id=_run_id(),
                )
            )
            RUN_SUMMARY.set(summary(step, outcome, status))
            tag_run({f"casus:{status.case_ref}", f"school:{status.school_code}"}, client)
        publish_when_completed(status.school_code, status.worklist, amsterdam_today(), ids)
    except Exception as exc:
        logger.warning("het resultaat kon niet op de run worden getoond: %s", exc)
        return None
    return status


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
    AuditAction.CONSENT_NOT_NEEDED: "consent-not-needed",
    AuditAction.WITHDRAW_CONSENT: "consent-withdrawn",
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
