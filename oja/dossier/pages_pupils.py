"""Registering pupils: one by one (a form that names every wrong field at once), or from a CSV export of the
school administration (a preview with every row's errors first, then all or nothing). Only a school's own
professionals register, and only for their own school."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from models.errors import InvalidInput
from models.identity import validate_birth_date, validate_bsn, validate_onderwijsnummer
from models.schooldays import today as amsterdam_today
from models.tables import Municipality, School
from models.vocabulary import AccessAction
from oja import services as sv
from oja.dossier.forms import StrictFormRoute
from oja.dossier.security import Refused, User, csrf_ok, logged, page, serve
from oja.services.import_previews import GONE, keep_preview, take_preview
from oja.services.kernel import clean_text
from oja.services.pupil_import import MAX_BYTES, PupilImportRefused, check_pupils, import_pupils, parse_pupils_csv

router = APIRouter(route_class=StrictFormRoute)
ONLY_SCHOOL = "alleen de professionals van een school registreren leerlingen, voor hun eigen school"
FIELDS = ("given_name", "family_name", "birth_date", "bsn", "onderwijsnummer", "municipality_code")


def _school_user(user: User, action: AccessAction) -> str:
    if not user.school_role or user.actor.school_code is None:
        raise Refused(action, ONLY_SCHOOL)
    return user.actor.school_code


def _municipalities(session: Session) -> list[tuple[str, str]]:
    return [(m.code, m.name) for m in session.exec(select(Municipality).order_by(col(Municipality.name))).all()]


def _field_errors(values: dict[str, str], today: dt.date) -> dict[str, str]:
    """Every field's first error, checked one by one (the service stops at the first)."""
    errors: dict[str, str] = {}

    def check(field: str, rule: Callable[[], Any]) -> None:
        try:
            rule()
        except InvalidInput as exc:
            errors[field] = exc.rule

    check("given_name", lambda: clean_text(values["given_name"], "given_name"))
    check("family_name", lambda: clean_text(values["family_name"], "family_name"))

    def birth() -> None:
        try:
            day = dt.date.fromisoformat(values["birth_date"])
        except ValueError:
            raise InvalidInput("birth_date", "vul een datum in (dag, maand en jaar)") from None
        validate_birth_date(day, today)

    check("birth_date", birth)
    if values["bsn"]:
        check("bsn", lambda: validate_bsn(values["bsn"]))
    if values["onderwijsnummer"]:
        check("onderwijsnummer", lambda: validate_onderwijsnummer(values["onderwijsnummer"]))
    if not values["bsn"] and not values["onderwijsnummer"]:
        errors["bsn"] = "vul een BSN in, of zonder BSN een onderwijsnummer"
    for n in (1, 2):
        if values[f"parent_{n}"]:
            check(f"parent_{n}", lambda n=n: clean_text(values[f"parent_{n}"], f"parent_{n}"))  # type: ignore[misc]
    return errors


@router.get("/leerlingen/nieuw")
def register_form(request: Request) -> Response:
    def body(session: Session, user: User) -> Response:
        school = _school_user(user, AccessAction.REGISTER_PUPIL)
        home = session.get(School, school)  # most pupils live where their school is
        values = {
            "municipality_code": home.municipality_code if home else "",
            "parent_1_gezag": "1",
            "parent_2_gezag": "1",
        }
        return page(
            request,
            "register.html",
            user,
            school=school,
            municipalities=_municipalities(session),
            values=values,
            errors={},
        )

    return serve(request, AccessAction.REGISTER_PUPIL, body)


@router.post("/leerlingen/nieuw")
def register(
    request: Request,
    csrf: str = Form(""),
    given_name: str = Form(""),
    family_name: str = Form(""),
    birth_date: str = Form(""),
    bsn: str = Form(""),
    onderwijsnummer: str = Form(""),
    municipality_code: str = Form(""),
    parent_1: str = Form(""),
    parent_1_gezag: str = Form(""),
    parent_2: str = Form(""),
    parent_2_gezag: str = Form(""),
) -> Response:
    values = {
        "given_name": given_name,
        "family_name": family_name,
        "birth_date": birth_date,
        "bsn": bsn.strip(),
        "onderwijsnummer": onderwijsnummer.strip(),
        "municipality_code": municipality_code.strip().upper(),
        "parent_1": parent_1.strip(),
        "parent_2": parent_2.strip(),
        "parent_1_gezag": parent_1_gezag,
        "parent_2_gezag": parent_2_gezag,
    }

    def body(session: Session, user: User) -> Response:
        school = _school_user(user, AccessAction.REGISTER_PUPIL)
        if not csrf_ok(user.csrf, csrf):
            raise Refused(AccessAction.REGISTER_PUPIL, "het formulier is verlopen of niet van deze site (CSRF)")
        today = amsterdam_today()
        errors = _field_errors(values, today)
        ref = None
        if not errors:
            try:
                ref = sv.register_pupil(
                    session,
                    given_name=given_name,
                    family_name=family_name,
                    birth_date=dt.date.fromisoformat(birth_date),
                    school_code=school,
                    municipality_code=values["municipality_code"],
                    bsn=values["bsn"] or None,
                    onderwijsnummer=values["onderwijsnummer"] or None,
                    parents=[
                        sv.ParentSpec(values[f"parent_{n}"], has_authority=bool(values[f"parent_{n}_gezag"]))
                        for n in (1, 2)
                        if values[f"parent_{n}"]
                    ],
                    today=today,
                )
            except InvalidInput as exc:
                session.rollback()  # nothing half-written (a pupil without the parent the service refused)
                field = exc.field if exc.field in FIELDS else exc.field.split(".")[0]
                errors[field if field in FIELDS else "given_name"] = exc.rule
        if ref is None:
            return page(
                request,
                "register.html",
                user,
                422,
                school=school,
                municipalities=_municipalities(session),
                values=values,
                errors=errors,
            )
        logged(session, request, user, AccessAction.REGISTER_PUPIL, pupil_refs=[ref])
        return RedirectResponse(f"/?geregistreerd={ref}", status_code=303)

    return serve(request, AccessAction.REGISTER_PUPIL, body)


@router.get("/leerlingen/import")
def import_form(request: Request) -> Response:
    def body(session: Session, user: User) -> Response:
        school = _school_user(user, AccessAction.PREVIEW_IMPORT)
        return page(request, "import.html", user, school=school, preview=None, parsed=None, preview_id="")

    return serve(request, AccessAction.PREVIEW_IMPORT, body)


@router.post("/leerlingen/import")
async def import_preview(request: Request) -> Response:
    """The uploaded file checked row by row, no pupil written: the preview, and (when every row is right) a
    button that imports the same file, kept on the server for this session (`import_previews`)."""
    form = await request.form(max_files=1, max_fields=5, max_part_size=MAX_BYTES + 1024)
    upload = form.get("bestand")
    data = await upload.read(MAX_BYTES + 1) if isinstance(upload, StarletteUpload) else b""
    return await run_in_threadpool(_preview, request, str(form.get("csrf", "")), data)


def _preview(request: Request, csrf: str, data: bytes) -> Response:
    def body(session: Session, user: User) -> Response:
        school = _school_user(user, AccessAction.PREVIEW_IMPORT)
        if not csrf_ok(user.csrf, csrf):
            raise Refused(AccessAction.PREVIEW_IMPORT, "het formulier is verlopen of niet van deze site (CSRF)")
        parsed = parse_pupils_csv(data)
        preview = check_pupils(session, parsed, today=amsterdam_today(), school_code=school)  # writes nothing
        logged(session, request, user, AccessAction.PREVIEW_IMPORT, reason=f"{len(preview.rows)} regels bekeken")
        status = 200 if preview.ok else 422
        now = dt.datetime.now(dt.UTC)
        kept = keep_preview(session, token=user.token, content=data, now=now) if preview.ok else ""
        return page(
            request, "import.html", user, status, school=school, preview=preview, parsed=parsed, preview_id=kept
        )

    return serve(request, AccessAction.PREVIEW_IMPORT, body)


@router.post("/leerlingen/import/bevestigen")
def import_confirm(request: Request, csrf: str = Form(""), voorvertoning: str = Form("")) -> Response:
    def body(session: Session, user: User) -> Response:
        school = _school_user(user, AccessAction.IMPORT_PUPILS)
        if not csrf_ok(user.csrf, csrf):
            raise Refused(AccessAction.IMPORT_PUPILS, "het formulier is verlopen of niet van deze site (CSRF)")
        content = take_preview(session, voorvertoning, token=user.token, now=dt.datetime.now(dt.UTC))
        if content is None:
            raise Refused(AccessAction.IMPORT_PUPILS, GONE)
        parsed = parse_pupils_csv(content)
        try:
            refs = import_pupils(session, parsed, today=amsterdam_today(), school_code=school)
        except PupilImportRefused:
            session.rollback()  # all or nothing (a row changed since the preview: none of them)
            preview = check_pupils(session, parsed, today=amsterdam_today(), school_code=school)
            return page(request, "import.html", user, 422, school=school, preview=preview, parsed=parsed, preview_id="")
        logged(session, request, user, AccessAction.IMPORT_PUPILS, pupil_refs=refs, reason=f"{len(refs)} leerlingen")
        return RedirectResponse(f"/?geimporteerd={len(refs)}", status_code=303)

    return serve(request, AccessAction.IMPORT_PUPILS, body)
