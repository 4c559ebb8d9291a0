"""Every dossier form is read here, strictly: a field name or value that is not valid UTF-8 (`%FF`, `%C0%AF`, an
encoded surrogate `%ED%A0%80`, a raw byte) is refused with a 400 page naming the field, before any page's code runs.
Starlette would read it as U+FFFD (or as Latin-1 in a multipart form) and the name would be stored like that.

`StrictFormRoute` is the route class of the dossier's app and routers: its requests parse their forms with the
strict parsers below, and a refused form (`FormRefused`), or a form over Starlette's limits, is answered in Dutch.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import HTTPException, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

from oja.dossier.security import page

# the forms' fields as their labels name them, for the refusal; any other field by its own name
LABELS = {
    "given_name": "Roepnaam",
    "family_name": "Achternaam",
    "birth_date": "Geboortedatum",
    "bsn": "BSN",
    "onderwijsnummer": "Onderwijsnummer",
    "municipality_code": "Woongemeente",
    "parent_1": "Ouder 1",
    "parent_2": "Ouder 2",
    "code": "Code",
    "provider_code": "Aanbieder",
    "professional_code": "Professional",
    "school_code": "School",
    "capacity": "Aantal plaatsen",
    "hours_per_week": "Uur per week",
    "gebruikersnaam": "Gebruikersnaam",
    "wachtwoord": "Wachtwoord",
    "bestand": "CSV-bestand",
}
NOT_UTF8 = "bevat tekens die geen geldige tekst zijn (geen UTF-8): typ de tekst opnieuw"
TOO_MUCH = "heeft te veel velden, of een veld dat te lang is"


class FormRefused(HTTPException):
    """A form that cannot be read as text: the field (its label) and the rule. An HTTPException, so that FastAPI
    passes it on unchanged while it reads a form for a page's parameters."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(400, f"{field}: {rule}")
        self.field, self.rule = field, rule


def _text(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")  # strict: surrogates and overlong forms are refused too
    except UnicodeDecodeError:
        raise FormRefused(name, NOT_UTF8) from None


def _label(raw: bytes) -> str:
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "een veldnaam"
    return LABELS.get(name, name[:40] or "een veld zonder naam")


class StrictFormParser(FormParser):
    """An urlencoded form whose percent-decoded bytes must be UTF-8 (Starlette's replaces what is not)."""

    def on_field_end(self) -> None:
        self._current_fields += 1
        if self._current_fields > self.max_fields:
            raise MultiPartException(TOO_MUCH)
        raw_name = unquote_to_bytes(bytes(self._field_name).replace(b"+", b" "))
        raw_value = unquote_to_bytes(bytes(self._field_value).replace(b"+", b" "))
        name = _text(raw_name, _label(raw_name))
        self._items.append((name, _text(raw_value, _label(raw_name))))


class StrictMultiPartParser(MultiPartParser):
    """A multipart form whose text fields must be UTF-8 (Starlette's reads them as Latin-1 then); files are bytes."""

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is None:
            self.items.append((part.field_name, _text(bytes(part.data), LABELS.get(part.field_name, part.field_name))))
        else:
            super().on_part_end()


class StrictFormRequest(Request):
    async def _get_form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        if self._form is None:
            content_type, _ = parse_options_header(self.headers.get("Content-Type"))
            try:
                if content_type == b"multipart/form-data":
                    parser = StrictMultiPartParser(
                        self.headers,
                        self.stream(),
                        max_files=max_files,
                        max_fields=max_fields,
                        max_part_size=max_part_size,
                    )
                    self._form = await parser.parse()
                elif content_type == b"application/x-www-form-urlencoded":
                    self._form = await StrictFormParser(
                        self.headers, self.stream(), max_fields=max_fields, max_part_size=max_part_size
                    ).parse()
                else:
                    self._form = FormData()
            except MultiPartException:
                raise FormRefused("het formulier", TOO_MUCH) from None
        return self._form


class StrictFormRoute(APIRoute):
    """A dossier route: its form read by `StrictFormRequest`; a refused form answered with a 400 page in Dutch."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            try:
                return await handler(StrictFormRequest(request.scope, request.receive))
            except FormRefused as exc:
                return page(request, "bad_form.html", None, 400, field=exc.field, rule=exc.rule)

        return strict


HTTP_RULES = {
    404: ("adres", "deze pagina bestaat niet"),
    405: ("adres", "deze pagina kan zo niet worden gebruikt"),
}


async def http_error_page(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such page, a wrong method, a form it could not read) as a page in Dutch,
    instead of its JSON in English."""
    status = getattr(exc, "status_code", 400)
    field, rule = HTTP_RULES.get(status, ("het verzoek", "kon niet worden verwerkt"))
    return page(request, "not_found.html", None, status, error=FormRefused(field, rule))
