"""The family's passkey as the second factor (issue 26), as a service on SQLite and PostgreSQL, with a software
authenticator (`tests/webauthn_soft.py`) whose answers `webauthn` checks: adding a passkey in a session, signing
in with it after the password instead of the mailed code, and what is refused (a challenge used twice or too late,
another origin or RP id, a sign count that goes back, another login's passkey); a failure counts in the lock-out
as a wrong code does."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select

from models.tables_family import FamilyLogin, FamilyPasskey, FamilyPasskeyChallenge
from oja.adapters.db import unit_of_work
from oja.services import family_logins as fl
from oja.services import family_passkeys as fp
from oja.services.retention import destroy_dossiers
from tests.integration.test_family_logins import NOW, PASSWORD, TODAY, _case, _invite
from tests.webauthn_soft import SoftAuthenticator

RP = fp.relying_party("https://oja.voorbeeld.nl/")
ORIGIN = "https://oja.voorbeeld.nl"


def _login(engine, email: str, *, age: int = 13, n: int = 1) -> tuple[int, str]:
    """A login with its password set, and a session of it: (login id, session token)."""
    case, _ = _case(engine, age=age, n=n)
    invitation = _invite(engine, case, "ouder_1", email)
    with unit_of_work(engine) as s:
        login = fl.use_link(s, invitation.token, PASSWORD, PASSWORD, now=NOW)
        assert login.id is not None
        token, _ = fl.open_session(s, login.id, now=NOW)
        return login.id, token


def _add(engine, login_id: int, token: str, key: SoftAuthenticator, *, now: dt.datetime = NOW) -> FamilyPasskey:
    with unit_of_work(engine) as s:
        options = fp.registration_options(s, login_id, token, RP, now=now)
    with unit_of_work(engine) as s:
        done = fp.register(s, login_id, token, key.create(options), RP, now=now)
        assert done.passkey is not None, done.reason
        return done.passkey


def _password(engine, email: str, *, now: dt.datetime = NOW) -> fl.CodeStep:
    with unit_of_work(engine) as s:
        step = fl.check_password(s, email, PASSWORD, now=now, client="203.0.113.9")
    assert step is not None
    return step


def test_a_passkey_added_in_a_session_replaces_the_mailed_code(engine):
    assert (RP.id, RP.origin) == ("oja.voorbeeld.nl", ORIGIN)
    login_id, token = _login(engine, "sleutel@voorbeeld.nl")
    key = SoftAuthenticator(RP.id, ORIGIN)
    with unit_of_work(engine) as s:
        options = json.loads(fp.registration_options(s, login_id, token, RP, now=NOW))
    assert options["rp"]["id"] == "oja.voorbeeld.nl" and options["excludeCredentials"] == []
    with unit_of_work(engine) as s:
        done = fp.register(s, login_id, token, key.create(options), RP, now=NOW)
    assert done.passkey is not None and done.passkey.name == "passkey 1"
    second = _add(engine, login_id, token, SoftAuthenticator(RP.id, ORIGIN))
    assert second.name == "passkey 2"
    with unit_of_work(engine) as s:
        stored = s.exec(select(FamilyPasskey).where(FamilyPasskey.login_id == login_id)).all()
        assert [(p.credential_id, p.transports, p.sign_count) for p in stored][0] == (key.id, "internal", 0)
        assert fp.registration_options(s, login_id, token, RP, now=NOW).count(key.id) == 1  # excluded: known

    step = _password(engine, "sleutel@voorbeeld.nl")
    assert step.code is None  # no code mailed: the passkey is asked first
    with unit_of_work(engine) as s:
        options = fp.sign_in_options(s, step.pending, RP, now=NOW)
    assert options is not None and key.id in options
    later = NOW + dt.timedelta(minutes=1)
    with unit_of_work(engine) as s:
        signed = fp.sign_in(s, step.pending, key.get(options), RP, now=later, client="203.0.113.9")
    assert signed.login is not None and signed.login.id == login_id, signed.reason
    with unit_of_work(engine) as s:
        used = s.exec(select(FamilyPasskey).where(FamilyPasskey.credential_id == key.id)).one()
        assert used.sign_count == 1 and fl._as_utc(used.last_used_at) == later
        assert s.get(FamilyLogin, login_id).pending_hash is None  # the step is over
        assert s.exec(select(FamilyPasskeyChallenge).where(FamilyPasskeyChallenge.purpose == fp.SIGN_IN)).all() == []

    # the mailed code stays the way in without the passkey at hand
    step = _password(engine, "sleutel@voorbeeld.nl")
    with unit_of_work(engine) as s:
        mailed = fl.mail_code(s, step.pending, now=NOW)
    assert mailed is not None and mailed.code is not None
    with unit_of_work(engine) as s:
        assert fl.check_code(s, step.pending, mailed.code, now=NOW, client="x") is not None


def test_a_challenge_counts_once_and_for_minutes_only(engine):
    login_id, token = _login(engine, "eenmaal@voorbeeld.nl")
    key = SoftAuthenticator(RP.id, ORIGIN)
    with unit_of_work(engine) as s:
        options = fp.registration_options(s, login_id, token, RP, now=NOW)
    answer = key.create(options)
    late = NOW + dt.timedelta(minutes=fp.CHALLENGE_MINUTES, seconds=1)
    with unit_of_work(engine) as s:
        assert fp.register(s, login_id, token, answer, RP, now=late).passkey is None  # too late
    with unit_of_work(engine) as s:
        assert fp.register(s, login_id, token, answer, RP, now=NOW).reason == fp.NO_CHALLENGE  # and gone
    with unit_of_work(engine) as s:
        options = fp.registration_options(s, login_id, token, RP, now=NOW)
    _, other_token = _login(engine, "ander@voorbeeld.nl", n=2)
    with unit_of_work(engine) as s:  # another session's challenge is not this one's
        assert fp.register(s, login_id, other_token, key.create(options), RP, now=NOW).passkey is None
    answer = key.create(options)
    with unit_of_work(engine) as s:
        assert fp.register(s, login_id, token, answer, RP, now=NOW).passkey is not None
    with unit_of_work(engine) as s:
        assert fp.register(s, login_id, token, answer, RP, now=NOW).reason == fp.NO_CHALLENGE  # once

    step = _password(engine, "eenmaal@voorbeeld.nl")
    with unit_of_work(engine) as s:
        options = fp.sign_in_options(s, step.pending, RP, now=NOW)
    answer = key.get(options)
    with unit_of_work(engine) as s:
        assert fp.sign_in(s, step.pending, answer, RP, now=late, client="x").login is None
    with unit_of_work(engine) as s:
        options = fp.sign_in_options(s, step.pending, RP, now=NOW)
    answer = key.get(options)
    with unit_of_work(engine) as s:
        assert fp.sign_in(s, step.pending, answer, RP, now=NOW, client="x").login is not None
    with unit_of_work(engine) as s:
        assert fp.sign_in(s, step.pending, answer, RP, now=NOW, client="x").login is None  # the step is over


def test_another_origin_or_rp_id_is_refused(engine):
    login_id, token = _login(engine, "herkomst@voorbeeld.nl")
    key = SoftAuthenticator(RP.id, ORIGIN)
    for wrong in ({"origin": "https://oja.voorbeeld.nl.evil.example"}, {"rp_id": "evil.example"}):
        with unit_of_work(engine) as s:
            options = fp.registration_options(s, login_id, token, RP, now=NOW)
        with unit_of_work(engine) as s:
            refused = fp.register(s, login_id, token, key.create(options, **wrong), RP, now=NOW)
        assert refused.passkey is None and refused.reason, wrong
    _add(engine, login_id, token, key)
    for wrong in ({"origin": "http://oja.voorbeeld.nl"}, {"rp_id": "voorbeeld.nl"}):
        step = _password(engine, "herkomst@voorbeeld.nl")
        with unit_of_work(engine) as s:
            options = fp.sign_in_options(s, step.pending, RP, now=NOW)
        with unit_of_work(engine) as s:
            assert fp.sign_in(s, step.pending, key.get(options, **wrong), RP, now=NOW, client="x").login is None
    with unit_of_work(engine) as s:
        assert len(s.exec(select(FamilyPasskey)).all()) == 1


def test_a_sign_count_that_goes_back_is_refused(engine):
    login_id, token = _login(engine, "teller@voorbeeld.nl")
    key = SoftAuthenticator(RP.id, ORIGIN)
    _add(engine, login_id, token, key)
    for count, good in ((5, True), (5, False), (3, False), (6, True)):
        step = _password(engine, "teller@voorbeeld.nl")
        with unit_of_work(engine) as s:
            options = fp.sign_in_options(s, step.pending, RP, now=NOW)
        with unit_of_work(engine) as s:
            signed = fp.sign_in(s, step.pending, key.get(options, sign_count=count), RP, now=NOW, client="x")
        assert (signed.login is not None) == good, (count, signed.reason)
    with unit_of_work(engine) as s:
        assert s.exec(select(FamilyPasskey.sign_count)).one() == 6


def test_another_logins_passkey_is_refused_and_counts_as_a_failure(engine):
    mine, my_token = _login(engine, "mijn@voorbeeld.nl")
    theirs, their_token = _login(engine, "hun@voorbeeld.nl", n=2)
    _add(engine, mine, my_token, SoftAuthenticator(RP.id, ORIGIN))
    their_key = SoftAuthenticator(RP.id, ORIGIN)
    their_passkey = _add(engine, theirs, their_token, their_key)
    for _ in range(5):
        step = _password(engine, "mijn@voorbeeld.nl")
        with unit_of_work(engine) as s:
            options = fp.sign_in_options(s, step.pending, RP, now=NOW)
            assert options is not None and their_key.id not in options
        with unit_of_work(engine) as s:
            signed = fp.sign_in(s, step.pending, their_key.get(options), RP, now=NOW, client="198.51.100.3")
        assert signed.login is None and signed.reason == fp.UNKNOWN_PASSKEY
    with unit_of_work(engine) as s:  # five failed second steps: the login name waits, as after five wrong codes
        assert fl.wait_seconds(s, "198.51.100.3", "mijn@voorbeeld.nl", now=NOW) == 60
        assert fp.remove(s, mine, their_passkey.id or 0) is None  # nor removed by another login
        assert fp.remove(s, theirs, their_passkey.id or 0) is not None
        assert fp.passkeys_of(s, theirs) == []


def test_destroying_the_dossier_removes_the_passkeys(engine):
    login_id, token = _login(engine, "weg.sleutel@voorbeeld.nl")
    _add(engine, login_id, token, SoftAuthenticator(RP.id, ORIGIN))
    with unit_of_work(engine) as s:
        fp.registration_options(s, login_id, token, RP, now=NOW)  # a ceremony in progress
        pupil_id = s.get(FamilyLogin, login_id).pupil_id
    with unit_of_work(engine) as s:
        destroy_dossiers(s, [pupil_id], actor="PRF-1", reason="test", today=TODAY)
    with unit_of_work(engine) as s:
        assert s.exec(select(FamilyPasskey)).all() == [] and s.exec(select(FamilyPasskeyChallenge)).all() == []


@pytest.mark.parametrize("url", ["http://localhost:8000", "https://oja.voorbeeld.nl:8443/pad/"])
def test_the_relying_party_is_the_public_address(url):
    rp = fp.relying_party(url)
    assert rp.id == url.split("//")[1].split(":")[0]
    assert rp.origin == url.rstrip("/").removesuffix("/pad")
