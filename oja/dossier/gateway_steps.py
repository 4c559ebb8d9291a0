"""A step through the gateway: a run of a deployment bound to the person who is logged in, and a retry, cancel or
resume of one's own run. The rules (who, which actor, which state) are `models/prefect_access.py`'s; here they are
applied to the request's body and to what Prefect says about the deployment or run, then passed on and logged.

- A run of a lifecycle deployment (01-14): the form's `actor` filled in when empty, refused when it names someone
  else; no `job_variables`; a new run starts Scheduled; tagged `door:<code>` (and never another's `door:` tag).
- A run of any other deployment (the scheduled work): the operator only.
- A new run carries the gateway's own idempotency key: the gateway tries a Submit again when Prefect is busy or does
  not answer (`gateway_proxy.py`), and a try sent twice finds the run the first made instead of making another.
- A retry or cancel: a run of a lifecycle step whose actor is the person; the operator any run, any state.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models.prefect_access import Kind, StepRefused, actor_of, bind_actor, run_tags, state_change_allowed
from models.vocabulary import AccessAction, AccessOutcome, Role
from oja.deployments import LIFECYCLE_FLOWS
from oja.dossier.gateway_log import Journal
from oja.dossier.gateway_proxy import MAX_BODY, BodyTooLarge, Proxy, Upstream, no_constant, read_body
from oja.dossier.security import User


def refusal(rule: str, status: int = 403) -> JSONResponse:
    return JSONResponse({"detail": f"Geweigerd: {rule}."}, status)


async def body_json(request: Request) -> dict[str, Any]:
    try:
        body = await read_body(request)
    except BodyTooLarge:
        raise StepRefused("inhoud", f"is te groot (meer dan {MAX_BODY // 1000} kB)", 413) from None
    try:
        data = json.loads(body or b"{}", parse_constant=no_constant)  # NaN, Infinity: not JSON
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise StepRefused("inhoud", "is geen geldige JSON", 422) from None
    if not isinstance(data, dict):
        raise StepRefused("inhoud", "moet een JSON-object zijn", 422)
    return data


def _form(parameters: object) -> dict[str, Any]:
    given = parameters.get("form") if isinstance(parameters, dict) else None
    return given if isinstance(given, dict) else {}


async def start_run(
    request: Request, user: User, proxy: Proxy, upstream: Upstream, journal: Journal, deployment_id: str
) -> Response:
    """`POST /deployments/{id}/create_flow_run`, checked and bound, passed on, logged either way."""
    operator = user.role == Role.OPERATOR.value
    step: str | None = None
    form: dict[str, Any] = {}
    try:
        found = await proxy.deployment(upstream, deployment_id)
        if found is None:
            raise StepRefused("deployment", "deze stap bestaat niet (meer) in Prefect", 404)
        flow, step = found
        body = await body_json(request)
        form = _form(body.get("parameters"))
        lifecycle = flow in LIFECYCLE_FLOWS
        if not lifecycle and not operator:
            raise StepRefused(
                "deployment", f"{step} is geen stap van de levenscyclus: alleen de beheerder start die", 403
            )
        if body.get("job_variables") and not operator:
            raise StepRefused("job_variables", "alleen de beheerder mag die bij een run zetten")
        state = body.get("state")
        if state is not None and not (isinstance(state, dict) and str(state.get("type", "")).upper() == "SCHEDULED"):
            raise StepRefused("state", "een nieuwe run begint als Scheduled")
        if lifecycle:
            body["parameters"] = bind_actor(body.get("parameters"), user.code)
            form = body["parameters"]["form"]
        body["tags"] = run_tags(body.get("tags"), user.code)
        # the gateway's own key, never the client's (another's key would answer with another's run): a try the
        # gateway sends again finds the run an earlier try made instead of making a second one
        body["idempotency_key"] = f"oja-submit-{uuid.uuid4()}"
    except StepRefused as refused:
        await journal.step(request, user, AccessAction.STEP_STARTED, AccessOutcome.REFUSED, step, None, form,
                           reason=str(refused))  # fmt: skip
        return refusal(str(refused), refused.status)
    response, answer = await proxy.forward_json(request, upstream, body, submit=True)
    run_id = answer.get("id") if isinstance(answer, dict) and response.status_code < 400 else None
    outcome = AccessOutcome.ALLOWED if run_id else AccessOutcome.REFUSED
    reason = f"{step} gestart" if run_id else f"Prefect weigerde de run ({response.status_code})"
    await journal.step(request, user, AccessAction.STEP_STARTED, outcome, step, run_id, form, reason=reason)
    return response


async def change_run(
    request: Request, user: User, proxy: Proxy, upstream: Upstream, journal: Journal, run_id: str, kind: Kind
) -> Response:
    """`POST /flow_runs/{id}/set_state` (a retry, a cancel) or `/resume`: one's own run of a lifecycle step."""
    operator = user.role == Role.OPERATOR.value
    step: str | None = None
    form: dict[str, Any] = {}
    try:
        body = await body_json(request)
        run = await proxy.read(upstream, f"/flow_runs/{run_id}")
        if run is None:
            raise StepRefused("flow_run", "deze run bestaat niet", 404)
        parameters = run.get("parameters") or {}
        form = _form(parameters)
        found = await proxy.deployment(upstream, run["deployment_id"]) if run.get("deployment_id") else None
        step = found[1] if found else None
        if not operator:
            if found is None or found[0] not in LIFECYCLE_FLOWS:
                raise StepRefused("flow_run", "alleen runs van stappen van de levenscyclus", 403)
            if actor_of(parameters) != user.code:
                raise StepRefused("flow_run", "alleen uw eigen stappen: deze run is gezet door een ander", 403)
            if kind == Kind.RUN_STATE and not state_change_allowed(body.get("state")):
                raise StepRefused("state", "u kunt een eigen run alleen opnieuw starten of annuleren")
        if kind == Kind.RESUME and isinstance(body.get("run_input"), dict) and "actor" in body["run_input"]:
            body["run_input"] = bind_actor({"form": body["run_input"]}, user.code)["form"]
    except StepRefused as refused:
        await journal.step(request, user, AccessAction.RUN_CHANGED, AccessOutcome.REFUSED, step, run_id, form,
                           reason=str(refused))  # fmt: skip
        return refusal(str(refused), refused.status)
    response, _ = await proxy.forward_json(request, upstream, body)
    outcome = AccessOutcome.ALLOWED if response.status_code < 400 else AccessOutcome.REFUSED
    what = "hervat" if kind == Kind.RESUME else f"naar {str((body.get('state') or {}).get('type', '')).lower()}"
    reason = f"run {what} ({response.status_code})"
    await journal.step(request, user, AccessAction.RUN_CHANGED, outcome, step, run_id, form, reason=reason)
    return response
