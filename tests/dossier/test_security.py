"""The dossier's security, over real HTTP: every role against every page and action (refused without a login,
refused and logged outside its scope, allowed and logged inside it), the login (one message for every wrong
answer, a lock-out after five, a code that counts once), session fixation, CSRF on every form, the end of a
session (log-out, idle, too old), the headers on every page, cookies over HTTPS behind a proxy, and no redirect
off the site."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pyotp
import pytest
from sqlalchemy import func
from sqlmodel import col, select

from models.lifecycle import AuditAction
from models.tables import AuditRecord, Goal, Pupil
from models.tables_dossier import AccessLogEntry, Login, WebSession
from models.vocabulary import AccessAction, AccessOutcome
from oja.adapters.db import unit_of_work
from oja.services.import_previews import keep_preview
from oja.services.logins import DEMO_PASSWORD, DEMO_TOTP_SECRET, IDLE_TIME, REFUSED, SESSION_TIME, _digest
from tests.dossier.conftest import LOGIN_COOKIE, SESSION_COOKIE, Dossier, form_csrf, form_login
from tests.factories import valid_bsn

CASE_FAMILY = "Scholten"  # the demo's active case of 10HV; the pupil lives in GM0164; JEUGDPUNT delivers
ALLOWED, REFUSED_ = AccessOutcome.ALLOWED.value, AccessOutcome.REFUSED.value

ROLES = {
    "coordinator of the case's school": "PRF-0001",
    "coordinator of another school": "PRF-0002",
    "youth worker whose provider delivers": "PRF-0011",
    "youth worker whose provider does not": "PRF-0013",
    "district team of the pupil's municipality": "PRF-0021",
    "district team of another municipality": "PRF-0022",
    "team lead without a school": "PRF-0031",
    "manager": "PRF-0041",
    "privacy officer": "PRF-0051",
    "operator": "PRF-0061",  # the engine's settings in Prefect; no case, no figures, no access log
}
IN_CASE = {"PRF-0001", "PRF-0011", "PRF-0021"}  # may see the case and its pupil
SCHOOL = {"PRF-0001", "PRF-0002"}  # register and import pupils (for their own school)
OVERSIGHT = {"PRF-0031", "PRF-0041"}  # the figures and the evaluation report
PRIVACY = {"PRF-0051"}  # the access log
WORKLIST = IN_CASE | {"PRF-0002", "PRF-0013", "PRF-0022"}  # have a worklist of cases (maybe empty)
WRITERS = IN_CASE - {"PRF-0021"}  # the district team reads the goals, the core team writes them
EXPORTERS = {"PRF-0001"}  # the subject-access export: the school roles (the README's table)

_numbers = itertools.count()


def pupil_csv(*rows: tuple[str, str, str, str]) -> bytes:
    lines = ["roepnaam;achternaam;geboortedatum;bsn;gemeentecode", *(";".join((*row, "GM0164")) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def a_pupil() -> tuple[str, str, str, str]:
    n = next(_numbers)
    return (f"Matrix{n}", f"Leerling{n}", "2014-05-05", valid_bsn(n, base=513000000))


@dataclasses.dataclass(frozen=True)
class Route:
    """A page or action: how to call it for a user (with their CSRF token), who may, and what is logged."""

    name: str
    method: str
    path: str  # {case} and {pupil}: the demo case and its pupil
    allowed: frozenset[str]
    ok_status: int
    action: AccessAction  # logged on a refusal
    call: Callable[[httpx.Client, str, str | None], httpx.Response]  # (client, path, csrf; None: no field)
    done: AccessAction | None = None  # logged when allowed, if not `action`
    logs_view: bool = True  # an empty form shows no personal data: nothing to log when allowed

    @property
    def allowed_action(self) -> AccessAction:
        return self.done or self.action


def _form(csrf: str | None, **fields: str) -> dict[str, str]:
    return fields if csrf is None else {"csrf": csrf, **fields}


def _get(client: httpx.Client, path: str, csrf: str | None) -> httpx.Response:
    return client.get(path)


def _goals(client: httpx.Client, path: str, csrf: str | None) -> httpx.Response:
    return client.post(path, data=_form(csrf, doel_1=f"Samen naar school, afspraak {next(_numbers)}"))


def _register(client: httpx.Client, path: str, csrf: str | None) -> httpx.Response:
    given, family, born, bsn = a_pupil()
    data = _form(csrf, given_name=given, family_name=family, birth_date=born, bsn=bsn, municipality_code="GM0164")
    return client.post(path, data={**data, "parent_1": f"Ouder {family}", "parent_1_gezag": "1"})


def _preview(client: httpx.Client, path: str, csrf: str | None) -> httpx.Response:
    files = {"bestand": ("leerlingen.csv", pupil_csv(a_pupil()), "text/csv")}
    return client.post(path, data=_form(csrf), files=files)


def _confirm(client: httpx.Client, path: str, csrf: str | None) -> httpx.Response:
    """Confirm a preview of this client's session (made directly: a preview through the page is logged)."""
    kept = "geen-sessie"
    if token := client.cookies.get(SESSION_COOKIE):
        with unit_of_work() as session:
            kept = keep_preview(session, token=token, content=pupil_csv(a_pupil()), now=dt.datetime.now(dt.UTC))
    return client.post(path, data=_form(csrf, voorvertoning=kept))


def _everyone(*groups: set[str]) -> frozenset[str]:
    return frozenset().union(*groups)


A = AccessAction
ROUTES = [
    Route("my cases", "GET", "/", _everyone(WORKLIST), 200, A.VIEW_WORKLIST, _get),
    Route("case page", "GET", "/casus/{case}", _everyone(IN_CASE), 200, A.VIEW_CASE, _get),
    Route("goals form", "GET", "/casus/{case}/doelen", _everyone(WRITERS), 200, A.DESCRIBE_GOALS, _get, A.VIEW_CASE),
    Route("goals saved", "POST", "/casus/{case}/doelen", _everyone(WRITERS), 303, A.DESCRIBE_GOALS, _goals),
    Route("export", "GET", "/leerling/{pupil}/inzage", _everyone(EXPORTERS), 200, A.EXPORT_PUPIL, _get),
    Route("register form", "GET", "/leerlingen/nieuw", _everyone(SCHOOL), 200, A.REGISTER_PUPIL, _get, None, False),
    Route("register", "POST", "/leerlingen/nieuw", _everyone(SCHOOL), 303, A.REGISTER_PUPIL, _register),
    Route("import form", "GET", "/leerlingen/import", _everyone(SCHOOL), 200, A.PREVIEW_IMPORT, _get, None, False),
    Route("import preview", "POST", "/leerlingen/import", _everyone(SCHOOL), 200, A.PREVIEW_IMPORT, _preview),
    Route("import", "POST", "/leerlingen/import/bevestigen", _everyone(SCHOOL), 303, A.IMPORT_PUPILS, _confirm),
    Route("figures", "GET", "/rapport", _everyone(OVERSIGHT), 200, A.VIEW_REPORT, _get),
    Route("evaluation", "GET", "/rapport/evaluatie", _everyone(OVERSIGHT), 200, A.VIEW_REPORT, _get),
    Route("access log", "GET", "/toegangslog", _everyone(PRIVACY), 200, A.VIEW_ACCESS_LOG, _get),
]
HOME_OF = {"PRF-0031": "/rapport", "PRF-0041": "/rapport", "PRF-0051": "/toegangslog", "PRF-0061": "/prefect/"}


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """What a refused request must not change (a refusal is on the case's audit trail: not counted here)."""

    pupils: int
    audit: int
    goals: tuple[str | None, ...]

    @classmethod
    def of(cls, dossier: Dossier) -> Fingerprint:
        with dossier.db() as s:
            pupils = s.exec(select(func.count()).select_from(Pupil)).one()
            changes = col(AuditRecord.action) != AuditAction.REFUSED.value
            audit = s.exec(select(func.count()).select_from(AuditRecord).where(changes)).one()
            goals = tuple(s.exec(select(Goal.description).order_by(col(Goal.id))).all())
        return cls(pupils, audit, goals)


@pytest.fixture(scope="module")
def case(dossier) -> dict[str, str]:
    case_ref, pupil_ref = dossier.case_of(CASE_FAMILY)
    return {"case": case_ref, "pupil": pupil_ref}


def _matrix():
    for route in ROUTES:
        for role, code in ROLES.items():
            yield pytest.param(route, code, id=f"{route.name} | {role}")


@pytest.mark.parametrize(("route", "code"), list(_matrix()))
def test_every_role_against_every_page_and_action(dossier, case, route: Route, code: str):
    user = dossier.as_user(code)
    path = route.path.format(**case)
    before, mark = Fingerprint.of(dossier), dossier.log_mark()
    response = route.call(user.client, path, user.csrf)
    logged = [e for e in dossier.log_since(mark) if e.professional_code == code]
    if code in route.allowed:
        assert response.status_code == route.ok_status, response.text[-1500:]
        if route.logs_view:
            assert [e.action for e in logged if e.outcome == ALLOWED] == [route.allowed_action.value] * len(logged)
            assert logged and all(e.path == path for e in logged)
        else:
            assert not logged, "an empty form shows no personal data"
        if route.path.startswith("/casus/"):
            assert all(e.case_ref == case["case"] for e in logged)
        if route.path.startswith(("/casus/", "/leerling/")):  # every line about the pupil names them (item 5)
            assert all(e.pupil_ref == case["pupil"] for e in logged)
        if route.path == "/" and code in IN_CASE:
            assert case["case"] in response.text and case["pupil"] in {e.pupil_ref for e in logged}
        if route.path == "/" and code not in IN_CASE:
            assert case["case"] not in response.text and CASE_FAMILY not in response.text
        after = Fingerprint.of(dossier)
        if route.name in ("register", "import"):
            assert after.pupils == before.pupils + 1
        elif route.name == "goals saved":
            assert after.goals != before.goals and after.audit == before.audit + 1
        else:
            assert after == before, "a view changes nothing"
    elif route.path == "/" and code in HOME_OF:
        assert response.status_code == 303 and response.headers["location"] == HOME_OF[code]
        assert not logged
    else:
        assert response.status_code == 403, response.text[-1500:]
        assert "Geen toegang" in response.text and CASE_FAMILY not in response.text
        assert [(e.action, e.outcome, e.path) for e in logged] == [(route.action.value, REFUSED_, path)]
        assert logged[0].role and logged[0].reason, "a refusal names the role and the rule"
        if route.path.startswith("/casus/"):
            assert logged[0].case_ref == case["case"] and logged[0].pupil_ref == case["pupil"]
        if route.path.startswith("/leerling/"):
            assert logged[0].pupil_ref == case["pupil"]
        assert Fingerprint.of(dossier) == before, "a refused request changes nothing"


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_every_page_and_action_without_a_login_goes_to_the_login_page(dossier, case, route: Route):
    client = dossier.client()
    path = route.path.format(**case)
    before, mark = Fingerprint.of(dossier), dossier.log_mark()
    response = route.call(client, path, None)
    assert response.status_code == 303
    assert response.headers["location"] == "/inloggen?volgende=" + quote(path)
    assert Fingerprint.of(dossier) == before and not dossier.log_since(mark)
    assert CASE_FAMILY not in response.text


def test_a_team_lead_without_a_school_lands_on_the_figures_after_login(dossier):
    dossier.allow_code_again("PRF-0031")
    response = form_login(dossier.client(), "PRF-0031")
    assert response.status_code == 303
    assert response.headers["location"] == "/rapport"


# the login -------------------------------------------------------------------------------------------------


def _error(response: httpx.Response) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text, re.S)
    assert found, response.text[-1500:]
    return found.group(1)


def _login_rows(dossier: Dossier, mark: int, code: str) -> list[tuple[str, str]]:
    return [(e.action, e.outcome) for e in dossier.log_since(mark) if e.professional_code == code]


def test_a_wrong_password_a_wrong_code_a_replayed_code_and_an_unknown_user_get_the_same_answer(dossier):
    code = "PRF-0003"
    dossier.allow_code_again(code)
    totp = pyotp.TOTP(DEMO_TOTP_SECRET)
    now_code = totp.now()
    wrong_code = f"{(int(now_code) + 1) % 1_000_000:06d}"
    mark = dossier.log_mark()
    first = form_login(dossier.client(), code, totp=now_code)
    assert first.status_code == 303 and first.headers["location"] == "/"
    answers = {
        "wrong password": form_login(dossier.client(), code, password="niet-het-wachtwoord", totp=now_code),
        "wrong code": form_login(dossier.client(), code, totp=wrong_code),
        "replayed code": form_login(dossier.client(), code, totp=now_code),
        "unknown user": form_login(dossier.client(), "PRF-9999", totp=now_code),
        "no code": form_login(dossier.client(), code, totp=""),
    }
    for what, response in answers.items():
        assert response.status_code == 401, what
        assert _error(response) == REFUSED, what
        assert SESSION_COOKIE not in response.cookies, what
    failed, refused = AccessAction.LOGIN_FAILED.value, REFUSED_
    assert _login_rows(dossier, mark, code) == [(AccessAction.LOGIN.value, ALLOWED)] + [(failed, refused)] * 4
    assert _login_rows(dossier, mark, "onbekend") == [(failed, refused)]  # not as typed: it may be a password
    dossier.allow_code_again(code)


def test_a_password_typed_as_the_user_name_is_not_kept_in_the_access_log(dossier):
    mark = dossier.log_mark()
    response = form_login(dossier.client(), "geheim-wachtwoord-van-ilse", password="")
    assert response.status_code == 401
    logged = " ".join(f"{e.professional_code} {e.reason}" for e in dossier.log_since(mark)).upper()
    assert "GEHEIM" not in logged


def test_five_failures_lock_the_login_for_the_address_that_failed_even_for_the_right_password(dossier):
    code = "PRF-0004"
    dossier.allow_code_again(code)
    mark, sessions = dossier.log_mark(), dossier.session_count(code)  # another test's session may still be open
    for attempt in range(5):
        response = form_login(dossier.client(), code, password=f"fout-{attempt}")
        assert response.status_code == 401
    right = form_login(dossier.client(), code)  # the right password and a fresh code, from the same address
    assert right.status_code == 429 and "te veel mislukte pogingen" in _error(right)
    assert SESSION_COOKIE not in right.cookies and dossier.session_count(code) == sessions
    failed, locked = AccessAction.LOGIN_FAILED.value, AccessAction.LOCKED_OUT.value
    assert _login_rows(dossier, mark, code) == [(failed, REFUSED_)] * 4 + [(locked, REFUSED_)] * 2
    dossier.allow_code_again(code)  # what `oja login unlock` does
    assert form_login(dossier.client(), code).status_code == 303


def test_four_failures_do_not_lock_and_a_good_login_resets_the_count(dossier):
    code = "PRF-0004"
    dossier.allow_code_again(code)
    for attempt in range(4):
        assert form_login(dossier.client(), code, password=f"fout-{attempt}").status_code == 401
    assert form_login(dossier.client(), code).status_code == 303
    with dossier.db() as s:
        login = s.get(Login, code)
        assert login.failed_attempts == 0 and login.locked_until is None


def test_a_session_value_set_before_login_is_not_the_session_after_it(dossier):
    code = "PRF-0012"
    dossier.allow_code_again(code)
    client = dossier.client()
    planted = "aangeboden-door-een-aanvaller-0123456789abcdef"
    client.cookies.set(SESSION_COOKIE, planted)
    response = form_login(client, code)
    assert response.status_code == 303
    token = response.cookies[SESSION_COOKIE]
    assert token != planted
    with dossier.db() as s:
        assert s.get(WebSession, _digest(planted)) is None
        assert s.get(WebSession, _digest(token)) is not None
    stranger = dossier.client()
    stranger.cookies.set(SESSION_COOKIE, planted)
    assert stranger.get("/").status_code == 303  # the planted value opens nothing


def test_a_live_session_in_the_browser_at_login_is_ended_not_taken_over(dossier):
    """A browser that still holds a session (another tab, or one planted by someone logged in as themselves)
    posts the login form: the old session ends, a new one is made."""
    code = "PRF-0012"
    dossier.allow_code_again(code)
    old = dossier.as_user(code)
    assert old.get("/").status_code == 200
    browser = dossier.client()
    form = browser.get("/inloggen")
    browser.cookies.set(SESSION_COOKIE, old.token)
    response = browser.post(
        "/inloggen",
        data={"gebruikersnaam": code, "wachtwoord": DEMO_PASSWORD, "code": pyotp.TOTP(DEMO_TOTP_SECRET).now()}
        | {"csrf": form_csrf(form.text), "volgende": "/"},
    )
    assert response.status_code == 303
    new_token = response.cookies[SESSION_COOKIE]
    assert new_token != old.token
    assert old.get("/").status_code == 303, "the session from before the login has ended"
    fresh = dossier.client()
    fresh.cookies.set(SESSION_COOKIE, new_token)
    assert fresh.get("/").status_code == 200


def test_a_login_returns_to_the_page_asked_for(dossier, case):
    code = "PRF-0002"
    dossier.allow_code_again(code)
    client = dossier.client()
    asked = client.get(f"/casus/{case['case']}/doelen")
    target = f"/casus/{case['case']}/doelen"
    assert asked.headers["location"] == "/inloggen?volgende=" + quote(target)
    form = client.get(asked.headers["location"])
    assert f'name="volgende" value="{target}"' in form.text
    response = form_login(client, code, volgende=target)
    assert response.status_code == 303 and response.headers["location"] == target
    assert client.get(target).status_code == 403  # logged in now, and outside its scope


@pytest.mark.parametrize(
    "elsewhere", ["//evil.example", "//evil.example/casus", "https://evil.example/", "/\\evil.example", "evil.example"]
)
def test_no_login_sends_the_browser_to_another_site(dossier, elsewhere):
    code = "PRF-0014"
    dossier.allow_code_again(code)
    client = dossier.client()
    form = client.get("/inloggen", params={"volgende": elsewhere})
    assert 'name="volgende" value="/"' in form.text
    response = form_login(client, code, volgende=elsewhere)
    assert response.status_code == 303 and response.headers["location"] == "/"
    again = client.get("/inloggen", params={"volgende": elsewhere})  # logged in: straight on, to this site
    assert again.status_code == 303 and again.headers["location"] == "/"


# CSRF ------------------------------------------------------------------------------------------------------

CSRF_ROUTES = [r for r in ROUTES if r.method == "POST"]


@pytest.mark.parametrize("token", ["missing", "wrong", "another session's"])
@pytest.mark.parametrize("route", CSRF_ROUTES, ids=[r.name for r in CSRF_ROUTES])
def test_a_form_without_the_right_csrf_token_is_refused_and_writes_nothing(dossier, case, route, token):
    user = dossier.as_user("PRF-0001")
    other = dossier.as_user("PRF-0001")
    given = {"missing": None, "wrong": "x" * 43, "another session's": other.csrf}[token]
    path = route.path.format(**case)
    before, mark = Fingerprint.of(dossier), dossier.log_mark()
    response = route.call(user.client, path, given)
    assert response.status_code == 403, response.text[-800:]
    assert Fingerprint.of(dossier) == before
    logged = dossier.log_since(mark)
    assert [(e.action, e.outcome) for e in logged] == [(route.action.value, REFUSED_)]
    assert "CSRF" in (logged[0].reason or "")


@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_the_login_form_without_its_csrf_token_is_refused_and_uses_no_code(dossier, token):
    code = "PRF-0003"
    dossier.allow_code_again(code)
    client = dossier.client()
    form = client.get("/inloggen")
    assert LOGIN_COOKIE in form.cookies
    totp = pyotp.TOTP(DEMO_TOTP_SECRET).now()
    data = {"gebruikersnaam": code, "wachtwoord": DEMO_PASSWORD, "code": totp, "volgende": "/"}
    if token == "wrong":
        data["csrf"] = "y" * 43
    mark, sessions = dossier.log_mark(), dossier.session_count(code)
    response = client.post("/inloggen", data=data)
    assert response.status_code == 400 and SESSION_COOKIE not in response.cookies
    assert dossier.session_count(code) == sessions
    [logged] = dossier.log_since(mark)  # a failed attempt like any other: logged (and counted)
    assert (logged.action, logged.professional_code) == (AccessAction.LOGIN_FAILED.value, code)
    with dossier.db() as s:
        assert s.get(Login, code).totp_last_step is None  # the code is still good
    assert form_login(client, code, totp=totp).status_code == 303


def test_a_login_form_from_another_browser_is_refused(dossier):
    """The token must match this browser's own login cookie: a form fetched elsewhere (a login CSRF) fails."""
    code = "PRF-0003"
    dossier.allow_code_again(code)
    attacker, victim = dossier.client(), dossier.client()
    token = form_csrf(attacker.get("/inloggen").text)
    victim.get("/inloggen")
    response = victim.post(
        "/inloggen",
        data={"gebruikersnaam": code, "wachtwoord": DEMO_PASSWORD, "code": pyotp.TOTP(DEMO_TOTP_SECRET).now()}
        | {"csrf": token, "volgende": "/"},
    )
    assert response.status_code == 400 and SESSION_COOKIE not in response.cookies


def test_a_log_out_without_the_csrf_token_is_refused_and_the_session_lives_on(dossier):
    user = dossier.as_user("PRF-0022")
    for given in ("", "z" * 43):
        response = user.post("/uitloggen", data={"csrf": given})
        assert response.status_code == 403
    assert user.get("/").status_code == 200


# the end of a session ---------------------------------------------------------------------------------------


def test_logging_out_ends_the_session_on_the_server(dossier):
    user = dossier.as_user("PRF-0022")
    assert user.get("/").status_code == 200
    mark = dossier.log_mark()
    response = user.post("/uitloggen", data={"csrf": user.csrf})
    assert response.status_code == 303 and response.headers["location"] == "/inloggen"
    assert any(c.startswith(f"{SESSION_COOKIE}=") for c in response.headers.get_list("set-cookie"))
    assert [(e.action, e.professional_code) for e in dossier.log_since(mark)] == [("uitloggen", "PRF-0022")]
    with dossier.db() as s:
        assert s.get(WebSession, _digest(user.token)) is None
    replay = dossier.client()  # the old cookie, kept by someone: no longer a session
    replay.cookies.set(SESSION_COOKIE, user.token)
    assert replay.get("/").status_code == 303
    assert replay.get("/leerlingen/nieuw").headers["location"].startswith("/inloggen")


def _age(dossier: Dossier, token: str, *, idle: dt.timedelta, old: dt.timedelta = dt.timedelta(0)) -> None:
    now = dt.datetime.now(dt.UTC)
    with dossier.db() as s:
        row = s.get(WebSession, _digest(token))
        row.last_seen_at = now - idle
        row.created_at = now - max(idle, old)
        s.add(row)
        s.commit()


def test_a_session_idle_for_thirty_minutes_has_ended(dossier):
    user = dossier.as_user("PRF-0022")
    _age(dossier, user.token, idle=IDLE_TIME - dt.timedelta(minutes=1))
    assert user.get("/").status_code == 200  # 29 minutes: still there, and its clock starts again
    with dossier.db() as s:
        seen = s.get(WebSession, _digest(user.token)).last_seen_at
    assert dt.datetime.now(dt.UTC) - seen.replace(tzinfo=dt.UTC) < dt.timedelta(minutes=1)
    _age(dossier, user.token, idle=IDLE_TIME + dt.timedelta(minutes=1))
    with dossier.db() as s:
        stale = s.get(WebSession, _digest(user.token)).last_seen_at
    for _ in range(2):  # and it stays ended: a refused request does not count as use
        response = user.get("/")
        assert response.status_code == 303 and response.headers["location"].startswith("/inloggen")
    with dossier.db() as s:
        row = s.get(WebSession, _digest(user.token))
        assert row is None or row.last_seen_at == stale


def test_a_session_ends_ten_hours_after_its_login_however_busy(dossier):
    user = dossier.as_user("PRF-0022")
    _age(dossier, user.token, idle=dt.timedelta(minutes=1), old=SESSION_TIME + dt.timedelta(minutes=1))
    assert user.get("/").status_code == 303


# headers and cookies ---------------------------------------------------------------------------------------

PAGES = [
    (None, "/inloggen"),
    (None, "/gezond"),
    (None, "/"),
    (None, "/casus/{case}"),
    ("PRF-0001", "/"),
    ("PRF-0001", "/casus/{case}"),
    ("PRF-0001", "/casus/{case}/doelen"),
    ("PRF-0001", "/leerling/{pupil}/inzage"),
    ("PRF-0001", "/leerlingen/nieuw"),
    ("PRF-0001", "/leerlingen/import"),
    ("PRF-0001", "/rapport"),  # refused: the 403 page
    ("PRF-0001", "/casus/OJA-2020-999999"),  # not found
    ("PRF-0001", "/casus/geen-casus"),  # not a reference
    ("PRF-0041", "/rapport"),
    ("PRF-0041", "/rapport/evaluatie"),
    ("PRF-0041", "/"),  # a redirect
    ("PRF-0051", "/toegangslog"),
    ("PRF-0051", "/bestaat-niet"),
]


def csp_directives(value: str) -> dict[str, list[str]]:
    parts = [p.split() for p in value.split(";") if p.strip()]
    return {p[0].lower(): p[1:] for p in parts}


def assert_scripts_forbidden(csp: str) -> None:
    directives = csp_directives(csp)
    script = directives.get("script-src", directives.get("default-src"))
    assert script == ["'none'"], f"scripts allowed by {csp!r}"
    assert directives.get("frame-ancestors") == ["'none'"]
    assert directives.get("base-uri") == ["'none'"]
    for name in ("script-src-elem", "script-src-attr", "worker-src"):
        assert name not in directives, csp


@pytest.mark.parametrize(("code", "page"), PAGES, ids=[f"{c or 'anonymous'} {p}" for c, p in PAGES])
def test_every_page_is_not_cached_carries_a_csp_without_scripts_and_cannot_be_framed(dossier, case, code, page):
    client = dossier.as_user(code).client if code else dossier.client()
    response = client.get(page.format(**case))
    assert response.status_code < 500
    headers = response.headers
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert_scripts_forbidden(headers["content-security-policy"])
    assert "<script" not in response.text.lower()
    assert "strict-transport-security" not in headers  # plain HTTP: HSTS would mean nothing


def test_the_stylesheet_may_be_cached_and_also_carries_the_headers(dossier):
    response = dossier.client().get("/static/dossier.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert_scripts_forbidden(response.headers["content-security-policy"])
    assert dossier.client().get("/static/..%2Fbase.html").status_code == 404


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}


def test_cookies_are_http_only_and_same_site_strict(dossier):
    code = "PRF-0013"
    dossier.allow_code_again(code)
    client = dossier.client()
    form = client.get("/inloggen")
    login_cookie = _set_cookies(form)[LOGIN_COOKIE]
    response = form_login(client, code)
    session_cookie = _set_cookies(response)[SESSION_COOKIE]
    for cookie in (login_cookie, session_cookie):
        attributes = [a.strip().lower() for a in cookie.split(";")[1:]]
        assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes, cookie
        assert not [a for a in attributes if a.startswith("domain=")], cookie
        assert "secure" not in attributes, "plain HTTP (the test): a Secure cookie would not come back"


def _cookie_attributes(cookie: str) -> list[str]:
    return [a.strip().lower() for a in cookie.split(";")[1:]]


def test_over_https_behind_a_proxy_the_cookies_are_host_only_and_secure(dossier):
    """Behind the region's TLS proxy (X-Forwarded-Proto: https, trusted as `oja dossier --proxy` does), every
    cookie is `__Host-`: Secure, Path=/, no Domain; the page says Strict-Transport-Security."""
    code = "PRF-0012"
    dossier.allow_code_again(code)
    client = dossier.client(https=True)
    form = client.get("/inloggen")
    assert form.headers["strict-transport-security"].startswith("max-age=")
    login_cookie = _set_cookies(form)[f"__Host-{LOGIN_COOKIE}"]
    token = form_csrf(form.text)
    value = login_cookie.split(";")[0].split("=", 1)[1]
    response = client.post(
        "/inloggen",
        data={"gebruikersnaam": code, "wachtwoord": DEMO_PASSWORD, "code": pyotp.TOTP(DEMO_TOTP_SECRET).now()}
        | {"csrf": token, "volgende": "/"},
        headers={"Cookie": f"__Host-{LOGIN_COOKIE}={value}"},  # a browser sends a Secure cookie over HTTPS only
    )
    assert response.status_code == 303, response.text[-800:]
    cookies = _set_cookies(response)
    assert SESSION_COOKIE not in cookies
    session_cookie = cookies[f"__Host-{SESSION_COOKIE}"]
    for cookie in (login_cookie, session_cookie):
        attributes = _cookie_attributes(cookie)
        assert {"secure", "httponly", "samesite=strict", "path=/"} <= set(attributes), cookie
        assert not [a for a in attributes if a.startswith("domain=")], cookie
    token = session_cookie.split(";")[0].split("=", 1)[1]
    page = client.get("/", headers={"Cookie": f"__Host-{SESSION_COOKIE}={token}"})
    assert page.status_code == 200 and "Mijn casussen" in page.text
    # over HTTPS only the __Host- cookie counts: the same token under the plain name opens nothing
    assert client.get("/", headers={"Cookie": f"{SESSION_COOKIE}={token}"}).status_code == 303


def test_over_https_the_cookies_cleared_at_login_and_log_out_are_secure_too(dossier):
    """A browser ignores a `__Host-` Set-Cookie without Secure: clearing the login cookie after the login, and
    the session cookie at log-out, must say Secure too, or the old cookie stays in the browser."""
    code = "PRF-0012"
    dossier.allow_code_again(code)
    client = dossier.client(https=True)
    form = client.get("/inloggen")
    value = _set_cookies(form)[f"__Host-{LOGIN_COOKIE}"].split(";")[0].split("=", 1)[1]
    response = client.post(
        "/inloggen",
        data={"gebruikersnaam": code, "wachtwoord": DEMO_PASSWORD, "code": pyotp.TOTP(DEMO_TOTP_SECRET).now()}
        | {"csrf": form_csrf(form.text), "volgende": "/"},
        headers={"Cookie": f"__Host-{LOGIN_COOKIE}={value}"},
    )
    cleared = _set_cookies(response)[f"__Host-{LOGIN_COOKIE}"]
    assert "max-age=0" in _cookie_attributes(cleared) and "secure" in _cookie_attributes(cleared), cleared
    token = _set_cookies(response)[f"__Host-{SESSION_COOKIE}"].split(";")[0].split("=", 1)[1]
    page = client.get("/", headers={"Cookie": f"__Host-{SESSION_COOKIE}={token}"})
    out = client.post(
        "/uitloggen", data={"csrf": form_csrf(page.text)}, headers={"Cookie": f"__Host-{SESSION_COOKIE}={token}"}
    )
    assert out.status_code == 303
    cleared = _set_cookies(out)[f"__Host-{SESSION_COOKIE}"]
    assert "max-age=0" in _cookie_attributes(cleared) and "secure" in _cookie_attributes(cleared), cleared


def test_the_access_log_cannot_be_changed(dossier):
    """The log a refusal is written to is append-only (triggers), so a refusal cannot be wiped afterwards."""
    import sqlalchemy as sa

    user = dossier.as_user("PRF-0002")
    mark = dossier.log_mark()
    assert user.get("/rapport").status_code == 403
    [entry] = dossier.log_since(mark)
    with dossier.engine.connect() as conn, pytest.raises(sa.exc.DatabaseError):
        conn.execute(sa.text("DELETE FROM access_log WHERE id = :id"), {"id": entry.id})
    with dossier.engine.connect() as conn, pytest.raises(sa.exc.DatabaseError):
        conn.execute(sa.text("UPDATE access_log SET outcome = 'toegestaan' WHERE id = :id"), {"id": entry.id})
    with dossier.db() as s:
        assert s.get(AccessLogEntry, entry.id).outcome == REFUSED_
