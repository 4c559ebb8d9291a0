"""The family's consent page (issue 26, 4): `/gezin/toestemming`, where a parent with authority or the pupil gives,
refuses or withdraws their own consent to the current plan version, in plain words (Dutch, or English with
`?taal=en`).

Who acts comes from the family's login only (`family_security.serve_family`: their session, their authority and the
pupil's switch checked on every request); the form says yes or no and nothing else. A POST (with the session's CSRF
token) writes a request bound to the login, with its line in the access log, and commits it; then it starts the
consent step's run in Prefect (`family_consent_run`), which takes the request (`oja/services/consent.py`). Prefect
not reached: the request is marked not sent, the family reads in Dutch that it did not go through (503), and may
try again. The page says "ontvangen, wordt verwerkt" while the run is waiting, and what came of it once done.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from models.errors import InvalidInput, UnknownReference
from models.identity import age_on
from models.schooldays import today as amsterdam_today
from models.tables import Case, Pupil, utcnow
from models.tables_family import FamilyConsentRequest, FamilyLogin
from models.vocabulary import AccessAction, AccessOutcome
from oja.dossier import family_consent_run
from oja.dossier.family_security import FamilyMember, log_family, serve_family
from oja.dossier.forms import StrictFormRoute
from oja.dossier.pages_family_plan import _render, language
from oja.services import family_consent
from oja.services.family_view import FamilyView, family_view
from oja.services.logins import tokens_match
from oja.services.reads import current_plan

router = APIRouter(route_class=StrictFormRoute)
PATH = "/gezin/toestemming"
CSRF_RULE = "het formulier is verlopen of niet van deze site (CSRF)"


@dataclasses.dataclass(frozen=True)
class ConsentPage:
    view: FamilyView
    age: int
    needed: bool  # this party's consent is one the pupil's age asks for
    my_word: str | None  # "gegeven", "geweigerd", or None: not heard
    may_give: bool  # the plan waits for consent
    may_withdraw: bool  # consent was complete (or is being collected) and this party can say no
    request: FamilyConsentRequest | None  # this login's latest word sent on this case
    pending: bool  # sent, and its run has not taken it yet
    lapsed: bool  # sent, but never taken


def consent_page(session: Session, member: FamilyMember, case: Case | None, today: dt.date) -> ConsentPage:
    view = family_view(session, member.pupil_id, member.party, today)
    pupil = session.get(Pupil, member.pupil_id)
    assert pupil is not None
    plan = current_plan(session, case) if case is not None else None
    mine = next((c for c in view.consent if c.party == member.party), None)
    request = family_consent.latest(session, member.login_id, case) if case is not None else None
    now = utcnow()
    pending = request is not None and family_consent.waiting(request, now)
    lapsed = request is not None and request.status == family_consent.WAITING and not pending
    return ConsentPage(
        view=view,
        age=age_on(pupil.birth_date, today) if pupil.birth_date else 0,
        needed=mine is not None and mine.needed,
        my_word=mine.word if mine is not None and mine.word != "nog_niet" else None,
        may_give=family_consent.may_ask(case, plan, True) is None,
        may_withdraw=family_consent.may_ask(case, plan, False) is None,
        request=request,
        pending=pending,
        lapsed=lapsed,
    )


def _show(
    request: Request, session: Session, member: FamilyMember, case: Case | None, status: int = 200, **extra: Any
) -> Response:
    taal = language(request)
    try:
        shown = consent_page(session, member, case, amsterdam_today())
    except UnknownReference:
        return _render(request, "gone.html", taal, 404)
    return _render(
        request,
        "consent.html",
        taal,
        status,
        page=shown,
        view=shown.view,
        csrf=member.csrf,
        party=member.party,
        sent=request.query_params.get("verstuurd") == "1",
        **extra,
    )


@router.get(PATH)
def consent_form(request: Request) -> Response:
    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        log_family(session, request, member, AccessAction.VIEW_FAMILY_CONSENT, case_ref=case.ref if case else None)
        return _show(request, session, member, case)

    return serve_family(request, AccessAction.VIEW_FAMILY_CONSENT, body)


@router.post(PATH)
def consent_send(request: Request, antwoord: str = Form(""), csrf: str = Form("")) -> Response:
    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        ref = case.ref if case else None

        def refuse(rule: str, status: int) -> Response:
            log_family(
                session, request, member, AccessAction.FAMILY_CONSENT, outcome=AccessOutcome.REFUSED, case_ref=ref,
                reason=rule,
            )  # fmt: skip
            return _show(request, session, member, case, status, error=rule)

        if not tokens_match(member.csrf, csrf):
            return refuse(CSRF_RULE, 403)
        if antwoord not in ("ja", "nee"):
            return refuse("antwoord: kies ja of nee", 422)
        login = session.get(FamilyLogin, member.login_id)
        assert login is not None
        if case is None:
            return refuse("er is geen plan om toestemming voor te geven", 409)
        try:
            asked = family_consent.ask(session, login=login, case=case, granted=antwoord == "ja")
        except InvalidInput as exc:
            return refuse(exc.rule, 409)
        said = "gegeven" if asked.granted else "niet gegeven of ingetrokken"
        log_family(
            session, request, member, AccessAction.FAMILY_CONSENT, case_ref=ref,
            reason=f"toestemming {said}, plan v{asked.plan_version}, verzoek {asked.id}",
        )  # fmt: skip
        token, party, granted = asked.token, asked.party, asked.granted
        session.commit()  # the request and its line stand before the run can look for them
        try:
            family_consent_run.start_consent_run(case.ref or "", party, granted, token)
        except family_consent_run.PrefectUnreachable as exc:
            family_consent.not_sent(session, token)
            log_family(
                session, request, member, AccessAction.FAMILY_CONSENT, outcome=AccessOutcome.REFUSED, case_ref=ref,
                reason=f"niet verstuurd: Prefect niet bereikbaar ({exc})"[:300],
            )  # fmt: skip
            return _render(request, "unavailable.html", language(request), 503)
        taal = "&taal=en" if language(request) == "en" else ""
        return RedirectResponse(f"{PATH}?verstuurd=1{taal}", status_code=303)

    return serve_family(request, AccessAction.FAMILY_CONSENT, body)
