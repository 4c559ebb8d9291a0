"""Who may log in to the dossier, and the sessions of those logged in.

A login is a password, stored as an Argon2id hash (pwdlib), and a second factor: a TOTP code (RFC 6238,
pyotp) from an authenticator app, as NEN 7510 asks for access to health data. Failed attempts are counted per
client address and per login name (`oja.services.login_throttle`): an address or a name with too many waits,
longer at every failure, but a locked login stays open to the right password and code from an address that has
not failed. Every failure takes the same time and gets the same answer, for a real login or not; a code is
accepted once (a code seen by someone over a shoulder cannot be used
again). A session is a random token in the browser's cookie; the database holds only its SHA-256, with the
session's CSRF token. A session ends after 30 minutes without use, or 10 hours after login, or at log-out.

Everything here takes a Session and the time; the dossier's pages (oja/dossier/) and the `oja login` commands
call it. Nothing here writes to the access log: the caller logs what happened, in the same transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import math
import secrets
from typing import Any

import pyotp
import sqlalchemy as sa
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, col, delete, select

from models.errors import InvalidInput, UnknownReference
from models.tables import Professional
from models.tables_dossier import Login, WebSession
from oja.services import login_throttle

IDLE_TIME = dt.timedelta(minutes=30)  # a session unused this long has ended
SESSION_TIME = dt.timedelta(hours=10)  # and any session this long after its login
PASSWORD_MIN = 12
ISSUER = "OJA-dossier"
# the demo's logins share this TOTP secret and a password: `oja start` prints both; a production start refuses them
DEMO_TOTP_SECRET = "OJADEMOTOTPGEHEIMOJADEMOTOTPGEHE"
DEMO_PASSWORD = "oja-demo-wachtwoord"
REFUSED = "gebruikersnaam, wachtwoord of code onjuist"  # one message whatever was wrong: nothing to probe
FORM_EXPIRED = "het formulier was verlopen: probeer het opnieuw"  # the login form's own token did not match

_hasher = PasswordHash((Argon2Hasher(),))
_dummy_hash = _hasher.hash(secrets.token_urlsafe(16))  # verified against for an unknown user: the same time


@dataclasses.dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt: the professional, or the refusal (in Dutch) and whether it locked."""

    professional: Professional | None
    refusal: str | None = None
    locked: bool = False  # this attempt locked the name, or was refused as its address must wait
    retry_after: int | None = None  # seconds: the address must wait (answered 429 with Retry-After)


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


def _professional(session: Session, code: str) -> Professional:
    code = (code or "").strip().upper()
    professional = session.get(Professional, code)
    if professional is None:
        raise UnknownReference("professional_code", "professional", code)
    return professional


def check_password_rule(password: str, code: str) -> None:
    """Refuse a password that is too short, or the same character over and over, or the user's own code."""
    if len(password) < PASSWORD_MIN:
        raise InvalidInput("wachtwoord", f"moet minstens {PASSWORD_MIN} tekens lang zijn")
    if len(set(password)) < 4:
        raise InvalidInput("wachtwoord", "moet uit meer verschillende tekens bestaan")
    if code.strip().upper() in password.upper():
        raise InvalidInput("wachtwoord", "mag de gebruikersnaam niet bevatten")


def set_password(session: Session, code: str, password: str) -> None:
    """Set (or reset) a professional's password; it also lifts a lock-out."""
    professional = _professional(session, code)
    check_password_rule(password, professional.code)
    login = session.get(Login, professional.code)
    if login is None:
        login = Login(professional_code=professional.code, password_hash="")
    login.password_hash = _hasher.hash(password)
    login.password_set_at = dt.datetime.now(dt.UTC)
    login.failed_attempts = 0
    login.locked_until = None
    login_throttle.forget(session, professional.code)
    session.add(login)


def enrol_totp(session: Session, code: str, secret: str | None = None) -> str:
    """Give a professional (with a password) a new TOTP secret; returns it (base32). The old one stops working."""
    professional = _professional(session, code)
    login = session.get(Login, professional.code)
    if login is None:
        raise InvalidInput("professional_code", "stel eerst een wachtwoord in (oja login password)")
    login.totp_secret = secret or pyotp.random_base32()
    login.totp_last_step = None
    session.add(login)
    return login.totp_secret


def totp_uri(code: str, secret: str) -> str:
    """The otpauth:// address an authenticator app reads (as a QR code, or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=code, issuer_name=ISSUER)


def unlock(session: Session, code: str) -> None:
    login = session.get(Login, _professional(session, code).code)
    if login is not None:
        login.failed_attempts = 0
        login.locked_until = None
        session.add(login)
    login_throttle.forget(session, code)


def tokens_match(expected: str, given: object) -> bool:
    """The login form's token against its cookie, in constant time; any text (non-ASCII too) is a mere mismatch."""
    if not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass"))


def _wait_words(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return "1 minuut" if minutes == 1 else f"{minutes} minuten"


def _code_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The 30-second step whose code this is (the step before and after count too, for clocks that differ)."""
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):  # not '١٢٣٤٥٦': digits of another script
        return None
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        moment = now + dt.timedelta(seconds=30 * offset)
        if hmac.compare_digest(totp.at(moment).encode(), code.encode()):
            return totp.timecode(moment)
    return None


def authenticate(
    session: Session,
    code: str,
    password: str,
    totp_code: str,
    *,
    now: dt.datetime,
    client: str | None = None,
    form_ok: bool = True,
) -> LoginResult:
    """Check a login attempt from the address `client` (`form_ok`: the form's own token matched). A failure
    counts for the address and the name typed: the caller commits either way. An address that must wait is
    refused before anything is checked; every other attempt does the password hash's work, known login or not."""
    code = (code or "").strip().upper()
    waiting = login_throttle.wait_seconds(session, client, code, now=now)
    if waiting is not None:
        words = f"te veel mislukte pogingen: probeer het over {_wait_words(waiting)} opnieuw"
        return LoginResult(None, words, locked=True, retry_after=waiting)
    if not form_ok:
        return LoginResult(None, FORM_EXPIRED, locked=login_throttle.failed(session, client, code, now=now))
    login = session.get(Login, code) if code else None
    # as long as a real check for an unknown user: no telling who exists
    password_ok = _hasher.verify(password or "", login.password_hash if login else _dummy_hash)
    if login is None:
        password_ok = False
    secret = login.totp_secret if login else None
    step = _code_step(secret, totp_code or "", now) if secret else None
    if login and password_ok and step is not None and (login.totp_last_step is None or step > login.totp_last_step):
        login.totp_last_step = step
        session.add(login)
        login_throttle.forget(session, code)
        return LoginResult(session.get(Professional, code))
    locked = login_throttle.failed(session, client, code, now=now)
    if login and password_ok and login.totp_secret is None:
        return LoginResult(None, "er is nog geen tweede factor ingesteld: vraag de beheerder (oja login totp)")
    return LoginResult(None, REFUSED, locked=locked)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, code: str, *, now: dt.datetime) -> tuple[str, str]:
    """A new session for the professional: (the cookie's token, the CSRF token of its forms). Sessions that
    have ended (idle or too old), anyone's, are removed on the way."""
    ended = sa.or_(col(WebSession.last_seen_at) < now - IDLE_TIME, col(WebSession.created_at) < now - SESSION_TIME)
    session.exec(delete(WebSession).where(ended))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSession(token_hash=_digest(token), professional_code=code, csrf_token=csrf, created_at=now, last_seen_at=now)
    )
    return token, csrf


TOUCH_EVERY = dt.timedelta(minutes=1)  # the gateway's requests (many a second) mark a session used at most this often


def find_session(
    session: Session, token: str, *, now: dt.datetime, touch_every: dt.timedelta | None = None
) -> tuple[Professional, WebSession] | None:
    """The live session of this token, its last use set to now; None for an unknown, idle or too old one
    (which is then removed). With `touch_every`, the last use is written only when it is older than that: a
    read then writes nothing (the Prefect UI asks several times a second; idle time counts in minutes)."""
    if not token:
        return None
    row = session.exec(_session_and_professional(), params={"token_hash": _digest(token)}).first()
    if row is None:
        return None
    found, professional = row
    if now - _as_utc(found.last_seen_at) > IDLE_TIME or now - _as_utc(found.created_at) > SESSION_TIME:
        session.delete(found)
        return None
    if professional is None:
        return None
    if touch_every is None or now - _as_utc(found.last_seen_at) >= touch_every:
        found.last_seen_at = now
        session.add(found)
    return professional, found


@functools.cache
def _session_and_professional() -> Any:
    """A session and its professional in one query, made once per process: every page and every request of the
    Prefect UI through the gateway asks it (`oja.services.reads` tells why)."""
    on = col(Professional.code) == col(WebSession.professional_code)
    return (
        select(WebSession, Professional)
        .outerjoin(Professional, on)
        .where(col(WebSession.token_hash) == sa.bindparam("token_hash"))
    )


def close_session(session: Session, token: str) -> None:
    session.exec(delete(WebSession).where(col(WebSession.token_hash) == _digest(token)))


def close_sessions_of(session: Session, code: str) -> int:
    """End every session of a professional (a new password, a lost phone); returns how many."""
    rows = session.exec(select(WebSession).where(WebSession.professional_code == code)).all()
    for row in rows:
        session.delete(row)
    return len(rows)
