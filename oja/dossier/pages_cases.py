"""My cases (the worklist with names), a case (who and what, in words), its goal texts, and the pupil's
subject-access export. Every page is for the cases in the user's scope (`models.access`) and is logged.

The steps themselves are taken in the Prefect UI: every row and case links to the form of its next step,
filled in with the case reference (or, for a pupil without a case, the pupil's pseudonym) and the user's code.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from models.access import GOALS_RULE, may_describe_goals, may_export
from models.errors import InvalidInput
from models.lifecycle import CaseState
from models.schooldays import today as amsterdam_today
from models.tables import Case, Pupil
from models.vocabulary import AccessAction, Role
from oja.adapters.step_links import DeploymentIds, form_url, ui_url
from oja.config import case_runs_url, get_policy
from oja.deployments import DEPLOYMENTS
from oja.dossier.forms import StrictFormRoute
from oja.dossier.security import Refused, User, csrf_ok, first_page, logged, page, serve
from oja.services.dossier import describe_goals, my_cases
from oja.services.dossier import subject_access as export_in_scope
from oja.services.dossier_case import case_view
from oja.services.worklist import ANSWER_REFERRAL, later_words, steps_now

router = APIRouter(route_class=StrictFormRoute)
deployments = DeploymentIds(DEPLOYMENTS)
NO_CASES = "deze rol ziet geen casussen"
SHOWN = 200  # rows on a page, the most urgent first: a provider's or district's caseload can run to thousands


def pupil_of_case(session: Session, case_ref: str) -> str:
    """The reference of a case's pupil, for the access log's line about a change of the case."""
    query = select(Pupil.ref).join(Case, col(Case.pupil_id) == col(Pupil.id))
    return session.exec(query.where(Case.ref == case_ref)).one()


def step_title(flow: str) -> str:
    return DEPLOYMENTS.get(flow, flow)


def step_link(flow: str, values: Mapping[str, object]) -> str | None:
    """A link to the flow's form in the Prefect UI, filled in with `values` (codes only); None while the Prefect
    server cannot be reached."""
    ids, ui = deployments.get(), ui_url()
    return form_url(ui, ids[flow], values) if flow in ids and ui else None


def case_step_link(flow: str, case_ref: str, user: User) -> str | None:
    """The link to a case's step, filled in with the case and the user's own code; none to the answer to a referral
    for anyone but a district team (only the pupil's district team answers: anyone else's code is refused)."""
    if flow == ANSWER_REFERRAL and user.role != Role.DISTRICT_TEAM.value:
        return None
    return step_link(flow, {"case_ref": case_ref, "actor": user.code})


@router.get("/")
def home(request: Request, geregistreerd: str = "", geimporteerd: str = "", alle: str = "") -> Response:
    def body(session: Session, user: User) -> Response:
        if first_page(user) != "/":  # a manager, a team lead of no school or provider, the privacy officer
            return RedirectResponse(first_page(user), status_code=303)
        own = user.role == Role.YOUTH_WORKER.value and alle != "1"  # their own cases, or all their provider's
        mine = my_cases(session, user.actor, today=amsterdam_today(), policy=get_policy(), own=own)
        rows, without = mine.cases[:SHOWN], mine.pupils_without_case[:SHOWN]
        shown = [row.pupil_ref for row in rows] + [row.pupil_ref for row in without]
        on_page = [(row.pupil_ref, row.case_ref) for row in rows]  # what is on the page: each row with its case
        logged(session, request, user, AccessAction.VIEW_WORKLIST, pupil_refs=shown, cases=on_page)
        school = user.actor.school_code
        cases = [(row, case_step_link(row.next_step, row.case_ref, user)) for row in rows]
        pupils = [
            (row, step_link(row.next_step, {"pupil_ref": row.pupil_ref, "school_code": school, "actor": user.code}))
            for row in without
        ]
        notice = None
        if geregistreerd.startswith("LL-") and geregistreerd in shown:
            notice = (
                f"Leerling {geregistreerd} is geregistreerd. Volgende stap: registreer het signaal in Prefect "
                "(de link staat hieronder bij de leerling)."
            )
        elif geimporteerd.isdigit():
            notice = f"{geimporteerd} leerlingen geïmporteerd; ze staan hieronder bij de leerlingen zonder casus."
        return page(
            request,
            "my_cases.html",
            user,
            mine=mine,
            cases=cases,
            pupils=pupils,
            notice=notice,
            step_title=step_title,
            highlight=geregistreerd,
            prefect_up=bool(deployments.get()),
            own=own,
            provider_worker=user.role == Role.YOUTH_WORKER.value,
            shown_max=SHOWN,
        )

    return serve(request, AccessAction.VIEW_WORKLIST, body)


@router.get("/casus/{case_ref}")
def case_page(request: Request, case_ref: str, opgeslagen: str = "") -> Response:
    def body(session: Session, user: User) -> Response:
        if not user.sees_cases:
            raise Refused(AccessAction.VIEW_CASE, NO_CASES, case_ref=case_ref.upper()[:20])
        view = case_view(session, user.actor, case_ref, today=amsterdam_today(), policy=get_policy())
        logged(session, request, user, AccessAction.VIEW_CASE, case_ref=view.case_ref, pupil_refs=[view.pupil.ref])
        # only the steps that can succeed today; the others with the day they can (an arrangement that starts later)
        flows, later = steps_now(
            CaseState(view.state), view.next_step, starts_on=view.activated_on, today=amsterdam_today()
        )
        steps = [(step_title(flow), case_step_link(flow, view.case_ref, user)) for flow in flows]
        return page(
            request,
            "case.html",
            user,
            case=view,
            steps=steps,
            later=[later_words(flow, day) for flow, day in later.items()],
            runs=case_runs_url(view.case_ref),
            saved=opgeslagen == "1",
            may_export=may_export(user.actor),
            may_describe=may_describe_goals(user.actor),
        )

    return serve(request, AccessAction.VIEW_CASE, body)


@router.get("/casus/{case_ref}/doelen")
def goals_form(request: Request, case_ref: str) -> Response:
    def body(session: Session, user: User) -> Response:
        if not user.sees_cases:
            raise Refused(AccessAction.DESCRIBE_GOALS, NO_CASES, case_ref=case_ref.upper()[:20])
        if not may_describe_goals(user.actor):
            raise Refused(AccessAction.DESCRIBE_GOALS, GOALS_RULE, case_ref=case_ref.upper()[:20])
        view = case_view(session, user.actor, case_ref, today=amsterdam_today(), policy=get_policy())
        logged(session, request, user, AccessAction.VIEW_CASE, case_ref=view.case_ref, pupil_refs=[view.pupil.ref])
        texts = {f"doel_{g.number}": g.description or "" for g in (view.plan.goals if view.plan else ())}
        return page(request, "goals.html", user, case=view, texts=texts, errors={})

    return serve(request, AccessAction.DESCRIBE_GOALS, body)


def goal_texts(fields: Mapping[str, str]) -> dict[int, str]:
    """The texts of the form's `doel_<n>` fields by goal number. A `doel_` field whose number is not one (`doel_²`,
    Arabic-Indic digits, a thousand nines) is refused by its name: `int()` would take some of those, or crash."""
    texts: dict[int, str] = {}
    for name, text in fields.items():
        if not name.startswith("doel_"):
            continue
        number = name.removeprefix("doel_")
        if not (number.isascii() and number.isdigit() and len(number) <= 4):
            raise InvalidInput(name[:24], "is geen doel van dit plan")
        texts[int(number)] = text
    return texts


@router.post("/casus/{case_ref}/doelen")
async def goals_save(request: Request, case_ref: str) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    fields = {k: str(v) for k, v in form.items()}

    def body(session: Session, user: User) -> Response:
        if not user.sees_cases:
            raise Refused(AccessAction.DESCRIBE_GOALS, NO_CASES, case_ref=case_ref.upper()[:20])
        if not csrf_ok(user.csrf, fields.get("csrf")):
            raise Refused(AccessAction.DESCRIBE_GOALS, "het formulier is verlopen of niet van deze site (CSRF)")
        texts: dict[int, str] = {}
        try:
            texts = goal_texts(fields)
            outcome = describe_goals(session, user.actor, case_ref, texts, today=amsterdam_today())
        except InvalidInput as exc:
            if not exc.field.startswith("doel"):
                raise
            session.rollback()  # nothing half-written
            view = case_view(session, user.actor, case_ref, today=amsterdam_today(), policy=get_policy())
            logged(session, request, user, AccessAction.VIEW_CASE, case_ref=view.case_ref, pupil_refs=[view.pupil.ref])
            given = {f"doel_{n}": t for n, t in texts.items()}
            return page(request, "goals.html", user, 422, case=view, texts=given, errors={exc.field: exc.rule})
        logged(
            session,
            request,
            user,
            AccessAction.DESCRIBE_GOALS,
            case_ref=outcome.case_ref,
            pupil_refs=[pupil_of_case(session, outcome.case_ref)],
            reason="doelteksten",
        )
        return RedirectResponse(f"/casus/{outcome.case_ref}?opgeslagen=1", status_code=303)

    return serve(request, AccessAction.DESCRIBE_GOALS, body)


@router.get("/leerling/{pupil_ref}/inzage")
def subject_access(request: Request, pupil_ref: str) -> Response:
    """Everything held about the pupil (AVG art. 15), as a JSON file to hand to the parents; logged."""

    def body(session: Session, user: User) -> Response:
        if not user.sees_cases:
            raise Refused(AccessAction.EXPORT_PUPIL, NO_CASES, pupil_ref=pupil_ref.upper()[:12])
        data = export_in_scope(session, user.actor, pupil_ref)  # only the cases in the user's scope
        ref = data["pupil"]["ref"]
        exported = [(ref, str(c["case"]["ref"])) for c in data["cases"]]  # a line per case in it, or one without
        reason = "inzage (AVG art. 15)"
        logged(session, request, user, AccessAction.EXPORT_PUPIL, pupil_refs=[ref], reason=reason, cases=exported)
        name = f"inzage-{ref}-{dt.date.today().isoformat()}.json"
        return Response(
            json.dumps(data, indent=2, ensure_ascii=False),
            media_type="application/json; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return serve(request, AccessAction.EXPORT_PUPIL, body)
