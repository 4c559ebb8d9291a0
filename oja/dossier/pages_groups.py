"""Group arrangements, for the operator (`beheerder`): every group with its provider, professional, school and places
(taken and in all), and a form that creates or changes one (every wrong field named at once, nothing written then).

Reference data is the operator's, as on the command line (`oja group set`): a group serves one school or several
and belongs to a provider, so no school's coordinator changes it. Codes and numbers only, no pupil; every view and
every change is in the access log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from models.tables import GroupArrangement, Professional, Provider, School
from models.vocabulary import AccessAction
from oja import services as sv
from oja.dossier.forms import StrictFormRoute
from oja.dossier.security import Refused, User, csrf_ok, logged, page, serve

router = APIRouter(route_class=StrictFormRoute)
ONLY_OPERATOR = "alleen de beheerder legt groepsarrangementen vast"
FIELDS = ("code", "provider_code", "professional_code", "school_code", "capacity", "hours_per_week")


def _operator(user: User, action: AccessAction) -> None:
    if not user.operator:
        raise Refused(action, ONLY_OPERATOR)


def _page(
    session: Session, request: Request, user: User, values: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    return page(
        request,
        "groups.html",
        user,
        status,
        groups=sv.list_groups(session),
        providers=[p.code for p in session.exec(select(Provider).order_by(col(Provider.code))).all()],
        professionals=[
            (p.code, p.provider_code)
            for p in session.exec(
                select(Professional)
                .where(col(Professional.provider_code).is_not(None))
                .order_by(col(Professional.code))
            ).all()
        ],
        schools=[s.code for s in session.exec(select(School).order_by(col(School.code))).all()],
        values=values,
        errors=errors,
        saved=request.query_params.get("opgeslagen", "")[:12],
    )


@router.get("/groepen")
def groups(request: Request, groep: str = "") -> Response:
    def body(session: Session, user: User) -> Response:
        _operator(user, AccessAction.VIEW_GROUPS)
        known = session.get(GroupArrangement, groep.strip().upper()[:12]) if groep.strip() else None
        values = (
            {
                "code": known.code,
                "provider_code": known.provider_code,
                "professional_code": known.professional_code,
                "school_code": known.school_code or "",
                "capacity": str(known.capacity),
                "hours_per_week": f"{known.hours_per_week:g}",
            }
            if known
            else {}
        )
        logged(session, request, user, AccessAction.VIEW_GROUPS)
        return _page(session, request, user, values, {}, 200)

    return serve(request, AccessAction.VIEW_GROUPS, body)


def _number(values: dict[str, str], field: str, kind: type[int] | type[float], errors: dict[str, str]) -> float:
    text = values[field].strip().replace(",", ".")
    try:
        if not text.isascii():  # int() and float() take Arabic-Indic and full-width digits too
            raise ValueError(text)
        return kind(text)
    except ValueError:
        errors[field] = "vul een geheel getal in" if kind is int else "vul een getal in"
        return 0


def _args(values: dict[str, str], places: int, hours: float, errors: dict[str, str]) -> dict[str, Any]:
    """The service's arguments; a number that was not one is checked as a valid one (its error is already named)."""
    return {
        "code": values["code"],
        "provider_code": values["provider_code"],
        "professional_code": values["professional_code"],
        "capacity": 2 if "capacity" in errors else places,
        "hours_per_week": 1.0 if "hours_per_week" in errors else hours,
        "school_code": values["school_code"] or None,
    }


@router.post("/groepen")
def save_group(
    request: Request,
    csrf: str = Form(""),
    code: str = Form(""),
    provider_code: str = Form(""),
    professional_code: str = Form(""),
    school_code: str = Form(""),
    capacity: str = Form(""),
    hours_per_week: str = Form(""),
) -> Response:
    values = {
        "code": code.strip().upper()[:40],
        "provider_code": provider_code.strip().upper()[:40],
        "professional_code": professional_code.strip().upper()[:40],
        "school_code": school_code.strip().upper()[:40],
        "capacity": capacity[:10],
        "hours_per_week": hours_per_week[:10],
    }

    def body(session: Session, user: User) -> Response:
        _operator(user, AccessAction.CHANGE_GROUP)
        if not csrf_ok(user.csrf, csrf):
            raise Refused(AccessAction.CHANGE_GROUP, "het formulier is verlopen of niet van deze site (CSRF)")
        errors: dict[str, str] = {}
        places = int(_number(values, "capacity", int, errors))
        hours = _number(values, "hours_per_week", float, errors)

        def check() -> None:
            for problem in sv.check_group(session, **_args(values, places, hours, errors)):
                errors.setdefault(problem.field if problem.field in FIELDS else "code", problem.rule)

        check()
        if errors:
            return _page(session, request, user, values, errors, 422)
        known = session.get(GroupArrangement, values["code"]) is not None
        sv.upsert_group(session, **_args(values, places, hours, errors))
        what = "gewijzigd" if known else "aangemaakt"
        logged(session, request, user, AccessAction.CHANGE_GROUP, reason=f"groep {values['code']} {what}")
        return RedirectResponse(f"/groepen?opgeslagen={values['code']}", status_code=303)

    return serve(request, AccessAction.CHANGE_GROUP, body)
