"""Logins to the dossier (oja/services/logins.py), on SQLite and PostgreSQL: the password rule, Argon2id
hashes, a TOTP code accepted once, the lock-out, and sessions that end."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlmodel import Session, select

from models.errors import InvalidInput
from models.tables_dossier import Login, WebSession
from models.vocabulary import AccessAction, AccessOutcome
from oja.adapters.db import unit_of_work
from oja.services import login_throttle, logins

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
PASSWORD = "een lang wachtwoord 42"


@pytest.fixture
def secret(engine):
    with unit_of_work(engine) as s:
        logins.set_password(s, "prf-1", PASSWORD)
        s.flush()
        return logins.enrol_totp(s, "PRF-1")


def _try(
    engine, password: str, code: str, now: dt.datetime = NOW, client: str = "10.0.0.1", name: str = "PRF-1"
) -> logins.LoginResult:
    with unit_of_work(engine) as s:
        return logins.authenticate(s, name, password, code, now=now, client=client)


@pytest.mark.parametrize(
    ("password", "rule"),
    [("kort", "minstens 12"), ("aaaaaaaaaaaaaaa", "verschillende"), ("mijn PRF-1 wachtwoord", "gebruikersnaam")],
)
def test_a_weak_password_is_refused_naming_the_field(engine, password, rule):
    with unit_of_work(engine) as s, pytest.raises(InvalidInput, match=rule) as refused:
        logins.set_password(s, "PRF-1", password)
    assert refused.value.field == "wachtwoord"
    with Session(engine) as s:
        assert s.get(Login, "PRF-1") is None


def test_the_password_is_stored_as_an_argon2id_hash_and_the_right_code_logs_in_once(engine, secret):
    with Session(engine) as s:
        stored = s.get(Login, "PRF-1").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    code = pyotp.TOTP(secret).at(NOW)
    assert _try(engine, PASSWORD, code).professional.code == "PRF-1"
    again = _try(engine, PASSWORD, code, NOW + dt.timedelta(seconds=5))  # the same code, seen over a shoulder
    assert again.professional is None and again.refusal == logins.REFUSED
    later = NOW + dt.timedelta(seconds=30)
    assert _try(engine, PASSWORD, pyotp.TOTP(secret).at(later), later).professional is not None


def test_wrong_password_code_or_user_get_the_same_answer(engine, secret):
    code = pyotp.TOTP(secret).at(NOW)
    answers = {_try(engine, "verkeerd wachtwoord", code).refusal, _try(engine, PASSWORD, "000000").refusal}
    with unit_of_work(engine) as s:
        answers.add(logins.authenticate(s, "PRF-9", PASSWORD, code, now=NOW).refusal)
    assert answers == {logins.REFUSED}


def test_five_failures_lock_the_login_for_the_address_that_failed_not_for_the_real_user(engine, secret):
    for _ in range(login_throttle.LOGIN_FREE):
        result = _try(engine, "verkeerd wachtwoord", "123456", client="10.0.0.66")
    assert result.locked and result.refusal == logins.REFUSED
    later = NOW + dt.timedelta(seconds=30)
    right = pyotp.TOTP(secret).at(later)
    kept = _try(engine, PASSWORD, right, later, client="10.0.0.66")  # the attacker's address waits
    assert kept.professional is None and kept.retry_after == 30 and "te veel" in (kept.refusal or "")
    assert _try(engine, PASSWORD, right, later, client="10.0.0.7").professional is not None  # the real user


def test_an_address_waits_longer_at_every_failure_and_a_locked_unknown_name_answers_as_a_real_one(engine, secret):
    answers = {}
    for name in ("PRF-1", "PRF-9"):
        client, moment, waits = f"10.0.1.{name[-1]}", NOW, []
        for _ in range(login_throttle.CLIENT_FREE + 2):
            result = _try(engine, "verkeerd wachtwoord", "123456", moment, client=client, name=name)
            if result.retry_after:  # wait as asked, then fail once more
                waits.append(result.retry_after)
                moment += dt.timedelta(seconds=result.retry_after)
            else:
                moment += dt.timedelta(seconds=1)
        answers[name] = waits
    assert answers["PRF-1"] == answers["PRF-9"] and answers["PRF-1"] == sorted(answers["PRF-1"])
    assert len(set(answers["PRF-1"])) > 1  # the delay grows


def test_a_code_in_digits_of_another_script_is_a_wrong_code(engine, secret):
    result = _try(engine, PASSWORD, "١٢٣٤٥٦")  # Arabic-Indic digits: str.isdigit() says yes
    assert result.professional is None and result.refusal == logins.REFUSED


def test_a_session_ends_when_idle_too_long_or_too_old_and_ended_ones_are_removed(engine, secret):
    with unit_of_work(engine) as s:
        token, csrf = logins.open_session(s, "PRF-1", now=NOW)
    with unit_of_work(engine) as s:
        professional, web = logins.find_session(s, token, now=NOW + dt.timedelta(minutes=20))
        assert professional.code == "PRF-1" and web.csrf_token == csrf
    with unit_of_work(engine) as s:  # 20 minutes of use keep it alive; 31 minutes without do not
        assert logins.find_session(s, token, now=NOW + dt.timedelta(minutes=39)) is not None
        assert logins.find_session(s, token, now=NOW + dt.timedelta(minutes=71)) is None
    with unit_of_work(engine) as s:
        old, _ = logins.open_session(s, "PRF-1", now=NOW)
    with unit_of_work(engine) as s:
        assert logins.find_session(s, old, now=NOW + logins.SESSION_TIME + dt.timedelta(minutes=1)) is None
        logins.open_session(s, "PRF-1", now=NOW + dt.timedelta(days=1))
    with Session(engine) as s:
        rows = s.exec(select(WebSession)).all()
    assert len(rows) == 1 and all(token not in (r.token_hash, r.csrf_token) for r in rows)  # only digests


def test_a_session_read_by_the_gateway_is_marked_used_at_most_once_a_minute(engine, secret):
    with unit_of_work(engine) as s:
        token, _ = logins.open_session(s, "PRF-1", now=NOW)
    for seconds, seen in ((20, NOW), (59, NOW), (61, NOW + dt.timedelta(seconds=61))):
        with unit_of_work(engine) as s:
            _, web = logins.find_session(
                s, token, now=NOW + dt.timedelta(seconds=seconds), touch_every=logins.TOUCH_EVERY
            )
        with Session(engine) as s:
            stored = s.get(WebSession, web.token_hash).last_seen_at
        assert stored.replace(tzinfo=dt.UTC) == seen, seconds


def test_an_access_log_line_keeps_a_path_postgresql_could_not_store_printable(engine):
    from oja.services.access_log import log_access, read_access_log

    with unit_of_work(engine) as s:
        log_access(s, professional_code="PRF-1", role="zorgcoordinator", action=AccessAction.PREFECT_READ,
                   path="/api/flow_runs/\x00/graph", client="127.0.0.1", outcome=AccessOutcome.REFUSED,
                   reason="GET /api/\x00\x1b[31m staat niet op de lijst")  # fmt: skip
    with Session(engine) as s:
        [line] = read_access_log(s)
    assert (line.path, line.reason) == ("/api/flow_runs/?/graph", "GET /api/??[31m staat niet op de lijst")
