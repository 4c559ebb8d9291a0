"""Form errors for people: every wrong field of a form named by its Dutch title, with the rule, in Dutch.

Prefect's UI checks a form against its schema before a run starts, but only in English and one error
at a time; what reaches a run (a rule across fields, a call through the API) is checked here, and the
run ends with all errors in one Dutch message instead of a pydantic traceback.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

_MESSAGES: dict[str, str] = {
    "missing": "is verplicht",
    "extra_forbidden": "is geen veld van dit formulier",
    "string_type": "moet tekst zijn",
    "string_too_short": "is te kort",
    "string_too_long": "is te lang (hoogstens {max_length} tekens)",
    "int_type": "moet een geheel getal zijn",
    "int_parsing": "moet een geheel getal zijn",
    "int_from_float": "moet een geheel getal zijn",
    "float_type": "moet een getal zijn",
    "float_parsing": "moet een getal zijn",
    "bool_type": "moet ja of nee zijn",
    "bool_parsing": "moet ja of nee zijn",
    "date_type": "moet een datum zijn (jjjj-mm-dd)",
    "date_parsing": "moet een datum zijn (jjjj-mm-dd)",
    "date_from_datetime_parsing": "moet een datum zijn (jjjj-mm-dd)",
    "date_from_datetime_inexact": "moet een datum zijn, zonder tijd",
    "greater_than": "moet groter zijn dan {gt}",
    "greater_than_equal": "moet minstens {ge} zijn",
    "less_than": "moet kleiner zijn dan {lt}",
    "less_than_equal": "mag hoogstens {le} zijn",
    "too_short": "vraagt er minstens {min_length}",
    "too_long": "mag er hoogstens {max_length} hebben",
    "list_type": "moet een lijst zijn",
    "model_type": "moet een formulier (object) zijn",
    "dict_type": "moet een formulier (object) zijn",
}


def _rule(error: ErrorDetails, description: str | None) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    if kind == "enum":
        return f"kies één van: {ctx.get('expected', '').replace(' or ', ', ')}"
    if kind == "string_pattern_mismatch":
        example = re.search(r"[Bb]ijvoorbeeld ([^ ,;()]+?)\.?(?:\s|$|\))", description or "")
        return "heeft niet de juiste vorm" + (f" (bijvoorbeeld {example.group(1)})" if example else "")
    template = _MESSAGES.get(kind)
    if template is None:
        return "is ongeldig"
    return template.format(**ctx)


def _field_model(annotation: Any) -> type[BaseModel] | None:
    """The form (model) a field holds, directly or as the items of a list or an optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _field_model(arg)
        if found is not None:
            return found
    return None


def _where(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, str | None]:
    """The Dutch name of a field by its location (`Doelen 2 › Beginsituatie`), and its help text."""
    names: list[str] = []
    description = None
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            names[-1:] = [f"{names[-1]} {part + 1}"] if names else [str(part + 1)]
            continue
        field = current.model_fields.get(part) if current is not None else None
        if field is None:
            names.append(part)
            current = None
            continue
        names.append(field.title or part)
        description = field.description
        current = _field_model(field.annotation)
    return " › ".join(names), description


def dutch_errors(exc: ValidationError, model: type[BaseModel] | None) -> str:
    """Every error of a form, one per line: `Titel (veld): regel`."""
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        field = ".".join(str(p) for p in loc)
        if model is None or not loc:
            where, description = (field or "formulier"), None
        else:
            where, description = _where(model, loc)
        label = f"{where} ({field})" if field and where != field else (where or "formulier")
        lines.append(f"{label}: {_rule(error, description)}")
    return "\n".join(lines)


def titled(message: str, model: type[BaseModel] | None) -> str:
    """An engine refusal `field: rule` with the field's Dutch title in front: `Titel (field): rule`; a refusal of
    several fields (one per line) gets each line titled."""
    return "\n".join(_titled_line(line, model) for line in message.splitlines())


def _titled_line(message: str, model: type[BaseModel] | None) -> str:
    match = re.match(r"^([a-z_]+)(\[[^\]]*\])?(\.[a-z_.]+)?: ", message)
    if model is None or match is None:
        return message
    field = model.model_fields.get(match.group(1))
    if field is None or not field.title:
        return message
    return f"{field.title} ({message[: match.end() - 2]}): {message[match.end() :]}"
