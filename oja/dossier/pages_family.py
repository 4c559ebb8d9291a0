"""The family's own pages after the login (issue 26): the home page `/gezin/` (whose case, the next review, the
link to the plan page `/gezin/plan`, another module's, and to `/gezin/mijn-mening` while a view can be given) and
the pupil's switch (from 16) whether the parents see the case (`/gezin/ouders`). Every view and refusal is logged
with the pupil and the case (`family_security`)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from models import family as rules
from models.errors import InvalidInput
from models.schooldays import today as amsterdam_today
from models.tables import Case, Pupil
from models.tables_family import FamilyLogin
from models.vocabulary import AccessAction, AccessOutcome
from oja.config import get_policy
from oja.dossier.family_security import FamilyMember, log_family, serve_family, with_script
from oja.dossier.forms import StrictFormRoute
from oja.dossier.security import page
from oja.services import family_logins, family_members, family_passkeys
from oja.services.closing_questions import open_question
from oja.services.family_opinion import opinion_page
from oja.services.logins import tokens_match

router = APIRouter(route_class=StrictFormRoute)


@router.get("/gezin/")
def home(request: Request, opgeslagen: str = "", passkey: str = "") -> Response:
    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        pupil = session.get(Pupil, member.pupil_id)
        assert pupil is not None
        log_family(session, request, member, AccessAction.FAMILY_VIEW, case_ref=case.ref if case else None)
        age = rules.age_on(pupil.birth_date, amsterdam_today())
        decides = member.party == rules.PUPIL and age >= rules.DECIDE_AGE
        opinion = opinion_page(session, case, member.party, amsterdam_today(), get_policy())
        response = page(
            request,
            "gezin_home.html",
            None,
            member=member,
            passkeys=family_passkeys.passkeys_of(session, member.login_id),
            passkey_news={"toegevoegd": "De passkey is toegevoegd.", "verwijderd": "De passkey is verwijderd."}.get(
                passkey
            ),
            given_name=pupil.given_name,
            pupil_self=member.party == rules.PUPIL,
            case=case,
            decides=decides,
            parents_may_see=pupil.parents_may_see,
            saved=opgeslagen == "1",
            closing=open_question(session, member.pupil_id, member.party, amsterdam_today()),
            opinion=opinion,  # a view to give for the coming review (None: not now)
        )
        return with_script(response)

    return serve_family(request, AccessAction.FAMILY_VIEW, body)


@router.get("/gezin/ouders")
def parents_form(request: Request) -> Response:
    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        pupil = session.get(Pupil, member.pupil_id)
        assert pupil is not None
        log_family(session, request, member, AccessAction.FAMILY_VIEW, case_ref=case.ref if case else None)
        login = session.get(FamilyLogin, member.login_id)
        assert login is not None
        family, _ = family_members.family_of(session, login, amsterdam_today())
        if not rules.may_decide_for_parents(family):
            return page(request, "gezin_geweigerd.html", None, 403, member=member, rule=rules.NOT_DECIDING)
        return page(request, "gezin_ouders.html", None, member=member, parents_may_see=pupil.parents_may_see)

    return serve_family(request, AccessAction.FAMILY_VIEW, body)


@router.post("/gezin/ouders")
def parents_save(request: Request, ouders_zien: str = Form(""), csrf: str = Form("")) -> Response:
    def body(session: Session, member: FamilyMember, case: Case | None) -> Response:
        ref = case.ref if case else None
        if not tokens_match(member.csrf, csrf):
            rule = "het formulier is verlopen of niet van deze site (CSRF)"
            log_family(
                session,
                request,
                member,
                AccessAction.FAMILY_SWITCH,
                outcome=AccessOutcome.REFUSED,
                case_ref=ref,
                reason=rule,
            )
            return page(request, "gezin_geweigerd.html", None, 403, member=member, rule=rule)
        if ouders_zien not in ("ja", "nee"):
            return page(
                request, "gezin_ouders.html", None, 422, member=member, parents_may_see=None, error="Kies ja of nee."
            )
        login = session.get(FamilyLogin, member.login_id)
        assert login is not None
        try:
            family_logins.set_parents_may_see(session, login, ouders_zien == "ja", today=amsterdam_today())
        except InvalidInput as exc:
            log_family(
                session,
                request,
                member,
                AccessAction.FAMILY_SWITCH,
                outcome=AccessOutcome.REFUSED,
                case_ref=ref,
                reason=exc.rule,
            )
            return page(request, "gezin_geweigerd.html", None, 403, member=member, rule=exc.rule)
        reason = "ouders zien de casus" if ouders_zien == "ja" else "ouders zien de casus niet"
        log_family(session, request, member, AccessAction.FAMILY_SWITCH, case_ref=ref, reason=reason)
        return RedirectResponse("/gezin/?opgeslagen=1", status_code=303)

    return serve_family(request, AccessAction.FAMILY_SWITCH, body)
