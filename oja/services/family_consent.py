"""A parent's or the pupil's own word on consent, given on their page (issue 26, 4): a request bound to their login,
waiting for the consent step's run in Prefect, which takes it once (`oja/services/consent.py`).

The request is what binds the run to the person: the run's parameters carry the case's reference, the party's code
and the request's random id, nothing else; the step accepts a party's code as actor only with a request of that
login's party, for that case, word and plan version, still waiting. Taken, it is done, with how it ended, in the
transaction that records the consent. Not taken within `WAITS` (the run failed, Prefect lost it), it lapses and the
family may send their word again.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlmodel import Session, col, select

from models import family as rules
from models.errors import InvalidInput
from models.lifecycle import AuditAction, CaseState
from models.schooldays import today as amsterdam_today
from models.tables import Case, Plan, utcnow
from models.tables_family import FamilyConsentRequest, FamilyLogin
from oja.services import family_members
from oja.services.reads import current_plan

FIELD = "family_request"
WAITS = dt.timedelta(hours=24)  # a request not taken by then lapses
WAITING, DONE, NOT_SENT, REFUSED = "wacht", "verwerkt", "niet_verzonden", "geweigerd"
# where the family's word can be taken: consent is being collected, or (to withdraw it) it was complete
GIVE_STATES = frozenset({CaseState.PLAN_DRAFTED.value})
WITHDRAW_STATES = GIVE_STATES | {CaseState.CONSENTED.value, CaseState.ACTIVE.value, CaseState.REVIEWED.value}


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def waiting(request: FamilyConsentRequest, now: dt.datetime) -> bool:
    return request.status == WAITING and _aware(request.created_at) + WAITS > now


def latest(session: Session, login_id: int, case: Case) -> FamilyConsentRequest | None:
    """The login's newest request on this case."""
    stmt = select(FamilyConsentRequest).where(
        FamilyConsentRequest.login_id == login_id, FamilyConsentRequest.case_id == case.id
    )
    return session.exec(stmt.order_by(col(FamilyConsentRequest.id).desc())).first()


def may_ask(case: Case | None, plan: Plan | None, granted: bool) -> str | None:
    """Why the family cannot send this word now (Dutch, for their page), or None."""
    if case is None or plan is None:
        return "er is nog geen plan om toestemming voor te geven"
    if case.state not in (GIVE_STATES if granted else WITHDRAW_STATES):
        if granted and case.state in WITHDRAW_STATES:
            return "de toestemming is al compleet; u kunt uw toestemming wel intrekken"
        return "er is op dit moment geen plan dat op toestemming wacht"
    return None


def ask(session: Session, *, login: FamilyLogin, case: Case, granted: bool) -> FamilyConsentRequest:
    """A waiting request of this login for this case's current plan; refused (`InvalidInput`, Dutch) when the case
    takes no such word now, or an earlier request of the login is still waiting."""
    plan = current_plan(session, case)
    refusal = may_ask(case, plan, granted)
    if refusal is not None:
        raise InvalidInput("toestemming", refusal)
    assert plan is not None and login.id is not None and case.id is not None and plan.id is not None
    before = latest(session, login.id, case)
    if before is not None and waiting(before, utcnow()):
        raise InvalidInput("toestemming", "uw vorige antwoord wordt nog verwerkt; wacht tot het klaar is")
    request = FamilyConsentRequest(
        token=secrets.token_urlsafe(18),
        login_id=login.id,
        party=login.party,
        case_id=case.id,
        plan_id=plan.id,
        plan_version=plan.version,
        granted=granted,
    )
    session.add(request)
    session.flush()
    return request


def not_sent(session: Session, token: str) -> None:
    """Prefect was not reached: the request will never be taken (the family may send their word again)."""
    request = session.exec(select(FamilyConsentRequest).where(FamilyConsentRequest.token == token)).first()
    if request is not None and request.status == WAITING:
        request.status, request.done_at = NOT_SENT, utcnow()
        session.add(request)


def refused(session: Session, token: str, party: str) -> None:
    """The step refused the family's run (the case moved on, the parent lost authority, ...): the request ends, and
    the family may send their word again. Only a run in the request's own party's name ends it."""
    request = session.exec(select(FamilyConsentRequest).where(FamilyConsentRequest.token == token)).first()
    if request is not None and request.status == WAITING and request.party == party:
        request.status, request.done_at = REFUSED, utcnow()
        session.add(request)


def refuse_for_professional() -> None:
    raise InvalidInput(FIELD, "is alleen voor toestemming die een ouder of de leerling zelf gaf; laat het leeg")


def take(
    session: Session,
    *,
    token: str | None,
    case: Case,
    actor: str,
    party: str,
    granted: bool,
    plan: Plan,
) -> FamilyConsentRequest:
    """The family's waiting request this run carries out, locked; refused unless it is theirs and says this."""
    if not token:
        raise InvalidInput(
            FIELD, f"toestemming namens {actor} kan alleen de partij zelf geven, op de eigen pagina in het dossier"
        )
    request = session.exec(
        select(FamilyConsentRequest).where(FamilyConsentRequest.token == token).with_for_update()
    ).first()
    if request is None or request.case_id != case.id:
        raise InvalidInput(FIELD, "er is geen verzoek van het gezin met deze code voor deze casus")
    if request.status != WAITING:
        raise InvalidInput(FIELD, "dit verzoek van het gezin is al verwerkt of vervallen; het telt maar één keer")
    if not waiting(request, utcnow()):
        raise InvalidInput(
            FIELD, f"dit verzoek van het gezin is verlopen (ouder dan {int(WAITS.total_seconds() // 3600)} uur)"
        )
    wrong = [
        name
        for name, same in (
            ("actor", request.party == actor),
            ("party", request.party == party),
            ("granted", request.granted == granted),
            ("plan", request.plan_id == plan.id),
        )
        if not same
    ]
    if wrong:
        raise InvalidInput(FIELD, f"het verzoek van het gezin zegt iets anders ({', '.join(wrong)}); niets vastgelegd")
    login = session.get(FamilyLogin, request.login_id)
    if login is None or login.party != party or login.pupil_id != case.pupil_id:
        raise InvalidInput(FIELD, "het verzoek hoort niet bij een toegang van deze leerling")
    family, _ = family_members.family_of(session, login, amsterdam_today())
    refusal = rules.view_refusal(family)
    if refusal is not None:  # e.g. the parent has lost authority since
        raise InvalidInput(FIELD, refusal)
    return request


def done(session: Session, request: FamilyConsentRequest | None, outcome: AuditAction) -> None:
    if request is not None:
        request.status, request.outcome, request.done_at = DONE, outcome.value, utcnow()
        session.add(request)
