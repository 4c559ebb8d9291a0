"""The family's passkeys (issue 26): a WebAuthn credential as the second factor instead of the mailed code, checked
by `webauthn` (Duo Labs' py_webauthn). A passkey replaces the code only: the password comes first
(`family_logins.check_password`), and the mailed code stays the way in without the passkey at hand.

    relying_party(url)      the relying party of the dossier's public address (`oja.config.dossier_url`): its host
                            is the RP id, its scheme and host the only origin accepted
    registration_options, register
                            adding a passkey, in a family session: the options (JSON, for
                            navigator.credentials.create) and the browser's answer, checked and stored
    sign_in_options, sign_in
                            the second step with a passkey: the options (the login's passkeys) and the answer; a
                            refusal counts in `login_throttle` as a wrong code does
    passkeys_of, remove     the login's passkeys, and removing one of its own

Each ceremony's challenge is kept in `family_passkey_challenge`, bound to the SHA-256 of what the browser holds
(the session's token, or the login step's), one at a time, used once (taken before it is checked), for
`CHALLENGE_MINUTES`. Nothing here writes the access log: the caller logs, in the same transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, delete, select
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from models.tables_family import FamilyLogin, FamilyPasskey, FamilyPasskeyChallenge
from oja.services import family_logins, login_throttle

CHALLENGE_MINUTES = 5
REGISTER, SIGN_IN = "registreren", "inloggen"
MAX_PASSKEYS = 10
RP_NAME = "Ondersteuning op school"
NO_CHALLENGE = "de aanvraag is verlopen of al gebruikt: probeer het opnieuw"
NOT_VERIFIED = "de passkey kon niet worden gecontroleerd"
UNKNOWN_PASSKEY = "deze passkey hoort niet bij deze toegang"
KNOWN_PASSKEY = "deze passkey is al toegevoegd"
TOO_MANY = f"u kunt hoogstens {MAX_PASSKEYS} passkeys hebben: verwijder er eerst een"


@dataclasses.dataclass(frozen=True)
class RelyingParty:
    id: str  # the host name, without port
    origin: str  # scheme://host[:port], lower case
    name: str = RP_NAME


@dataclasses.dataclass(frozen=True)
class Registered:
    passkey: FamilyPasskey | None
    reason: str = ""  # why not: in Dutch, for the page and the access log


@dataclasses.dataclass(frozen=True)
class SignedIn:
    login: FamilyLogin | None
    reason: str = ""


def relying_party(url: str) -> RelyingParty:
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        raise ValueError("the dossier's public address has no scheme or host")
    return RelyingParty(parts.hostname.lower(), f"{parts.scheme}://{parts.netloc}".lower())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def passkeys_of(session: Session, login_id: int) -> list[FamilyPasskey]:
    return list(
        session.exec(select(FamilyPasskey).where(FamilyPasskey.login_id == login_id).order_by(col(FamilyPasskey.id)))
    )


def _descriptors(passkeys: list[FamilyPasskey]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=_from_b64url(p.credential_id),
            transports=[AuthenticatorTransport(t) for t in p.transports.split(",") if t in known] or None,
        )
        for p in passkeys
    ]


def _from_b64url(text: str) -> bytes:
    return base64url_to_bytes(text)


def _keep_challenge(
    session: Session, bound_to: str, purpose: str, login_id: int, challenge: bytes, now: dt.datetime
) -> None:
    bound = _digest(bound_to)
    session.exec(delete(FamilyPasskeyChallenge).where(col(FamilyPasskeyChallenge.bound_hash) == bound))
    session.exec(delete(FamilyPasskeyChallenge).where(col(FamilyPasskeyChallenge.expires_at) < now))  # anyone's
    session.add(
        FamilyPasskeyChallenge(
            bound_hash=bound,
            purpose=purpose,
            login_id=login_id,
            challenge=bytes_to_base64url(challenge),
            expires_at=now + dt.timedelta(minutes=CHALLENGE_MINUTES),
        )
    )


def _take_challenge(session: Session, bound_to: str, purpose: str, login_id: int, now: dt.datetime) -> bytes | None:
    """The challenge bound to `bound_to` for this purpose and login, removed whatever it is (once only)."""
    if not bound_to:
        return None
    found = session.get(FamilyPasskeyChallenge, _digest(bound_to), with_for_update=True)
    if found is None:
        return None
    session.delete(found)
    session.flush()
    late = family_logins._as_utc(found.expires_at) <= now
    if late or found.purpose != purpose or found.login_id != login_id:
        return None
    return _from_b64url(found.challenge)


# ---- adding a passkey, in a family session -------------------------------------------------------------------


def registration_options(
    session: Session, login_id: int, session_token: str, rp: RelyingParty, *, now: dt.datetime
) -> str:
    """The options for navigator.credentials.create (JSON), the challenge bound to the family session."""
    login = session.get(FamilyLogin, login_id)
    assert login is not None
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=hashlib.sha256(f"oja-gezin-{login_id}".encode()).digest()[:16],  # nothing personal: no address
        user_name=login.email,  # shown by their own device only, to choose the passkey
        user_display_name=login.email,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED
        ),
        exclude_credentials=_descriptors(passkeys_of(session, login_id)),
        timeout=CHALLENGE_MINUTES * 60_000,
    )
    _keep_challenge(session, session_token, REGISTER, login_id, options.challenge, now)
    return options_to_json(options)


def register(
    session: Session, login_id: int, session_token: str, credential: Any, rp: RelyingParty, *, now: dt.datetime
) -> Registered:
    """The browser's answer to the registration options: the new passkey (`passkey N`), or why not."""
    challenge = _take_challenge(session, session_token, REGISTER, login_id, now)
    if challenge is None:
        return Registered(None, NO_CHALLENGE)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin
        )
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return Registered(None, NOT_VERIFIED)
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.exec(select(FamilyPasskey.id).where(FamilyPasskey.credential_id == credential_id)).first():
        return Registered(None, KNOWN_PASSKEY)
    own = passkeys_of(session, login_id)
    if len(own) >= MAX_PASSKEYS:
        return Registered(None, TOO_MANY)
    number = max((int(p.name.split()[-1]) for p in own if p.name.split()[-1].isdigit()), default=0) + 1
    transports = credential.get("response", {}).get("transports") if isinstance(credential, dict) else None
    known = {t.value for t in AuthenticatorTransport}
    passkey = FamilyPasskey(
        login_id=login_id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(t for t in (transports or []) if isinstance(t, str) and t in known)[:100],
        name=f"passkey {number}",
        created_at=now,
    )
    session.add(passkey)
    session.flush()
    return Registered(passkey)


def remove(session: Session, login_id: int, passkey_id: int) -> FamilyPasskey | None:
    """Remove a passkey of this login (None: no such passkey of theirs)."""
    passkey = session.get(FamilyPasskey, passkey_id)
    if passkey is None or passkey.login_id != login_id:
        return None
    session.delete(passkey)
    return passkey


# ---- the second step with a passkey --------------------------------------------------------------------------


def sign_in_options(session: Session, pending: str, rp: RelyingParty, *, now: dt.datetime) -> str | None:
    """The options for navigator.credentials.get (JSON) for the login of this step, which has a passkey; None for
    an unknown or ended step, or a login without a passkey."""
    login = family_logins.step_login(session, pending, now=now)
    passkeys = passkeys_of(session, login.id) if login is not None and login.id is not None else []
    if login is None or login.id is None or not passkeys:
        return None
    options = generate_authentication_options(
        rp_id=rp.id,
        allow_credentials=_descriptors(passkeys),
        user_verification=UserVerificationRequirement.PREFERRED,
        timeout=CHALLENGE_MINUTES * 60_000,
    )
    _keep_challenge(session, pending, SIGN_IN, login.id, options.challenge, now)
    return options_to_json(options)


def sign_in(
    session: Session, pending: str, credential: Any, rp: RelyingParty, *, now: dt.datetime, client: str | None
) -> SignedIn:
    """The browser's answer to the sign-in options: the login (its step ended, its failures forgotten, the passkey's
    sign count and last use kept), or why not, a failure counted for the address and the login name."""
    login = family_logins.step_login(session, pending, now=now)
    outcome = _check(session, login, pending, credential, rp, now)
    if outcome.login is None:
        email = login.email if login is not None else ""
        login_throttle.failed(session, client, family_logins.throttle_name(email), now=now)
        return outcome
    family_logins.end_step(session, outcome.login)
    return outcome


def _check(
    session: Session, login: FamilyLogin | None, pending: str, credential: Any, rp: RelyingParty, now: dt.datetime
) -> SignedIn:
    if login is None or login.id is None:
        return SignedIn(None, NO_CHALLENGE)
    challenge = _take_challenge(session, pending, SIGN_IN, login.id, now)
    if challenge is None:
        return SignedIn(None, NO_CHALLENGE)
    raw_id = credential.get("rawId") if isinstance(credential, dict) else None
    passkey = (
        session.exec(
            select(FamilyPasskey).where(FamilyPasskey.credential_id == raw_id, FamilyPasskey.login_id == login.id)
        ).first()
        if isinstance(raw_id, str)
        else None
    )
    if passkey is None:
        return SignedIn(None, UNKNOWN_PASSKEY)
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return SignedIn(None, NOT_VERIFIED)
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
    session.add(passkey)
    return SignedIn(login)
