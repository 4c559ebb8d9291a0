"""A professional invites the family to their own page (issue 26): from the case page, each parent with authority
and the pupil from 12, by e-mail (`/casus/<ref>/uitnodigen`). The invitation and the e-mail address commit in one
transaction with the access log's line; the mail (a greeting, what the page is for, the link: nothing about the
child) goes after. A refusal (out of scope, a parent without authority, a pupil under 12) is logged and answered
403 with the rule; a wrong e-mail address or party 422, naming the field."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from models import family as rules
from models.errors import InvalidInput, InvalidInputs
from models.schooldays import today as amsterdam_today
from models.tables import Parent, Pupil
from models.tables_family import FamilyLogin
from models.vocabulary import AccessAction
from oja.config import dossier_url
from oja.dossier.forms import StrictFormRoute
from oja.dossier.security import Refused, User, csrf_ok, logged, page, serve
from oja.services import family_logins, family_mail
from oja.services.dossier import case_in_scope

router = APIRouter(route_class=StrictFormRoute)
NO_CASES = "deze rol ziet geen casussen"
PARTY_WORDS = {"ouder_1": "ouder 1", "ouder_2": "ouder 2", rules.PUPIL: "de leerling zelf"}


def _parties(session: Session, pupil: Pupil) -> list[dict[str, object]]:
    """Each party of the pupil: who (a parent's name: the professional's own dossier), whether it may be invited
    today (else the rule), and whether it has been invited."""
    today = amsterdam_today()
    invited = {login.party for login in session.exec(select(FamilyLogin).where(FamilyLogin.pupil_id == pupil.id))}
    parents = {p.position: p for p in session.exec(select(Parent).where(Parent.pupil_id == pupil.id))}
    age = rules.age_on(pupil.birth_date, today)
    rows: list[dict[str, object]] = []
    for party in rules.PARTIES:
        parent = parents.get(int(party[-1])) if party != rules.PUPIL else None
        if party != rules.PUPIL and parent is None:
            continue
        family = rules.Family(party, age, parent.has_authority if parent else None, pupil.parents_may_see)
        rows.append(
            {
                "party": party,
                "words": PARTY_WORDS[party],
                "name": parent.name if parent else pupil.given_name,
                "refusal": rules.invite_refusal(family),
                "invited": party in invited,
            }
        )
    return rows


def _form(
    request: Request, session: Session, user: User, case_ref: str, status: int = 200, **extra: object
) -> Response:
    case = case_in_scope(session, user.actor, case_ref, "invite_family")
    pupil = session.get(Pupil, case.pupil_id)
    assert pupil is not None
    logged(session, request, user, AccessAction.VIEW_CASE, case_ref=case.ref, pupil_refs=[pupil.ref])
    context: dict[str, object] = {"errors": {}, "given": {}, "sent": None, **extra}
    return page(request, "invite.html", user, status, case_ref=case.ref, parties=_parties(session, pupil), **context)


@router.get("/casus/{case_ref}/uitnodigen")
def invite_form(request: Request, case_ref: str, verstuurd: str = "", partij: str = "") -> Response:
    def body(session: Session, user: User) -> Response:
        if not user.sees_cases:
            raise Refused(AccessAction.INVITE_FAMILY, NO_CASES, case_ref=case_ref.upper()[:20])
        sent = {"1": True, "0": False}.get(verstuurd)
        return _form(request, session, user, case_ref, sent=sent, sent_to=PARTY_WORDS.get(partij, ""))

    return serve(request, AccessAction.VIEW_CASE, body)


@router.post("/casus/{case_ref}/uitnodigen")
def invite(
    request: Request,
    case_ref: str,
    partij: str = Form(""),
    e_mailadres: str = Form("", alias="e-mailadres"),
    csrf: str = Form(""),
) -> Response:
    made: list[family_logins.Invitation] = []

    def body(session: Session, user: User) -> Response:
        if not user.sees_cases:
            raise Refused(AccessAction.INVITE_FAMILY, NO_CASES, case_ref=case_ref.upper()[:20])
        if not csrf_ok(user.csrf, csrf):
            raise Refused(AccessAction.INVITE_FAMILY, "het formulier is verlopen of niet van deze site (CSRF)")
        now = dt.datetime.now(dt.UTC)
        try:
            invitation = family_logins.invite(
                session, user.actor, case_ref, partij, e_mailadres, now=now, today=amsterdam_today()
            )
        except family_logins.FamilyRefused as exc:
            raise Refused(
                AccessAction.INVITE_FAMILY, exc.rule, case_ref=exc.case_ref, pupil_ref=exc.pupil_ref
            ) from None
        except InvalidInput as exc:
            if exc.field not in ("partij", "e-mailadres"):
                raise
            session.rollback()
            errors = {e.field: e.rule for e in (exc.errors if isinstance(exc, InvalidInputs) else (exc,))}
            given = {"partij": partij, "e-mailadres": e_mailadres}
            return _form(request, session, user, case_ref, 422, errors=errors, given=given)
        made.append(invitation)
        logged(
            session,
            request,
            user,
            AccessAction.INVITE_FAMILY,
            case_ref=invitation.case_ref,
            pupil_refs=[invitation.pupil_ref],
            reason=f"uitgenodigd: {invitation.party}",
        )
        return RedirectResponse(f"/casus/{invitation.case_ref}/uitnodigen", status_code=303)

    response = serve(request, AccessAction.INVITE_FAMILY, body)
    if not made:
        return response
    invitation = made[0]  # committed: now the mail
    link = f"{dossier_url()}/gezin/welkom/{invitation.token}"
    sent = family_mail.send(invitation.email, family_mail.invitation_message(link, family_logins.LINK_DAYS))
    target = f"/casus/{invitation.case_ref}/uitnodigen?verstuurd={int(sent)}&partij={quote(invitation.party)}"
    return RedirectResponse(target, status_code=303)
