"""The mail that tells the regie holder (or, without one, the school's coordinators) that a consent was withdrawn
and the arrangement is paused: through the outbox, in the transaction of the withdrawal, sent by the next dispatch.
Codes and the case's reference only, with the link to the case in the dossier: no name, no free text."""

from __future__ import annotations

import datetime as dt
import html

from sqlmodel import Session, col, select

from models.tables import Case, Plan, Professional
from models.tables_outbox import Outbox
from models.vocabulary import DigestKind, Role
from notifications.render import long_date
from oja.config import dossier_url
from oja.services.reads import ref_of

PARTY_WORDS = {"ouder_1": "ouder 1", "ouder_2": "ouder 2", "leerling": "de leerling"}


def withdrawal_text(case_ref: str, party: str, plan_version: int, today: dt.date, link: str) -> tuple[str, str, str]:
    """Subject, text and HTML of the mail."""
    who = PARTY_WORDS.get(party, party)
    subject = f"Toestemming ingetrokken: {case_ref} is gepauzeerd"
    lines = [
        f"Op {long_date(today, 'nl')} heeft {who} ({party}) de toestemming voor plan v{plan_version} van casus "
        f"{case_ref} ingetrokken.",
        "",
        "Het arrangement is gepauzeerd: er wordt geen hulp meer geleverd en de kosten tellen niet meer mee. "
        "Er staat geen evaluatie meer gepland.",
        "De casus staat weer op 'plan opgesteld'. Verder kan het als de toestemming opnieuw is gegeven "
        "(daarna stap 05 Arrangement starten), of met een nieuw plan (stap 03 Plan opstellen).",
        "",
        f"De casus in het dossier: {link}",
    ]
    text = "\n".join(lines)
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line and not line.startswith("De casus in"))
    body += f'<p>De casus in het dossier: <a href="{html.escape(link)}">{html.escape(case_ref)}</a></p>'
    return subject, text, body


def queue_withdrawal(session: Session, case: Case, plan: Plan, party: str, today: dt.date) -> None:
    ref = ref_of(case)
    subject, text, body = withdrawal_text(ref, party, plan.version, today, f"{dossier_url()}/casus/{ref}")
    for who in recipients_of_withdrawal(session, case, plan):
        session.add(
            Outbox(
                recipient_code=who.code,
                role=who.role,
                to_address=who.email,
                digest=DigestKind.DAILY.value,
                sweep_date=today,
                subject=subject,
                text=text,
                html=body,
            )
        )


def recipients_of_withdrawal(session: Session, case: Case, plan: Plan) -> list[Professional]:
    """Who hears of a withdrawal: the plan's regie holder; without one, the school's coordinators."""
    regie = session.get(Professional, plan.regie_holder_code) if plan.regie_holder_code else None
    if regie is not None:
        return [regie]
    stmt = select(Professional).where(
        Professional.school_code == case.school_code, Professional.role == Role.COORDINATOR.value
    )
    return list(session.exec(stmt.order_by(col(Professional.code))).all())
