"""What the family's pages share (issue 26): who of the family is logged in, the check of `models.family` at
every request, and its line in the access log.

A family session lives in a cookie of its own (`oja_gezin`, `__Host-` over HTTPS) and in a table of its own
(`family_session`): it never opens a professional's page, and a professional's session never opens a family page.
The access log names a family member by party and the pupil's pseudonym (`ouder_1 van LL-000123`): the line's
actor is the party, its role `gezin`, its pupil the pupil.

For the family's plan page (another module): `current_family(request, session)` is who is logged in (or None);
`serve_family(request, action, body)` runs a page for them in one transaction after the check of `models.family`
(a refusal: logged, and 403 with the rule), and logs the view with the pupil and the case.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from models import family as rules
from models.lifecycle import CaseState
from models.schooldays import today as amsterdam_today
from models.tables import Case, Pupil
from models.tables_family import FamilyLogin
from models.vocabulary import AccessAction, AccessOutcome
from oja.adapters.db import unit_of_work
from oja.dossier.security import CSP, client_of, page, secure_request
from oja.services import family_logins, family_members
from oja.services.access_log import log_access

FAMILY_ROLE = "gezin"  # the access log's role of a family member's line
# no session needed for these, nor for /gezin/welkom/<link>
OPEN_PATHS = frozenset(
    {"/gezin/inloggen", "/gezin/code", "/gezin/code/mail", "/gezin/passkey/opties", "/gezin/passkey/inloggen"}
)


# the pages with the passkey's script (templates/dossier/static/family_passkey.js): their own script, and its
# requests to this site; nothing else
SCRIPT_CSP = CSP + "; script-src 'self'; connect-src 'self'"


def with_script(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = SCRIPT_CSP
    return response


def family_cookie(request: Request) -> str:
    return "__Host-oja_gezin" if secure_request(request) else "oja_gezin"


def step_cookie(request: Request) -> str:
    """The token of the login's second step (the mailed code)."""
    return "__Host-oja_gezin_stap" if secure_request(request) else "oja_gezin_stap"


def form_cookie(request: Request) -> str:
    """The CSRF token of a form shown without a session (the login, the code, the password)."""
    return "__Host-oja_gezin_formulier" if secure_request(request) else "oja_gezin_formulier"


def is_family_path(path: str) -> bool:
    return path == "/gezin" or path.startswith("/gezin/")


def needs_family_login(path: str) -> bool:
    return is_family_path(path) and path not in OPEN_PATHS and not path.startswith("/gezin/welkom/")


@dataclasses.dataclass(frozen=True)
class FamilyMember:
    """A logged-in parent or pupil: their party, the pupil, the login, and the session's CSRF token."""

    login_id: int
    party: str
    pupil_id: int
    pupil_ref: str
    csrf: str
    token: str

    @property
    def actor(self) -> str:
        return rules.actor_words(self.party, self.pupil_ref)


def current_family(request: Request, session: Session) -> FamilyMember | None:
    """The family member of this request's family session, or None. Who they are only: what they may see is
    `family_refusal`, checked at every request by `serve_family`."""
    token = request.cookies.get(family_cookie(request), "")
    found = family_logins.find_session(session, token, now=dt.datetime.now(dt.UTC))
    if found is None:
        return None
    login, web_session = found
    pupil = session.get(Pupil, login.pupil_id)
    if pupil is None or pupil.destroyed_on is not None or login.id is None:
        return None
    return FamilyMember(login.id, login.party, pupil.id or 0, pupil.ref, web_session.csrf_token, token)


def family_refusal(session: Session, member: FamilyMember, today: dt.date) -> str | None:
    """Why this member may not see the pupil's case today (`models.family.view_refusal`), or None."""
    login = session.get(FamilyLogin, member.login_id)
    assert login is not None
    family, _ = family_members.family_of(session, login, today)
    return rules.view_refusal(family)


def case_of(session: Session, pupil_id: int) -> Case | None:
    """The pupil's case the family's pages are about: the open one, else the last closed one."""
    cases = session.exec(select(Case).where(Case.pupil_id == pupil_id).order_by(col(Case.id).desc())).all()
    open_cases = [c for c in cases if c.state != CaseState.CLOSED.value]
    return next(iter(open_cases or cases), None)


def log_family(
    session: Session,
    request: Request,
    member: FamilyMember,
    action: AccessAction,
    *,
    outcome: AccessOutcome = AccessOutcome.ALLOWED,
    case_ref: str | None = None,
    reason: str | None = None,
    path: str | None = None,
) -> None:
    log_access(
        session,
        professional_code=member.party,
        role=FAMILY_ROLE,
        action=action,
        outcome=outcome,
        path=path or request.url.path,
        client=client_of(request),
        case_ref=case_ref,
        pupil_refs=[member.pupil_ref],
        reason=reason,
    )


class FamilyRefusedView(Exception):
    def __init__(self, rule: str, case_ref: str | None) -> None:
        super().__init__(rule)
        self.rule, self.case_ref = rule, case_ref


def serve_family(
    request: Request, action: AccessAction, body: Callable[[Session, FamilyMember, Case | None], Response]
) -> Response:
    """Run a family page in one transaction: no family session, to the family's login; a party `models.family`
    refuses today, its refusal logged (in a transaction of its own) and 403 with the rule. `body` logs its view."""
    member: FamilyMember | None = None
    case_ref: str | None = None
    try:
        with unit_of_work() as session:
            member = current_family(request, session)
            if member is None:
                return RedirectResponse("/gezin/inloggen", status_code=303)
            case = case_of(session, member.pupil_id)
            case_ref = case.ref if case else None
            refusal = family_refusal(session, member, amsterdam_today())
            if refusal is not None:
                raise FamilyRefusedView(refusal, case_ref)
            return body(session, member, case)
    except FamilyRefusedView as exc:
        assert member is not None
        with unit_of_work() as session:
            log_family(
                session, request, member, action, outcome=AccessOutcome.REFUSED, case_ref=case_ref, reason=exc.rule
            )
        return page(request, "gezin_geweigerd.html", None, 403, member=member, rule=exc.rule)
