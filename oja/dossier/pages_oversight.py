"""Pages for oversight: the manager's (and team lead's) figures and evaluation report, in numbers only and
through the same small-numbers audit as the Prefect artifacts; the privacy officer's access log."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlmodel import Session

from models.errors import DisclosureError
from models.schooldays import today as amsterdam_today
from models.suppression import shown
from models.vocabulary import AccessAction
from oja.config import get_policy
from oja.dossier.forms import StrictFormRoute
from oja.dossier.security import REPORT_CSP, Refused, User, logged, page, serve
from oja.services import monitoring
from oja.services.access_log import CASE_REF, CASE_RULE, read_access_log
from oja.services.report import default_periods, render_report

router = APIRouter(route_class=StrictFormRoute)
ONLY_OVERSIGHT = "alleen managers en teamleiders zien de cijfers"


@router.get("/rapport")
def figures(request: Request) -> Response:
    def body(session: Session, user: User) -> Response:
        if not user.sees_reports:
            raise Refused(AccessAction.VIEW_REPORT, ONLY_OVERSIGHT)
        day = amsterdam_today()
        publication = monitoring.manager_tables(session, today=day, policy=get_policy())
        tables = [
            {
                "title": t.title,
                "key": t.key,
                "columns": t.columns,
                "rows": [[v if isinstance(v, str) else shown(v) for v in r.values()] for r in t.as_records()],
            }
            for t in publication.publishable
        ]
        logged(session, request, user, AccessAction.VIEW_REPORT, reason="cijfers")
        legend = monitoring.LEGEND
        return page(request, "figures.html", user, tables=tables, refused=publication.refused, legend=legend, day=day)

    return serve(request, AccessAction.VIEW_REPORT, body)


@router.get("/rapport/evaluatie")
def evaluation(request: Request) -> Response:
    def body(session: Session, user: User) -> Response:
        if not user.sees_reports:
            raise Refused(AccessAction.VIEW_REPORT, ONLY_OVERSIGHT)
        policy = get_policy()
        day = amsterdam_today()
        before, after = default_periods(day, policy.evaluation_split_date)
        try:
            html = render_report(session, before, after, rate=policy.hourly_rate_eur, today=day, part=True)
        except DisclosureError:  # a quiet period: its figures would single out a handful of pupils
            logged(session, request, user, AccessAction.VIEW_REPORT, reason="evaluatierapport niet gepubliceerd")
            return page(request, "report_withheld.html", user, before=before, after=after, legend=monitoring.LEGEND)
        logged(session, request, user, AccessAction.VIEW_REPORT, reason="evaluatierapport")
        shown = page(request, "report.html", user, report=Markup(html))  # the dossier's header: back, log out
        shown.headers["Content-Security-Policy"] = REPORT_CSP
        return shown

    return serve(request, AccessAction.VIEW_REPORT, body)


def _day(text: str, field: str, errors: dict[str, str]) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = "moet een datum zijn (dag, maand en jaar)"
        return None


@router.get("/toegangslog")
def access_log(
    request: Request,
    leerling: str = "",
    professional: str = "",
    van: str = "",
    tot: str = "",
    geweigerd: str = "",
    casus: str = "",
) -> Response:
    def body(session: Session, user: User) -> Response:
        if not user.reads_access_log:
            raise Refused(AccessAction.VIEW_ACCESS_LOG, "alleen de privacyfunctionaris leest het toegangslog")
        errors: dict[str, str] = {}
        since, until = _day(van, "van", errors), _day(tot, "tot", errors)
        case_ref = casus.strip().upper()
        if case_ref and not CASE_REF.fullmatch(case_ref):  # not a case: no lines shown, rather than every case's
            errors["casus"] = CASE_RULE
        entries = []
        if "casus" not in errors:
            entries = read_access_log(
                session,
                pupil_ref=leerling[:12],
                professional_code=professional[:12],
                since=since,
                until=until,
                refused_only=geweigerd == "1",
                case_ref=case_ref,
            )
        logged(
            session,
            request,
            user,
            AccessAction.VIEW_ACCESS_LOG,
            case_ref=case_ref if "casus" not in errors and case_ref else None,
            pupil_refs=[leerling.strip().upper()] if leerling.strip() else [],
            reason=f"gefilterd op {professional.strip().upper()}" if professional.strip() else None,
        )
        return page(
            request,
            "access_log.html",
            user,
            422 if "casus" in errors else 200,
            entries=entries,
            case=casus[:40],
            pupil=leerling,
            professional=professional,
            since=van,
            until=tot,
            refused_only=geweigerd == "1",
            errors=errors,
        )

    return serve(request, AccessAction.VIEW_ACCESS_LOG, body)
