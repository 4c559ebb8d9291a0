"""Generated hostile input against every route of the dossier (issue 24, item 4): hypothesis picks a route, a user
(one of several roles, or nobody), the path's references, the query, and form fields with hostile names and values
(digits that are not ASCII, huge numbers, empty and missing fields, any text without surrogates, bytes that are not
UTF-8). The form carries the user's valid CSRF token, so that the page's own code is reached.

Whatever comes: never a 500 or a traceback, a refusal (4xx) is a page and not FastAPI's English JSON, and a
refusal writes nothing. Bounded: a fixed number of examples, about half a minute on the CI machine."""

from __future__ import annotations

import dataclasses
import urllib.parse

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dossier.conftest import Dossier, form_csrf
from tests.dossier.test_hostile_input import CASE_FAMILY, Stored

USERS = [None, "PRF-0001", "PRF-0011", "PRF-0021", "PRF-0041", "PRF-0051", "PRF-0061"]  # None: not logged in
QUERY = ["geregistreerd", "geimporteerd", "alle", "opgeslagen", "groep", "leerling", "professional", "van", "tot"]
QUERY += ["geweigerd", "volgende", "casus", "taal"]
REGISTER = ["given_name", "family_name", "birth_date", "bsn", "onderwijsnummer", "municipality_code", "parent_1"]
REGISTER += ["parent_1_gezag", "parent_2", "parent_2_gezag"]
GROUP = ["code", "provider_code", "professional_code", "school_code", "capacity", "hours_per_week"]


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    path: str  # {case}, {pupil}, {name}: a reference, real or generated
    fields: tuple[str, ...] = ()


ROUTES = [
    Route("GET", "/"),
    Route("GET", "/gezond"),
    Route("GET", "/static/{name}"),
    Route("GET", "/inloggen"),
    Route("POST", "/inloggen", ("gebruikersnaam", "wachtwoord", "code", "volgende")),
    Route("POST", "/uitloggen"),
    Route("GET", "/casus/{case}"),
    Route("GET", "/casus/{case}/doelen"),
    Route("POST", "/casus/{case}/doelen", ("doel_1", "doel_2", "doel_3", "doel_0", "doel_99")),
    Route("GET", "/leerling/{pupil}/inzage"),
    Route("GET", "/leerlingen/nieuw"),
    Route("POST", "/leerlingen/nieuw", tuple(REGISTER)),
    Route("GET", "/leerlingen/import"),
    Route("POST", "/leerlingen/import", ("bestand",)),
    Route("POST", "/leerlingen/import/bevestigen", ("voorvertoning",)),
    Route("GET", "/rapport"),
    Route("GET", "/rapport/evaluatie"),
    Route("GET", "/toegangslog"),
    Route("GET", "/groepen"),
    Route("POST", "/groepen", tuple(GROUP)),
    Route("GET", "/openapi.json"),
    # the family's own way in (issue 26)
    Route("GET", "/casus/{case}/uitnodigen"),
    Route("POST", "/casus/{case}/uitnodigen", ("partij", "e-mailadres")),
    Route("GET", "/gezin/welkom/{name}"),
    Route("POST", "/gezin/welkom/{name}", ("wachtwoord", "wachtwoord_herhaald")),
    Route("GET", "/gezin/inloggen"),
    Route("POST", "/gezin/inloggen", ("e-mailadres", "wachtwoord")),
    Route("GET", "/gezin/code"),
    Route("POST", "/gezin/code", ("code",)),
    Route("POST", "/gezin/code/mail"),
    Route("POST", "/gezin/passkey/opties"),
    Route("POST", "/gezin/passkey/inloggen", ("credential",)),
    Route("POST", "/gezin/passkeys/opties"),
    Route("POST", "/gezin/passkeys", ("credential",)),
    Route("POST", "/gezin/passkeys/{name}/verwijderen"),
    Route("POST", "/gezin/uitloggen"),
    Route("GET", "/gezin/"),
    Route("GET", "/gezin/ouders"),
    Route("POST", "/gezin/ouders", ("ouders_zien",)),
    Route("GET", "/gezin/plan"),
    Route("GET", "/gezin/inzage"),
    Route("GET", "/gezin/afsluiting"),
    Route("POST", "/gezin/afsluiting", ("tevredenheid", "verder_zonder_hulp")),
    Route("GET", "/gezin/mijn-mening"),
    Route("POST", "/gezin/mijn-mening", ("doel_1", "doel_2", "gaat_goed", "moet_anders")),
    Route("GET", "/gezin/toestemming"),
    Route("POST", "/gezin/toestemming", ("antwoord",)),
]
HOSTILE = [
    "",
    " ",
    "\u00b2",
    "\u0661\u0662\u0663\u0664\u0665\u0666",
    "\uff19",
    "9" * 5000,
    "-1",
    "0",
    "1e999",
    "NaN",
    "inf",
    "0x1f",
    "1_000",
    "\x00",
    "\u202e",
    "\ufeff",
    "é",
    "' OR 1=1--",
    "<b>x</b>",
    "../../etc/passwd",
    "2024-02-30",
    "LL-00000001",
    "OJA-2026-999999",
    "PRF-9999",
]
NOT_UTF8 = [b"%FF", b"%C0%AF", b"%ED%A0%80", b"\xff", b"\xc3", b"%F4%90%80%80"]

texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.integers(-(10**40), 10**40).map(str),
)


def _field_names(route: Route) -> st.SearchStrategy[str]:
    goal = st.one_of(st.sampled_from(HOSTILE), st.integers(-(10**30), 10**30).map(str)).map(lambda n: f"doel_{n}")
    known = st.sampled_from(route.fields) if route.fields else st.just("x")
    return st.one_of(known, known, goal, texts)


@st.composite
def requests(draw: st.DrawFn) -> dict:
    route = draw(st.sampled_from(ROUTES))
    fields = draw(st.lists(st.tuples(_field_names(route), texts), max_size=8))
    return {
        "route": route,
        "user": draw(st.sampled_from(USERS)),
        "real": draw(st.booleans()),  # the demo case and pupil, or a generated reference
        "reference": draw(texts),
        "query": draw(st.lists(st.tuples(st.sampled_from(QUERY), texts), max_size=3)),
        "fields": fields,
        "raw": draw(st.one_of(st.none(), st.sampled_from(NOT_UTF8))),  # a field value that is not UTF-8
        "csrf": draw(st.sampled_from(["valid", "valid", "valid", "missing", "é"])),
    }


def _client(dossier: Dossier, code: str | None, path: str) -> tuple[httpx.Client, str]:
    """A browser (logged in as `code`, a fresh session) and the CSRF token its form would carry."""
    if code is None:
        client = dossier.client()
        return client, form_csrf(client.get("/inloggen").text) if path == "/inloggen" else ""
    user = dossier.as_user(code)
    return user.client, user.csrf


def _send(dossier: Dossier, case: dict[str, str], example: dict) -> httpx.Response:
    route: Route = example["route"]
    client, csrf = _client(dossier, example["user"], route.path)
    reference = urllib.parse.quote(example["reference"][:200], safe="") or "x"
    refs = {"case": case["case"], "pupil": case["pupil"], "name": "style.css"} if example["real"] else {}
    path = route.path.format(**{"case": reference, "pupil": reference, "name": reference, **refs})
    if route.method == "GET":
        return client.get(path, params=[(k, v[:300]) for k, v in example["query"]])
    fields = [(k, v) for k, v in example["fields"] if k != "bestand"]
    token = {"valid": csrf, "missing": None, "é": "é"}[example["csrf"]]
    if token is not None:
        fields.insert(0, ("csrf", token))
    if route.path == "/leerlingen/import":
        csv = "\n".join(v for _, v in example["fields"]).encode("utf-8") + (example["raw"] or b"")
        return client.post(path, data=dict(fields), files={"bestand": ("l.csv", csv, "text/csv")})
    body = urllib.parse.urlencode(fields).encode()
    if example["raw"] is not None:
        name = route.fields[0] if route.fields else "x"
        body += b"&" + name.encode() + b"=" + example["raw"]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return client.post(path, content=body, headers=headers)


def test_the_generated_requests_cover_every_route_of_the_dossier():
    """A page added later is attacked too: the list above is every route the dossier serves, no more."""
    from fastapi.routing import APIRoute

    from oja.dossier.app import ROUTERS, create_dossier

    routes = [*create_dossier().routes, *(route for module in ROUTERS for route in module.router.routes)]
    served = {
        (
            method,
            route.path.replace("{case_ref}", "{case}")
            .replace("{pupil_ref}", "{pupil}")
            .replace("{token}", "{name}")
            .replace("{number}", "{name}"),
        )
        for route in routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert served == {(r.method, r.path) for r in ROUTES}


@pytest.fixture(scope="module")
def case(dossier) -> dict[str, str]:
    case_ref, pupil_ref = dossier.case_of(CASE_FAMILY)
    return {"case": case_ref, "pupil": pupil_ref}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(example=requests())
def test_no_generated_request_to_any_route_gives_a_500_or_writes_on_a_refusal(dossier, case, example):
    before, lines = Stored.of(dossier), len(dossier.log.lines)
    response = _send(dossier, case, example)
    assert response.status_code < 500, (example["route"], response.status_code, response.text[-600:])
    assert "Traceback" not in response.text
    new_lines = dossier.log.lines[lines:]
    assert not [line for line in new_lines if "fout bij" in line or "Exception" in line], new_lines
    if response.status_code >= 400:
        assert not response.headers.get("content-type", "").startswith("application/json"), response.text[:300]
        assert Stored.of(dossier) == before, "a refused request writes nothing"
    dossier.close()  # the clients of this example
