"""No personal data leaves the dossier's pages: the privacy scan of `tests/flows/test_privacy_at_scale.py`
(Prefect's database and the mails), extended to the dossier.

Pupils are registered through the dossier (the form and a CSV import), get a case (as the Prefect step would
open it), and are looked at by everyone who may and some who may not: my cases, the case pages, the goals form,
the subject-access download, the privacy officer's log filtered on each of them. A page that fails with a message
holding a BSN and a name is among them. Then (a) every URL requested and every redirect, (b) the dossier's log
output (uvicorn's access log and the `oja` loggers), (c) the access log table, and (d) every link to the Prefect
UI on the pages shown are searched for each pupil's names, BSN and birth date (ISO, dd-mm-yyyy, d-m-yyyy):
nothing may be found.
"""

from __future__ import annotations

import datetime as dt
import html
import random
import re

from sqlmodel import select

from models.schooldays import today as amsterdam_today
from models.tables_dossier import AccessLogEntry
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import get_policy
from oja.dossier import pages_cases
from tests.dossier.conftest import PREFECT_UI, form_csrf
from tests.factories import valid_bsn

# a needle is a whole word, a whole number or a whole date; the text is cut into those, and each looked up
CANDIDATE = re.compile(r"(?<![\w-])(?:\d{4}-\d{2}-\d{2}|\d{1,2}-\d{1,2}-\d{4})(?![\w-])|\w+")
LINK = re.compile(r'href="([^"]+)"')


def _name(rng: random.Random, length: int) -> str:
    return rng.choice("BCDFGHKLMNPRSTVWZ") + "".join(rng.choices("aeiouyklmnprstvwz", k=length - 1))


def _pupils(n: int) -> list[dict]:
    rng = random.Random(20261202)
    today = amsterdam_today()
    pupils = []
    for i in range(n):
        born = today - dt.timedelta(days=rng.randint(6 * 365, 15 * 365))
        family = _name(rng, 11)
        pupils.append(
            {
                "given": _name(rng, 9),
                "family": family,
                "parent": f"{_name(rng, 8)} {family}",
                "bsn": valid_bsn(i, base=rng.randint(530, 539) * 1_000_000),
                "born": born,
            }
        )
    return pupils


def needles(pupils: list[dict]) -> dict[str, str]:
    found = {}
    for p in pupils:
        born: dt.date = p["born"]
        for value, kind in (
            (p["given"], "given name"),
            (p["family"], "family name"),
            (p["parent"].split()[0], "parent's name"),
            (p["bsn"], "BSN"),
            (born.isoformat(), "birth date"),
            (born.strftime("%d-%m-%Y"), "birth date"),
            (f"{born.day}-{born.month}-{born.year}", "birth date"),
        ):
            assert CANDIDATE.fullmatch(value), value
            found[value] = f"{kind} of {p['given']} {p['family']}"
    return found


def search(texts: list[tuple[str, str]], wanted: dict[str, str]) -> list[str]:
    return [
        f"{place}: {wanted[candidate]} ({candidate})"
        for place, text in texts
        for candidate in CANDIDATE.findall(text)
        if candidate in wanted
    ]


def test_no_personal_data_in_urls_logs_the_access_log_or_links_to_prefect(dossier, monkeypatch):
    pupils = _pupils(6)
    coordinator = dossier.as_user("PRF-0001")  # 10HV: three through the form
    for p in pupils[:3]:
        wrong = coordinator.post(  # a first try with a wrong birth date: the form comes back with the rest
            "/leerlingen/nieuw",
            data={"csrf": coordinator.csrf, "given_name": p["given"], "family_name": p["family"]}
            | {"birth_date": "2099-01-01", "bsn": p["bsn"], "municipality_code": "GM0164", "parent_1": p["parent"]},
        )
        assert wrong.status_code == 422 and p["bsn"] in wrong.text
        done = coordinator.post(
            "/leerlingen/nieuw",
            data={"csrf": coordinator.csrf, "given_name": p["given"], "family_name": p["family"]}
            | {"birth_date": p["born"].isoformat(), "bsn": p["bsn"], "municipality_code": "GM0164"}
            | {"parent_1": p["parent"], "parent_1_gezag": "1"},
        )
        assert done.status_code == 303
        p["ref"], p["school"] = done.headers["location"].rsplit("=", 1)[1], "10HV"
        assert coordinator.get(done.headers["location"]).status_code == 200
    other = dossier.as_user("PRF-0002")  # 11HE: three by a CSV import, dates as Dutch files write them
    rows = "".join(
        f"{p['given']};{p['family']};{p['born']:%d-%m-%Y};{p['bsn']};GM0147;{p['parent']}\n" for p in pupils[3:]
    )
    content = ("Roepnaam;Achternaam;Geboortedatum;BSN;Gemeente;Ouder 1\n" + rows).encode()
    preview = other.post("/leerlingen/import", data={"csrf": other.csrf}, files={"bestand": ("a.csv", content)})
    assert preview.status_code == 200, preview.text[-1000:]
    kept = html.unescape(re.search(r'name="voorvertoning" value="([^"]*)"', preview.text).group(1))
    imported = other.post("/leerlingen/import/bevestigen", data={"csrf": other.csrf, "voorvertoning": kept})
    assert imported.status_code == 303
    listing = other.get(imported.headers["location"]).text
    for p in pupils[3:]:
        p["ref"] = re.search(rf"{p['family']}<br><span class=\"hint\">(LL-\d{{6}})", listing).group(1)
        p["school"] = "11HE"

    # a case for each, opened as the Prefect step does (pseudonym and codes only)
    with unit_of_work(dossier.engine) as session:
        for p in pupils:
            p["case"] = sv.register_signal(
                session,
                pupil_ref=p["ref"],
                school_code=p["school"],
                source="school",
                domains=["leren"],
                urgency="normaal",
                actor="PRF-0001" if p["school"] == "10HV" else "PRF-0002",
                received_on=amsterdam_today(),
                today=amsterdam_today(),
                policy=get_policy(),
            ).case_ref

    shown: list[str] = []  # the pages the browsers were shown
    for user, mine in ((coordinator, pupils[:3]), (other, pupils[3:])):
        home = user.get("/")
        shown.append(home.text)
        for p in mine:
            assert p["family"] in home.text and p["case"] in home.text
            case = user.get(f"/casus/{p['case']}")
            assert case.status_code == 200 and p["bsn"] in case.text
            shown.append(case.text)
            shown.append(user.get(f"/casus/{p['case']}/doelen").text)
            export = user.get(f"/leerling/{p['ref']}/inzage")
            assert export.status_code == 200 and export.json()["pupil"]["bsn"] == p["bsn"]
    for p in pupils[:3]:  # refused: another school's coordinator, a provider that does not deliver
        assert other.get(f"/casus/{p['case']}").status_code == 403
        assert other.get(f"/leerling/{p['ref']}/inzage").status_code == 403
        assert dossier.as_user("PRF-0013").get(f"/casus/{p['case']}/doelen").status_code == 403
    district = dossier.as_user("PRF-0022")  # Borne: where the imported pupils live
    for p in pupils[3:]:
        assert district.get(f"/casus/{p['case']}").status_code == 200
    officer = dossier.as_user("PRF-0051")
    for p in pupils:
        log_page = officer.get("/toegangslog", params={"leerling": p["ref"]})
        assert p["ref"] in log_page.text
    # a page that fails with a message quoting the row
    broken = pupils[0]

    def fail(session, actor, pupil_ref):
        raise RuntimeError(f"row ({pupil_ref}, {broken['given']}, {broken['family']}, {broken['bsn']}) is broken")

    monkeypatch.setattr(pages_cases, "export_in_scope", fail)
    failed = coordinator.get(f"/leerling/{broken['ref']}/inzage")
    assert failed.status_code == 500 and "Er ging iets mis" in failed.text and broken["bsn"] not in failed.text
    monkeypatch.undo()
    out = coordinator.post("/uitloggen", data={"csrf": form_csrf(coordinator.get("/").text)})
    assert out.status_code == 303

    # what is searched
    with dossier.db() as s:
        entries = s.exec(select(AccessLogEntry)).all()
    texts = [(f"URL {url}", url) for url in dossier.urls]
    texts += [("dossier log", line) for line in dossier.log.lines]
    texts += [
        (f"access_log {e.id}.{column}", str(value))
        for e in entries
        for column, value in e.model_dump().items()
        if value is not None
    ]
    prefect_links = [html.unescape(link) for page in shown for link in LINK.findall(page) if link.startswith("http")]
    texts += [(f"link {link[:60]}", link) for link in prefect_links]

    # the search sees what it should: each pupil's pages, the error, the links, and finds what is planted
    everything = "\n".join(text for _, text in texts)
    for p in pupils:
        assert f"/leerling/{p['ref']}/inzage" in everything and p["case"] in everything
    assert f'"GET /casus/{pupils[0]["case"]} HTTP/1.1" 200' in dossier.log.text, "uvicorn's access log is read"
    assert f"fout bij GET /leerling/{broken['ref']}/inzage: RuntimeError" in dossier.log.text
    assert any(e.outcome == "geweigerd" and e.pupil_ref == pupils[0]["ref"] for e in entries)
    assert prefect_links and all(link.startswith(PREFECT_UI) for link in prefect_links)
    wanted = needles(pupils)
    born = pupils[1]["born"]
    planted = f"x {pupils[0]['bsn']}, {pupils[2]['family']}. {born:%d-%m-%Y} {born.day}-{born.month}-{born.year}"
    assert len(search([("planted", planted)], wanted)) == 4
    assert not search([("planted", f"{pupils[0]['bsn']}1 x{pupils[2]['family']} LL-{born.isoformat()}")], wanted)

    hits = search(texts, wanted)
    assert not hits, f"{len(hits)} personal data hit(s):\n" + "\n".join(hits[:20])
