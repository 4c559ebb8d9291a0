"""The login under hostile traffic (issue 24), over real HTTP from several client addresses (127.0.0.x): an
attacker cannot keep a real user out, gets 429 with Retry-After, cannot tell real logins from unknown ones by
answer or time, and cannot crash the login with non-ASCII input."""

from __future__ import annotations

import re
import statistics
import time

import httpx
import pyotp
import pytest
from sqlmodel import col, select

from models.tables_dossier import LoginThrottle
from models.vocabulary import AccessAction, AccessOutcome
from oja.services import login_throttle
from oja.services.logins import DEMO_PASSWORD, DEMO_TOTP_SECRET, REFUSED
from tests.dossier.conftest import LOGIN_COOKIE, SESSION_COOKIE, Dossier, form_csrf, form_login

FAILED, REFUSED_ = AccessAction.LOGIN_FAILED.value, AccessOutcome.REFUSED.value


def _error(response: httpx.Response) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text, re.S)
    assert found, response.text[-1500:]
    return found.group(1)


@pytest.fixture
def clean(dossier: Dossier):
    dossier.allow_code_again("PRF-0004")
    yield dossier
    dossier.allow_code_again("PRF-0004")  # and every address's failures forgotten, for the tests after this


def test_an_attacker_from_one_address_cannot_keep_the_real_user_out_and_gets_429(clean: Dossier):
    code = "PRF-0004"
    attacker = clean.client(address="127.0.0.2")
    answers = [form_login(attacker, code, password=f"fout-{i}").status_code for i in range(12)]
    assert answers[:5] == [401] * 5  # five tries, then the login is locked for clients that failed
    assert set(answers[5:]) == {429}
    refused = form_login(attacker, code)  # even the right password and code: this client has failed
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "te veel" in _error(refused) and SESSION_COOKIE not in refused.cookies
    real = form_login(clean.client(address="127.0.0.3"), code)  # another address, right password and code
    assert real.status_code == 303 and SESSION_COOKIE in real.cookies


def test_a_locked_login_is_not_opened_by_a_clean_address_without_the_right_password(clean: Dossier):
    code = "PRF-0004"
    attacker = clean.client(address="127.0.0.2")
    for i in range(5):
        assert form_login(attacker, code, password=f"fout-{i}").status_code == 401
    other = clean.client(address="127.0.0.7")
    assert form_login(other, code, password="ook-fout").status_code == 401  # checked, and it failed
    assert form_login(other, code).status_code == 429  # this address has failed now: it waits too


Tried = list[tuple[int, str, bool, float]]  # status, message, Retry-After given, seconds


def _timed_tries(dossier: Dossier, logins: list[tuple[str, str]], tries: int) -> list[Tried]:
    """`tries` wrong logins for each (name, client address), taken in turn, one of each after the other, so that a
    busy moment of the machine (another test process, a server's flush) falls on all of them alike."""
    clients = [(dossier.client(address=address), name) for name, address in logins]
    found: list[Tried] = [[] for _ in logins]
    for i in range(tries):
        for (client, name), tried in zip(clients, found, strict=True):
            csrf = form_csrf(client.get("/inloggen").text)
            data = {"gebruikersnaam": name, "wachtwoord": f"fout-{i}", "code": "123456", "csrf": csrf, "volgende": "/"}
            start = time.perf_counter()
            response = client.post("/inloggen", data=data)
            took = time.perf_counter() - start
            tried.append((response.status_code, _error(response), "Retry-After" in response.headers, took))
    return found


def _close(a: list[float], b: list[float]) -> bool:
    """Medians within a third of the larger (plus 20 ms): robust on a busy machine, far from 8 ms vs 400 ms."""
    ma, mb = statistics.median(a), statistics.median(b)
    return abs(ma - mb) <= max(ma, mb) / 3 + 0.02


def test_a_known_and_an_unknown_login_get_the_same_answers_in_the_same_time_also_locked(clean: Dossier):
    known, unknown = _timed_tries(clean, [("PRF-0003", "127.0.0.4"), ("PRF-9995", "127.0.0.5")], 30)
    assert [k[:3] for k in known] == [u[:3] for u in unknown]  # the same status, message, Retry-After
    assert {k[1] for k in known[:5]} == {REFUSED} and {k[0] for k in known[5:]} == {429}
    assert _close([k[3] for k in known[:5]], [u[3] for u in unknown[:5]])  # checked: the hash both times
    assert _close([k[3] for k in known[5:]], [u[3] for u in unknown[5:]])  # under the lock-out
    clean.allow_code_again("PRF-0003")


def _throttle_failures(dossier: Dossier, name: str) -> int:
    with dossier.db() as s:
        row = s.exec(select(LoginThrottle).where(col(LoginThrottle.key) == login_throttle.login_key(name))).first()
        return row.failures if row else 0


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [("code", "١٢٣٤٥٦", 401), ("csrf", "é", 400), ("cookie", "é", 400)],  # Arabic-Indic digits; non-ASCII tokens
)
def test_non_ascii_in_the_login_form_is_a_failed_attempt_counted_and_logged(clean: Dossier, field, value, status):
    code = "PRF-0004"
    client = clean.client(address="127.0.0.6")
    form = client.get("/inloggen")
    data = {"gebruikersnaam": code, "wachtwoord": DEMO_PASSWORD, "code": pyotp.TOTP(DEMO_TOTP_SECRET).now()}
    data |= {"csrf": form_csrf(form.text), "volgende": "/"}
    if field == "cookie":
        client.cookies.clear()
        response = client.post("/inloggen", data=data, headers={"Cookie": f"{LOGIN_COOKIE}={value}".encode()})
    else:
        data[field] = value
        response = client.post("/inloggen", data=data)
    mark_rows = [(e.action, e.outcome, e.client) for e in clean.log_since(0) if e.professional_code == code]
    assert response.status_code == status and SESSION_COOKIE not in response.cookies
    expected = REFUSED if status == 401 else "het formulier was verlopen: probeer het opnieuw"
    assert _error(response) == expected  # the answer any other failure of its kind gets
    assert mark_rows[-1] == (FAILED, REFUSED_, "127.0.0.6")
    assert _throttle_failures(clean, code) == 1
