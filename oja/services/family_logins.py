"""The family's own login (issue 26), apart from the professionals' (`oja.services.logins`): one module with one
interface, so that a region with DigiD through a broker (OIDC or SAML) replaces it there.

    invite(...)             a professional in scope invites a parent with authority, or the pupil from 12: the
                            e-mail address is kept (on `Parent` or `Pupil`, and as the login name), and a link
                            valid for `LINK_DAYS` days is made (only its SHA-256 stored); the caller mails it
    use_link(...)           the link sets the password, once
    check_password(...)     step 1: e-mail address and password; a 6-digit code (valid `CODE_MINUTES`, once) to
                            mail, and the token of the step (a cookie) for step 2; no code when the login has a
                            passkey (`family_passkeys`): then `mail_code` makes one if they ask for it
    check_code(...)         step 2: the mailed code; the login
    open_session, find_session, close_session
                            the family's sessions (their own table and cookie: never a professional's)

Failures count in `login_throttle` (per address, and per login name `gezin:<e-mail>`) as the professionals' do.
Nothing here writes the access log: the caller logs, in the same transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, col, delete, select

from models import family as rules
from models.access import Actor
from models.errors import InvalidInput, InvalidInputs
from models.identity import PUPIL
from models.tables import Pupil
from models.tables_family import FamilyInvitation, FamilyLogin, FamilyPasskey, FamilySession
from oja.services import family_members, login_throttle
from oja.services.dossier import case_in_scope
from oja.services.family_members import family_of as family_of  # re-exported: the login's own interface

LINK_DAYS = 7
CODE_MINUTES = 10
PASSWORD_MIN = 12
IDLE_TIME = dt.timedelta(minutes=30)
SESSION_TIME = dt.timedelta(hours=10)
REFUSED = "e-mailadres, wachtwoord of code onjuist"  # one message whatever was wrong
LINK_REFUSED = "deze link werkt niet meer: hij is al gebruikt of verlopen. Vraag de school om een nieuwe uitnodiging"
CODE_REFUSED = "de code is onjuist of verlopen: log opnieuw in voor een nieuwe code"
_hasher = PasswordHash((Argon2Hasher(),))
_dummy_hash = _hasher.hash(secrets.token_urlsafe(16))


class FamilyRefused(Exception):
    """An invitation refused by `models.family` (a parent without authority, a pupil under 12)."""

    def __init__(self, rule: str, *, pupil_ref: str, case_ref: str) -> None:
        super().__init__(rule)
        self.rule, self.pupil_ref, self.case_ref = rule, pupil_ref, case_ref


@dataclasses.dataclass(frozen=True)
class Invitation:
    email: str
    token: str  # the link's secret: mailed, never stored
    party: str
    pupil_ref: str
    case_ref: str


@dataclasses.dataclass(frozen=True)
class CodeStep:
    """Step 1 passed: the code to mail to `email`, and the token of step 2 (a cookie)."""

    login_id: int
    email: str
    code: str | None  # None: the login has a passkey, asked first (`mail_code` makes a code when asked)
    pending: str


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


def throttle_name(email: str) -> str:
    return "gezin:" + (email or "").strip().lower()


def invite(
    session: Session, actor: Actor, case_ref: str, party: object, email: object, *, now: dt.datetime, today: dt.date
) -> Invitation:
    """Invite `party` of the case's pupil at `email`. Refused: outside the actor's scope (`AccessDenied`), a party
    `models.family` refuses (`FamilyRefused`), a wrong party or e-mail address (`InvalidInputs`, each field named),
    an address that is another pupil's party's login already."""
    case = case_in_scope(session, actor, case_ref, "invite_family", lock=True)
    pupil = session.get(Pupil, case.pupil_id)
    assert pupil is not None and pupil.id is not None and case.ref is not None
    errors: list[InvalidInput] = []
    if party not in rules.PARTIES:
        errors.append(InvalidInput("partij", f"kies een van: {', '.join(rules.PARTIES)}"))
    address = ""
    try:
        address = rules.check_email(email)
    except InvalidInput as exc:
        errors.append(exc)
    if address:
        other = session.exec(select(FamilyLogin).where(FamilyLogin.email == address)).first()
        if other is not None and (other.pupil_id, other.party) != (pupil.id, party):
            errors.append(InvalidInput("e-mailadres", "dit e-mailadres hoort al bij een andere toegang"))
    if errors:
        raise InvalidInputs(errors) if len(errors) > 1 else errors[0]
    assert isinstance(party, str)
    refusal = rules.invite_refusal(family_members.family(session, pupil, party, today))
    if refusal is not None:
        raise FamilyRefused(refusal, pupil_ref=pupil.ref, case_ref=case.ref)
    if party == PUPIL:
        pupil.email = address
        session.add(pupil)
    else:
        parent = family_members.parent(session, pupil, party)
        assert parent is not None
        parent.email = address
        session.add(parent)
    login = session.exec(
        select(FamilyLogin).where(FamilyLogin.pupil_id == pupil.id, FamilyLogin.party == party)
    ).first()
    if login is None:
        login = FamilyLogin(pupil_id=pupil.id, party=party, email=address, created_at=now)
    login.email = address
    session.add(login)
    session.flush()
    assert login.id is not None
    for old in session.exec(
        select(FamilyInvitation).where(FamilyInvitation.login_id == login.id, col(FamilyInvitation.used_at).is_(None))
    ):
        old.used_at = now  # one link at a time: a new invitation ends the earlier ones
        session.add(old)
    token = secrets.token_urlsafe(32)
    session.add(
        FamilyInvitation(
            token_hash=_digest(token),
            login_id=login.id,
            invited_by=actor.code,
            created_at=now,
            expires_at=now + dt.timedelta(days=LINK_DAYS),
        )
    )
    return Invitation(address, token, party, pupil.ref, case.ref)


def set_login(
    session: Session, pupil: Pupil, party: str, email: str, password: str, *, now: dt.datetime, today: dt.date
) -> FamilyLogin:
    """A login with a password at once, without an invitation: the demo's (`oja start`). The rules of
    `models.family` hold as for an invitation (`FamilyRefused`); the address is kept as an invitation keeps it."""
    address = rules.check_email(email)
    if (refusal := rules.invite_refusal(family_members.family(session, pupil, party, today))) is not None:
        raise FamilyRefused(refusal, pupil_ref=pupil.ref, case_ref="")
    if party == PUPIL:
        pupil.email = address
        session.add(pupil)
    elif (parent := family_members.parent(session, pupil, party)) is not None:
        parent.email = address
        session.add(parent)
    login = session.exec(select(FamilyLogin).where(FamilyLogin.email == address)).first()
    login = login or FamilyLogin(pupil_id=pupil.id or 0, party=party, email=address, created_at=now)
    login.password_hash, login.password_set_at = _hasher.hash(password), now
    session.add(login)
    return login


def link_party(session: Session, token: str) -> tuple[str, str] | None:
    """(party, pupil's pseudonym) of a link, used or not, for the access log's line; None for an unknown link."""
    found = session.get(FamilyInvitation, _digest(token or ""))
    login = session.get(FamilyLogin, found.login_id) if found else None
    pupil = session.get(Pupil, login.pupil_id) if login else None
    return (login.party, pupil.ref) if login and pupil else None


def email_party(session: Session, email: str) -> tuple[str, str] | None:
    """(party, pupil's pseudonym) of the login of an e-mail address, for the access log's line; None if unknown."""
    address = (email or "").strip().lower()
    login = session.exec(select(FamilyLogin).where(FamilyLogin.email == address)).first() if address else None
    pupil = session.get(Pupil, login.pupil_id) if login else None
    return (login.party, pupil.ref) if login and pupil else None


def link_login(session: Session, token: str, *, now: dt.datetime) -> FamilyLogin | None:
    """The login whose unused, unexpired link this is; None otherwise."""
    found = session.get(FamilyInvitation, _digest(token or ""), with_for_update=True)
    if found is None or found.used_at is not None or _as_utc(found.expires_at) <= now:
        return None
    return session.get(FamilyLogin, found.login_id)


def use_link(session: Session, token: str, password: object, again: object, *, now: dt.datetime) -> FamilyLogin:
    """Set the password through the invitation's link, which then is used. Refused: a used, expired or unknown link
    (`InvalidInput` on `link`), a password breaking a rule or not typed twice the same (each field named)."""
    login = link_login(session, token, now=now)
    if login is None:
        raise InvalidInput("link", LINK_REFUSED)
    password = password if isinstance(password, str) else ""
    errors: list[InvalidInput] = []
    if len(password) < PASSWORD_MIN:
        errors.append(InvalidInput("wachtwoord", f"moet minstens {PASSWORD_MIN} tekens lang zijn"))
    elif len(set(password)) < 4:
        errors.append(InvalidInput("wachtwoord", "moet uit meer verschillende tekens bestaan"))
    elif login.email in password.lower():
        errors.append(InvalidInput("wachtwoord", "mag uw e-mailadres niet bevatten"))
    if again != password:
        errors.append(InvalidInput("wachtwoord_herhaald", "moet hetzelfde zijn als het wachtwoord"))
    if errors:
        raise InvalidInputs(errors) if len(errors) > 1 else errors[0]
    invitation = session.get(FamilyInvitation, _digest(token))
    assert invitation is not None
    invitation.used_at = now
    login.password_hash = _hasher.hash(password)
    login.password_set_at = now
    session.add_all([invitation, login])
    login_throttle.forget(session, throttle_name(login.email))
    return login


def failed(session: Session, client: str | None, email: str, *, now: dt.datetime) -> None:
    """Count a failed attempt (a form whose own token did not match) for the address and the login name."""
    login_throttle.failed(session, client, throttle_name(email), now=now)


def wait_seconds(session: Session, client: str | None, email: str, *, now: dt.datetime) -> int | None:
    return login_throttle.wait_seconds(session, client, throttle_name(email), now=now)


def check_password(
    session: Session, email: str, password: str, *, now: dt.datetime, client: str | None
) -> CodeStep | None:
    """Step 1. None (a failure counted) unless the address has a login with this password; else a new code and
    step token (the earlier code stops working). The caller checks `wait_seconds` first."""
    address = (email or "").strip().lower()
    login = session.exec(select(FamilyLogin).where(FamilyLogin.email == address)).first() if address else None
    stored = login.password_hash if login is not None and login.password_hash else None
    good = _hasher.verify(password or "", stored or _dummy_hash) and stored is not None
    if login is None or not good:
        login_throttle.failed(session, client, throttle_name(address), now=now)
        return None
    assert login.id is not None
    pending = secrets.token_urlsafe(32)
    login.pending_hash = _digest(pending)
    login.code_hash = None
    login.code_expires_at = now + dt.timedelta(minutes=CODE_MINUTES)  # the step's end, with a code or not
    session.add(login)
    passkey = session.exec(select(FamilyPasskey.id).where(FamilyPasskey.login_id == login.id)).first()
    return CodeStep(login.id, login.email, None, pending) if passkey is not None else _new_code(login, pending, now)


def _new_code(login: FamilyLogin, pending: str, now: dt.datetime) -> CodeStep:
    assert login.id is not None
    code = f"{secrets.randbelow(10**6):06d}"
    login.code_hash = _digest(f"{login.id}:{code}")
    login.code_expires_at = now + dt.timedelta(minutes=CODE_MINUTES)
    return CodeStep(login.id, login.email, code, pending)


def mail_code(session: Session, pending: str, *, now: dt.datetime) -> CodeStep | None:
    """A new code for the step `pending` (the earlier one stops working): asked instead of the passkey. None for an
    unknown or ended step."""
    login = step_login(session, pending, now=now)
    if login is None:
        return None
    step = _new_code(login, pending, now)
    session.add(login)
    return step


def code_sent(session: Session, pending: str, *, now: dt.datetime) -> bool:
    """Whether the step `pending` has a code mailed that still works."""
    login = step_login(session, pending, now=now)
    return login is not None and login.code_hash is not None


def step_login(session: Session, pending: str, *, now: dt.datetime) -> FamilyLogin | None:
    """The login whose second step `pending` is, while it lasts (`CODE_MINUTES` from the password or the last
    code); None otherwise."""
    login = _pending(session, pending)
    if login is None or login.code_expires_at is None or _as_utc(login.code_expires_at) <= now:
        return None
    return login


def end_step(session: Session, login: FamilyLogin) -> None:
    """The second step passed (by the code or a passkey): its token and code stop working, the failures are
    forgotten."""
    login.pending_hash = login.code_hash = None
    login.code_expires_at = None
    session.add(login)
    login_throttle.forget(session, throttle_name(login.email))


def pending_email(session: Session, pending: str) -> str | None:
    login = _pending(session, pending)
    return login.email if login else None


def _pending(session: Session, pending: str) -> FamilyLogin | None:
    if not pending:
        return None
    return session.exec(select(FamilyLogin).where(FamilyLogin.pending_hash == _digest(pending))).first()


def check_code(
    session: Session, pending: str, code: str, *, now: dt.datetime, client: str | None
) -> FamilyLogin | None:
    """Step 2: the login when `code` is the one mailed for this step, in time and unused (it then is used);
    else None, a failure counted."""
    login = _pending(session, pending)
    typed = "".join((code or "").split())
    good = (
        login is not None
        and login.code_hash is not None
        and login.code_expires_at is not None
        and _as_utc(login.code_expires_at) > now
        and typed.isascii()
        and typed.isdigit()
        and hmac.compare_digest(login.code_hash, _digest(f"{login.id}:{typed}"))
    )
    if login is None or not good:
        login_throttle.failed(session, client, throttle_name(login.email if login else ""), now=now)
        return None
    end_step(session, login)
    return login


def open_session(session: Session, login_id: int, *, now: dt.datetime) -> tuple[str, str]:
    """A new family session: (the cookie's token, the CSRF token); ended sessions, anyone's, removed on the way."""
    ended = sa.or_(
        col(FamilySession.last_seen_at) < now - IDLE_TIME, col(FamilySession.created_at) < now - SESSION_TIME
    )
    session.exec(delete(FamilySession).where(ended))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        FamilySession(token_hash=_digest(token), login_id=login_id, csrf_token=csrf, created_at=now, last_seen_at=now)
    )
    return token, csrf


def find_session(session: Session, token: str, *, now: dt.datetime) -> tuple[FamilyLogin, FamilySession] | None:
    if not token:
        return None
    found = session.get(FamilySession, _digest(token))
    if found is None:
        return None
    if now - _as_utc(found.last_seen_at) > IDLE_TIME or now - _as_utc(found.created_at) > SESSION_TIME:
        session.delete(found)
        return None
    login = session.get(FamilyLogin, found.login_id)
    if login is None:
        return None
    found.last_seen_at = now
    session.add(found)
    return login, found


def close_session(session: Session, token: str) -> None:
    session.exec(delete(FamilySession).where(col(FamilySession.token_hash) == _digest(token)))


def set_parents_may_see(session: Session, login: FamilyLogin, may_see: bool, *, today: dt.date) -> None:
    """The pupil's own switch (from 16): whether the parents see the case. Refused to anyone else."""
    family, pupil = family_of(session, login, today)
    if not rules.may_decide_for_parents(family):
        raise InvalidInput("ouders_zien", rules.NOT_DECIDING)
    pupil.parents_may_see = may_see
    session.add(pupil)
