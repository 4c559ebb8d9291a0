"""Hostile input to the dossier's forms (issue 24, items 3 to 5): a non-ASCII token or cookie, a goal field whose
number is not an ASCII number, bytes that are not UTF-8. Each gets a 4xx with the field and rule in Dutch, never a
500, and nothing is written. The property-based run over every route is in `test_hostile_routes.py`."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from models.lifecycle import AuditAction
from models.tables import AuditRecord, Goal, GroupArrangement, Pupil
from models.tables_family import FamilyLogin
from tests.dossier.conftest import LOGIN_COOKIE, Dossier, form_csrf
from tests.factories import valid_bsn

CASE_FAMILY = "Scholten"  # the demo's active case of 10HV, with a plan whose goals PRF-0001 may describe
SCHOOL, OPERATOR = "PRF-0001", "PRF-0061"


@dataclasses.dataclass(frozen=True)
class Stored:
    """What hostile input must not change: pupils (and their names), audited changes, goal texts, groups."""

    pupils: tuple[tuple[str, str], ...]
    audit: int
    goals: tuple[str | None, ...]
    groups: tuple[tuple[str, int], ...]
    family: tuple[tuple[str, str, str | None], ...] = ()  # the family's logins (issue 26): party, e-mail, password

    @classmethod
    def of(cls, dossier: Dossier) -> Stored:
        with dossier.db() as s:
            pupils = tuple(s.exec(select(Pupil.given_name, Pupil.family_name).order_by(col(Pupil.id))).all())
            changes = col(AuditRecord.action) != AuditAction.REFUSED.value
            audit = s.exec(select(func.count()).select_from(AuditRecord).where(changes)).one()
            goals = tuple(s.exec(select(Goal.description).order_by(col(Goal.id))).all())
            groups = tuple(
                s.exec(select(GroupArrangement.code, GroupArrangement.capacity).order_by(GroupArrangement.code)).all()
            )
            family = tuple(
                s.exec(
                    select(FamilyLogin.party, FamilyLogin.email, FamilyLogin.password_hash).order_by(
                        col(FamilyLogin.id)
                    )
                ).all()
            )
        return cls(pupils, audit, goals, groups, family)


@pytest.fixture(scope="module")
def case_ref(dossier) -> str:
    return dossier.case_of(CASE_FAMILY)[0]


def _not_crashed(response) -> None:
    assert response.status_code < 500, response.text[-800:]
    assert "Traceback" not in response.text and "Er ging iets mis" not in response.text


# item 3: a token or cookie that is not ASCII ---------------------------------------------------------------

FORMS = [
    ("goals", "/casus/{case}/doelen", SCHOOL, {"doel_1": "Samen naar school"}),
    ("register", "/leerlingen/nieuw", SCHOOL, {"given_name": "Ada", "family_name": "Hostiel"}),
    ("import", "/leerlingen/import/bevestigen", SCHOOL, {"data": ""}),
    ("groups", "/groepen", OPERATOR, {"code": "GRP-HOSTIEL", "capacity": "3"}),
    ("log out", "/uitloggen", SCHOOL, {}),
]


@pytest.mark.parametrize("token", ["é", "١٢٣٤٥٦", "x" * 42 + "é"])
@pytest.mark.parametrize(("name", "path", "code", "fields"), FORMS, ids=[f[0] for f in FORMS])
def test_a_csrf_token_that_is_not_ascii_is_refused_with_403_and_writes_nothing(
    dossier, case_ref, name, path, code, fields, token
):
    user = dossier.as_user(code)
    before = Stored.of(dossier)
    response = user.post(path.format(case=case_ref), data={"csrf": token, **fields})
    _not_crashed(response)
    assert response.status_code == 403, response.text[-800:]
    assert "CSRF" in response.text
    assert Stored.of(dossier) == before
    assert dossier.session_count(code) >= 1, "the session lives on"


def test_the_import_preview_with_a_csrf_token_that_is_not_ascii_is_refused(dossier):
    user = dossier.as_user(SCHOOL)
    files = {"bestand": ("leerlingen.csv", b"roepnaam;achternaam\n", "text/csv")}
    response = user.post("/leerlingen/import", data={"csrf": "é"}, files=files)
    _not_crashed(response)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("cookie", "token"),
    [(b"abc", "\u00e9"), (b"\xc3\xa9", "\u00e9"), (b"\xc3\xa9", "abc"), (b"abc", "\u0661\u0662\u0663")],
    ids=["ascii cookie, token é", "cookie é, token é", "cookie é, ascii token", "arabic digits"],
)
def test_the_login_form_with_a_token_or_cookie_that_is_not_ascii_is_refused_not_a_500(dossier, cookie, token):
    client = dossier.client()
    response = client.post(
        "/inloggen",
        data={"gebruikersnaam": "PRF-0009", "wachtwoord": "x", "code": "123456", "csrf": token},
        headers={"Cookie": LOGIN_COOKIE.encode() + b"=" + cookie},
    )
    _not_crashed(response)
    assert response.status_code == 400 and "verlopen" in response.text
    assert form_csrf(response.text), "a fresh form to try again"


# item 4: a goal number that is not an ASCII number ----------------------------------------------------------


@pytest.mark.parametrize("field", ["doel_\u00b2", "doel_\u0661", "doel_\uff11", "doel_" + "9" * 5000, "doel_-1"])
def test_a_goal_field_whose_number_is_not_an_ascii_number_is_refused_naming_it(dossier, case_ref, field):
    user = dossier.as_user(SCHOOL)
    before = Stored.of(dossier)
    response = user.post(f"/casus/{case_ref}/doelen", data={"csrf": user.csrf, field: "x", "doel_1": "Lezen"})
    _not_crashed(response)
    assert response.status_code == 422, response.text[-800:]
    assert "Niets opgeslagen" in response.text and "is geen doel van dit plan" in response.text
    assert Stored.of(dossier) == before


# item 5: bytes that are not UTF-8 -----------------------------------------------------------------------------

NOT_UTF8 = [b"%C0%AF", b"%ED%A0%80", b"%FF", b"Ad%FFa", b"\xff", b"\xc3"]


def _register_body(csrf: str, given_name: bytes, bsn: str = "") -> bytes:
    return (
        b"csrf=" + csrf.encode() + b"&given_name=" + given_name + b"&family_name=Hostiel&birth_date=2014-05-05"
        b"&bsn=" + bsn.encode() + b"&onderwijsnummer=&municipality_code=GM0164"
    )


@pytest.mark.parametrize("raw", NOT_UTF8, ids=[r.decode("latin-1") for r in NOT_UTF8])
def test_a_name_that_is_not_utf8_is_refused_naming_the_field_and_nothing_is_stored(dossier, raw):
    user = dossier.as_user(SCHOOL)
    before, pupils = Stored.of(dossier), dossier.pupil_count()
    response = user.post(
        "/leerlingen/nieuw",
        content=_register_body(user.csrf, raw),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _not_crashed(response)
    assert response.status_code == 400, response.text[-800:]
    assert "Roepnaam" in response.text and "UTF-8" in response.text and "Niets opgeslagen" in response.text
    assert dossier.pupil_count() == pupils and Stored.of(dossier) == before
    assert "\ufffd" not in response.text


def test_a_field_name_that_is_not_utf8_is_refused(dossier, case_ref):
    user = dossier.as_user(SCHOOL)
    before = Stored.of(dossier)
    body = b"csrf=" + user.csrf.encode() + b"&doel_1=Lezen&%FF%FE=x"
    response = user.post(
        f"/casus/{case_ref}/doelen", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    _not_crashed(response)
    assert response.status_code == 400 and "UTF-8" in response.text
    assert Stored.of(dossier) == before


def test_a_name_in_valid_utf8_is_still_stored_as_typed(dossier):
    user = dossier.as_user(SCHOOL)
    body = _register_body(user.csrf, b"Zo%C3%AB", valid_bsn(7, base=524000000))
    response = user.post(
        "/leerlingen/nieuw", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 303, response.text[-800:]
    with dossier.db() as s:
        assert s.exec(select(Pupil).where(Pupil.given_name == "Zoë", Pupil.family_name == "Hostiel")).first()


@pytest.mark.parametrize(("method", "path"), [("GET", "/static/a%2Fb"), ("GET", "/bestaat-niet"), ("PUT", "/groepen")])
def test_an_address_that_is_no_page_is_answered_in_dutch_not_in_json(dossier, method, path):
    response = dossier.client().request(method, path)
    assert response.status_code in (404, 405)
    assert response.headers["content-type"].startswith("text/html") and "deze pagina" in response.text
