"""The forms in the Prefect UI offer the known codes as labelled choices: `publish_choices`.

Each deployment keeps its form as a JSON schema on the Prefect server (`parameter_openapi_schema`, made by
`prefect deploy` from `flows/forms.py`). `publish_choices` rewrites, in the schema of every deployment of
this project's flows, each code field (`school_code`, `provider_code`, `professional_code`, `regie_holder`,
`actor`, `group_code`, also inside nested forms such as a plan's interventions) into a choice between two
lists, keeping its title and help text:

- *Kiezen*: the labels (`PRF-0001 — zorgcoördinator 10HV`), what people pick; the form keeps the code
  (`oja.services.choices.code_of`);
- *Code*: the bare codes, what the API and the tests send.

Prefect 3.8's UI shows no other labels at scale: it shows an `enum` by its values (a searchable list in the
default UI, a select in the old one; `enumNames` and `x-enumNames` are ignored), and `anyOf`/`oneOf` of
`const`s as one row of tabs, one per choice, wider than the page beyond a few codes (the old UI cannot set
a `const` at all). The server checks a run's parameters against the schema (`enforce_parameter_schema`,
on for `prefect deploy`), so a code that is not known is refused before a run exists.

A kind without reference data keeps its plain code field (the form's own `x-oja-plain` is kept in the
field to return to). Publishing again with the same codes changes nothing. Run it after the deployments
are made (`oja start`) and after every change of reference data (`oja forms publish`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.client.schemas.responses import DeploymentResponse
from sqlalchemy import Engine
from sqlmodel import Session

from oja.config import PROJECT_DIR
from oja.services.choices import Choice, Kind, known_codes

CODE_FIELDS: dict[str, Kind] = {
    "school_code": "schools",
    "provider_code": "providers",
    "professional_code": "workers",  # who may deliver: a provider's youth workers
    "regie_holder": "regie_holders",  # who may hold regie: the core team (models.access.REGIE_ROLES)
    "actor": "professionals",
    "group_code": "groups",
}
PLAIN = "x-oja-plain"  # the field's own type and check, as the form declares them
PLAIN_KEYS = ("type", "pattern", "minLength", "maxLength", "format")
# a field's own list of the family's parties (`flows.form_fields.ConsentActor`): kept as a third alternative, which
# only the family's page uses (the gateway refuses it from a professional, the engine without the party's request)
FAMILY_ACTORS = "x-oja-gezin"
FAMILY = "Gezin (alleen via de eigen pagina van ouder of leerling)"
PICK, CODE = "Kiezen", "Code"  # the two tabs of a code field
PAGE = 200  # deployments read per request
# the flows' parameters, in Dutch (Prefect titles a parameter by its name; its description is the flow's docstring)
PARAMETER_TITLES = {
    "form": "Formulier",  # every lifecycle step's one parameter
    "day": "Dag",  # 16 Monitoring
    "sweep_date": "Dag van de ronde",  # 17 Herinneringsronde
    "send": "Berichten versturen",
}


def publish_choices(engine: Engine, client: SyncPrefectClient) -> int:
    """Offer the known codes in the forms of every deployment of this project's flows on the server of
    `client`; the number of deployments whose form changed (0 when they were up to date)."""
    with Session(engine) as session:
        choices = known_codes(session)
    updated = 0
    for deployment in project_deployments(client):
        current = deployment.parameter_openapi_schema or {}
        wanted = with_choices(current, choices)
        if wanted != current:
            client.update_deployment(deployment.id, DeploymentUpdate(parameter_openapi_schema=wanted))
            updated += 1
    return updated


def project_deployments(client: SyncPrefectClient) -> Iterator[DeploymentResponse]:
    """The deployments whose entrypoint is a flow in this project's `flows/` (`flows/intake.py:triage`, as
    prefect.yaml declares them), whatever they are named."""
    offset = 0
    while True:
        page = client.read_deployments(limit=PAGE, offset=offset)
        for deployment in page:
            path, _, function = (deployment.entrypoint or "").partition(":")
            if path.startswith("flows/") and function and (PROJECT_DIR / path).is_file():
                yield deployment
        if len(page) < PAGE:
            return
        offset += PAGE


def with_choices(schema: Mapping[str, Any], choices: Mapping[Kind, Sequence[Choice]]) -> dict[str, Any]:
    """A copy of a parameter schema whose code fields offer these choices, in every (nested) form, and whose
    parameters are titled in Dutch."""
    patched = copy.deepcopy(dict(schema))
    _patch(patched, choices)
    _titled(patched)
    return patched


def _titled(schema: dict[str, Any]) -> None:
    """A flow's parameters titled in Dutch: Prefect titles each by its name (`form`, `sweep_date`), whatever the
    flow declares, and describes it from the flow's docstring (`Args:`). A form without a description of its own
    takes its form's (the model's docstring, `flows/forms.py`)."""
    definitions = schema.get("definitions", {})
    for name, parameter in schema.get("properties", {}).items():
        if not isinstance(parameter, dict):
            continue
        if name in PARAMETER_TITLES and parameter.get("title") in (None, name):
            parameter["title"] = PARAMETER_TITLES[name]
        ref = str(parameter.get("$ref", ""))
        form = definitions.get(ref.rpartition("/")[2]) if ref.startswith("#/definitions/") else None
        if not parameter.get("description") and isinstance(form, dict) and form.get("description"):
            parameter["description"] = form["description"]


def _patch(node: Any, choices: Mapping[Kind, Sequence[Choice]]) -> None:
    if isinstance(node, list):
        for item in node:
            _patch(item, choices)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _patch(value, choices)
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, field in properties.items():
            kind = CODE_FIELDS.get(name)
            if kind is not None and _is_code_field(field):
                properties[name] = _offer(field, choices.get(kind, ()))


def _is_code_field(field: Any) -> bool:
    """A plain code field (a string, not a list or a date), or one that offers choices already."""
    if not isinstance(field, dict):
        return False
    return PLAIN in field or (field.get("type") == "string" and not {"enum", "const", "anyOf", "format"} & field.keys())


def _plain(field: dict[str, Any]) -> dict[str, Any]:
    """The field as the form declares it, without any choices."""
    if PLAIN not in field:
        return dict(field)
    kept = {k: v for k, v in field.items() if k not in ("anyOf", PLAIN)}
    return {**kept, **field[PLAIN]}


def _offer(field: dict[str, Any], options: Sequence[Choice]) -> dict[str, Any]:
    plain = _plain(field)
    if not options:
        return plain
    spec = {k: plain[k] for k in PLAIN_KEYS if k in plain}
    kept = {k: v for k, v in plain.items() if k not in PLAIN_KEYS}
    family = kept.get(FAMILY_ACTORS)  # the consent step's actor: a party giving their own consent (issue 26, 4)
    return {
        **kept,
        "anyOf": [
            {"title": PICK, "type": "string", "enum": [c.label for c in options]},
            {"title": CODE, **spec, "enum": [c.code for c in options]},
            *([{"title": FAMILY, "type": "string", "enum": list(family)}] if isinstance(family, list) else []),
        ],
        PLAIN: spec,
    }
