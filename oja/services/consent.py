"""Consent to the joint plan: each party's word, the consent the pupil's age requires, and its withdrawal.

A professional records a party's word through the consent step (`flows/planning.py`, `record_consent`); a parent or
the pupil gives or withdraws their own on the family's page (issue 26, 4), which leaves a request bound to their
login (`oja/services/family_consent.py`) and starts the same step with the party as actor: the step takes the
request once, in the transaction that records the consent. Without such a request a party's code as actor is
refused: nobody types in a parent's consent.

Withdrawing a consent the age requires after consent was complete (`toestemming_compleet`, `actief`,
`geevalueerd`) moves the case back to `plan_opgesteld` (docs/domain.md): the help stops (the plan's delivery ends
today, no review is due), the consent is due again, and the regie holder gets a mail through the outbox.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlmodel import Session, col, select

from models import lifecycle as lc
from models.errors import FormCheck
from models.family import PARTIES as FAMILY_PARTIES
from models.identity import PUPIL, age_on, not_needed_rule, required_consent
from models.lifecycle import Action, AuditAction, CaseState
from models.schooldays import add_school_days
from models.tables import Case, ConsentRecord, Plan, Professional
from models.vocabulary import ConsentParty
from oja.config import Policy, get_policy
from oja.services import audit, family_consent
from oja.services.consent_mail import queue_withdrawal  # the mail's words live apart
from oja.services.kernel import (
    CaseOutcome,
    case_calendar,
    case_outcome,
    choice,
    load_actor,
    load_case,
    not_future,
    transition,
)
from oja.services.pupils import parents_with_authority
from oja.services.reads import born, key, plan_of, pupil_of, ref_of

# where a withdrawal pauses the arrangement: consent was complete
WITHDRAWABLE = frozenset({CaseState.CONSENTED.value, CaseState.ACTIVE.value, CaseState.REVIEWED.value})


@dataclasses.dataclass(frozen=True)
class FamilyActor:
    """A parent or the pupil acting on their own consent: the party's code, as a professional's code would be."""

    code: str  # ouder_1, ouder_2, leerling
    role: str = "gezin"


def consent_records(session: Session, plan: Plan) -> list[ConsentRecord]:
    """Every word on consent to this plan version, oldest first."""
    stmt = select(ConsentRecord).where(ConsentRecord.plan_id == plan.id).order_by(col(ConsentRecord.id))
    return list(session.exec(stmt).all())


def latest_words(records: Iterable[ConsentRecord]) -> dict[str, bool]:
    """Each party's latest word (given or refused) among these records, oldest first."""
    return {r.party: r.granted for r in records}


def granted_parties(session: Session, plan: Plan) -> set[str]:
    """Parties whose latest word on this plan version is consent."""
    return {party for party, granted in latest_words(consent_records(session, plan)).items() if granted}


def record_consent(
    session: Session,
    *,
    case_ref: str,
    party: str,
    granted: bool,
    actor: str,
    recorded_on: dt.date | None = None,
    today: dt.date,
    family_request: str | None = None,
    policy: Policy | None = None,
) -> CaseOutcome:
    """Record one party's consent to the current plan (or its refusal); when complete, the case is ready to start.
    A refusal after consent was complete is a withdrawal: the arrangement pauses until consent is given again.

    `actor` is a professional's code, or a party's own (`ouder_1`, ...) with `family_request`, the id of the
    request that party made on their page: it must be waiting, for this case, party, word and plan version."""
    recorded_on = recorded_on or today
    by_family = actor in FAMILY_PARTIES
    if by_family:
        who: Professional | FamilyActor = FamilyActor(actor)
        case = load_case(session, case_ref)
    else:
        professional = load_actor(session, actor)
        if family_request:
            family_consent.refuse_for_professional()
        who = professional
        case = load_case(session, case_ref, who=professional, action="record_consent")
    state = case.state
    withdrawal = not granted and state in WITHDRAWABLE
    action = Action.WITHDRAW_CONSENT if withdrawal else Action.RECORD_CONSENT
    lc.next_state(CaseState(state), action, case_ref=case.ref)
    party = choice(party, ConsentParty, "party")
    plan = plan_of(session, case)
    request = None
    if by_family:
        request = family_consent.take(
            session, token=family_request, case=case, actor=actor, party=party, granted=granted, plan=plan
        )
    check = FormCheck()  # every wrong field of the form at once
    with check.field():
        not_future(recorded_on, today, "recorded_on")
    if plan.drafted_on and recorded_on < plan.drafted_on:
        check.fail("recorded_on", "mag niet voor het plan liggen waarvoor de toestemming geldt")
    pupil = pupil_of(session, case)
    parents = parents_with_authority(session, pupil)
    if party != PUPIL and party not in parents:
        check.fail("party", f"{party} is geen ouder met gezag over deze leerling")
    check.done()
    age = age_on(born(pupil), recorded_on)
    needed = required_consent(age, parents)
    if party not in needed:  # a word nobody needs: a note on the audit trail, never consent (docs/domain.md)
        said = "gaf toestemming" if granted else "weigerde toestemming" if not withdrawal else "trok toestemming in"
        note = f"{party} {said}: niet nodig en niet meegeteld, {not_needed_rule(age)}; plan v{plan.version}"
        audit.record(
            session,
            case_ref=ref_of(case),
            actor=who.code,
            action=AuditAction.CONSENT_NOT_NEEDED,
            from_state=case.state,
            to_state=case.state,
            reason=note,
        )
        family_consent.done(session, request, AuditAction.CONSENT_NOT_NEEDED)
        return dataclasses.replace(case_outcome(case, AuditAction.CONSENT_NOT_NEEDED), not_needed=party)
    session.add(
        ConsentRecord(
            case_id=key(case),
            plan_id=key(plan),
            party=party,
            granted=granted,
            recorded_on=recorded_on,
            recorded_by=who.code,
        )
    )
    session.flush()
    given = f"{party}={'granted' if granted else 'refused'} plan v{plan.version}"
    if withdrawal:
        outcome = pause(session, case, plan, who, party, today, policy or get_policy())
    elif needed <= granted_parties(session, plan):  # the last consent needed: one transition, one audit record
        transition(session, case, Action.CONSENT_COMPLETE, who, reason=f"{given}; complete: {','.join(sorted(needed))}")
        outcome = case_outcome(case, Action.CONSENT_COMPLETE)
    else:
        transition(session, case, Action.RECORD_CONSENT, who, reason=given)
        outcome = case_outcome(case, Action.RECORD_CONSENT)
    family_consent.done(session, request, AuditAction(outcome.action))
    return outcome


def pause(
    session: Session,
    case: Case,
    plan: Plan,
    who: Professional | FamilyActor,
    party: str,
    today: dt.date,
    policy: Policy,
) -> CaseOutcome:
    """A consent the age requires is withdrawn: back to `plan_opgesteld`. The help under the plan stops today (cost
    to date stops counting), no review is due, consent is due again; the regie holder is told by mail."""
    if plan.active_from is not None and plan.active_until is None:
        plan.active_until = max(today, plan.active_from)
        session.add(plan)
    case.next_review_on = None
    case.consent_due_on = add_school_days(today, policy.consent_deadline_school_days, case_calendar(session, case))
    transition(
        session,
        case,
        Action.WITHDRAW_CONSENT,
        who,
        reason=f"{party}=withdrawn plan v{plan.version}; paused from {today.isoformat()}",
    )
    queue_withdrawal(session, case, plan, party, today)
    return case_outcome(case, Action.WITHDRAW_CONSENT)
