"""The dossier's pages over real HTTP: registering a pupil (every wrong field named, nothing written; then the
pupil under my cases with the link to the signal form), the CSV import (a preview with each row's errors, then all
at once), the goals in words, the subject-access download, the privacy officer's access log and the manager's
figures."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import urllib.parse

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from models.lifecycle import AuditAction
from models.schooldays import today as amsterdam_today
from models.tables import AuditRecord, Goal, Parent, Pupil
from oja.deployments import DEPLOYMENTS
from oja.entrypoints.demo import PUPILS as DEMO_PUPILS
from tests.dossier.conftest import PREFECT_UI, form_csrf
from tests.factories import valid_bsn

REGISTER_SIGNAL = "signaal-registreren"
ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.S)
TAG = re.compile(r"<[^>]+>")


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


def cells(row_html: str) -> list[str]:
    return [text_of(c) for c in CELL.findall(row_html)]


def table_rows(page: str, after: str = "") -> list[list[str]]:
    """The body rows of the first table after `after`, as lists of cell texts."""
    start = page.index(after) if after else 0
    table = page[page.index("<tbody>", start) : page.index("</tbody>", start)]
    return [cells(r) for r in ROW.findall(table)]


def field_errors(page: str) -> dict[str, str]:
    """The fields marked wrong (aria-invalid), with their message (`<p class="field-error" id="<field>-error">`)."""
    marked = set(re.findall(r'id="([a-z_0-9]+)"[^>]*aria-invalid="true"', page))
    messages = dict(re.findall(r'<p class="field-error" id="([a-z_0-9]+)-error">(.*?)</p>', page, re.S))
    return {name.removesuffix("-error"): html.unescape(messages.get(name, "")) for name in marked}


def counts(dossier) -> tuple[int, int]:
    with dossier.db() as s:
        return (
            s.exec(select(func.count()).select_from(Pupil)).one(),
            s.exec(select(func.count()).select_from(AuditRecord)).one(),
        )


def actions_since(dossier, mark: int) -> list[tuple[str, str, str | None]]:
    return [(e.professional_code, e.action, e.pupil_ref) for e in dossier.log_since(mark)]


# registering a pupil ---------------------------------------------------------------------------------------


def registration(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf": csrf,
        "given_name": "Roos",
        "family_name": "van den Registreer",
        "birth_date": "2013-04-05",
        "bsn": valid_bsn(1, base=520000000),
        "onderwijsnummer": "",
        "municipality_code": "GM0164",
        "parent_1": "Anna van den Registreer",
        "parent_1_gezag": "1",
        "parent_2": "Piet Registreer",
    }
    return {**form, **changes}


def test_a_registration_with_several_wrong_fields_names_each_one_and_writes_nothing(dossier):
    user = dossier.as_user("PRF-0001")
    before, mark = counts(dossier), dossier.log_mark()
    response = user.post(
        "/leerlingen/nieuw",
        data=registration(user.csrf, given_name="  ", birth_date="2099-01-01", bsn="123456789", parent_2="Piet\x07"),
    )
    assert response.status_code == 422
    errors = field_errors(response.text)
    assert set(errors) == {"given_name", "birth_date", "bsn", "parent_2"}, errors
    assert all(errors.values()), errors  # each with its own message
    assert errors["bsn"].startswith("BSN: "), errors["bsn"]
    assert "Niets opgeslagen: 4 velden kloppen niet" in response.text
    assert 'value="van den Registreer"' in response.text  # what was right is kept in the form
    assert counts(dossier) == before and not actions_since(dossier, mark)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"municipality_code": "GM9999"}, "municipality_code", "GM9999"),
        ({"bsn": "", "onderwijsnummer": ""}, "bsn", "onderwijsnummer"),
        ({"birth_date": ""}, "birth_date", "datum"),
    ],
    ids=["unknown municipality", "no number at all", "no birth date"],
)
def test_a_registration_refused_by_one_rule_says_which(dossier, changes, field, words):
    user = dossier.as_user("PRF-0001")
    before = counts(dossier)
    form = registration(user.csrf, bsn=valid_bsn(2, base=520000000)) | changes
    response = user.post("/leerlingen/nieuw", data=form)
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert words in page and "Niets opgeslagen: 1 veld klopt niet" in page
    assert counts(dossier) == before


def test_a_second_pupil_with_the_same_bsn_is_refused(dossier):
    user = dossier.as_user("PRF-0001")
    bsn = valid_bsn(3, base=520000000)
    first = user.post("/leerlingen/nieuw", data=registration(user.csrf, bsn=bsn, given_name="Eerste"))
    assert first.status_code == 303
    before = counts(dossier)
    again = user.post("/leerlingen/nieuw", data=registration(user.csrf, bsn=bsn, given_name="Tweede"))
    assert again.status_code == 422 and "er is al een leerling met dit BSN" in html.unescape(again.text)
    assert "bsn" in field_errors(again.text)
    assert counts(dossier) == before


def _form_values(href: str) -> dict[str, object]:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(html.unescape(href)).query)
    return json.loads(query["parameters"][0])["form"]


def test_a_registered_pupil_appears_under_my_cases_with_the_link_to_the_signal_form(dossier):
    user = dossier.as_user("PRF-0001")
    bsn = valid_bsn(4, base=520000000)
    mark = dossier.log_mark()
    response = user.post(
        "/leerlingen/nieuw", data=registration(user.csrf, bsn=bsn, given_name="Fenna", family_name="Zonnebloem")
    )
    assert response.status_code == 303
    location = response.headers["location"]
    ref = re.fullmatch(r"/\?geregistreerd=(LL-\d{6})", location).group(1)  # the pseudonym, no name, in the URL
    with dossier.db() as s:
        pupil = s.exec(select(Pupil).where(Pupil.ref == ref)).one()
        parents = s.exec(select(Parent).where(Parent.pupil_id == pupil.id).order_by(col(Parent.position))).all()
    assert (pupil.given_name, pupil.family_name, pupil.bsn, pupil.school_code) == ("Fenna", "Zonnebloem", bsn, "10HV")
    assert [(p.name, p.has_authority) for p in parents] == [
        ("Anna van den Registreer", True),
        ("Piet Registreer", False),  # its box was not ticked
    ]
    assert actions_since(dossier, mark) == [("PRF-0001", "leerling_geregistreerd", ref)]

    page = user.get(location)
    assert page.status_code == 200
    assert f"Leerling {ref} is geregistreerd" in page.text
    section = page.text[page.text.index("Leerlingen zonder open casus") :]
    [row] = [r for r in ROW.findall(section) if ref in r]
    assert 'class="highlight"' in section[section.index(ref) - 300 : section.index(ref)]
    assert cells(row)[:2] == [f"Fenna Zonnebloem {ref}", "05-04-2013"]
    [(href, text)] = re.findall(r'<a href="([^"]+)">([^<]+)</a>', row)
    assert text == DEPLOYMENTS[REGISTER_SIGNAL] == "01 Signaal registreren"
    deployment = dossier.deployments.ids[REGISTER_SIGNAL]
    assert html.unescape(href).startswith(f"{PREFECT_UI}/deployments/deployment/{deployment}/run?parameters=")
    assert _form_values(href) == {"pupil_ref": ref, "school_code": "10HV", "actor": "PRF-0001"}
    for personal in ("Fenna", "Zonnebloem", bsn, "2013-04-05", "05-04-2013"):
        assert personal not in html.unescape(href)  # the link reaches Prefect: codes only


def test_another_school_does_not_see_a_registered_pupil(dossier):
    user = dossier.as_user("PRF-0001")
    response = user.post(
        "/leerlingen/nieuw", data=registration(user.csrf, bsn=valid_bsn(5, base=520000000), family_name="Eigenschool")
    )
    assert response.status_code == 303
    other = dossier.as_user("PRF-0002").get("/")
    assert other.status_code == 200 and "Eigenschool" not in other.text


# the CSV import --------------------------------------------------------------------------------------------

HEADER = "Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;BSN;Gemeente;Ouder 1\n"


def upload(user, content: bytes, csrf: str | None = None):
    files = {"bestand": ("export.csv", content, "text/csv")}
    return user.post("/leerlingen/import", data={"csrf": csrf or user.csrf}, files=files)


def test_an_import_preview_shows_each_rows_errors_and_writes_nothing(dossier):
    user = dossier.as_user("PRF-0001")
    good = valid_bsn(10, base=521000000)
    content = (
        HEADER
        + f"Bram;de;Importeur;04-03-2013;{good};GM0164;Els de Importeur\n"
        + "Cato;;Fout;05-03-2013;123456789;GM0164;\n"
        + f"Dirk;;Zonderdatum;;{valid_bsn(11, base=521000000)};GM9999;\n"
    ).encode()
    before, mark = counts(dossier), dossier.log_mark()
    response = upload(user, content)
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "2 van de 3 regels kloppen niet; niets geïmporteerd" in page
    rows = {r[0]: r for r in table_rows(response.text, "<h2>Voorbeeld</h2>")}
    assert set(rows) == {"2", "3", "4"}
    assert rows["2"][1] == "Bram de Importeur" and rows["2"][-1] == "in orde"
    assert rows["2"][5] == "*****" + good[-4:], "the BSN is masked in the preview"
    assert rows["3"][-1].startswith("BSN:") and "Geboortedatum" not in rows["3"][-1]
    assert "Geboortedatum:" in rows["4"][-1] and "Gemeente:" in rows["4"][-1] and "BSN" not in rows["4"][-1]
    assert 'action="/leerlingen/import/bevestigen"' not in response.text, "no import button for a file with errors"
    assert counts(dossier) == before
    assert [(e.action, e.pupil_ref, e.reason) for e in dossier.log_since(mark)] == [
        ("import_voorvertoond", None, "3 regels bekeken")
    ]


def test_a_good_file_is_previewed_then_imported_all_at_once(dossier):
    user = dossier.as_user("PRF-0001")
    names = [("Eva", "Bestand"), ("Gijs", "Bestand"), ("Hanna", "Bestand")]
    content = HEADER + "".join(
        f"{given};van;{family};1{n}-0{n}-2012;{valid_bsn(20 + n, base=521000000)};0164;Ouder {family}\n"
        for n, (given, family) in enumerate(names, start=1)
    )
    before = counts(dossier)
    preview = upload(user, content.encode("cp1252"))
    assert preview.status_code == 200, preview.text[-1500:]
    assert "Alle 3 regels kloppen. Er is nog niets opgeslagen." in preview.text
    assert counts(dossier) == before
    kept = html.unescape(re.search(r'name="voorvertoning" value="([^"]*)"', preview.text).group(1))
    assert 'name="data"' not in preview.text, "the page carries the preview's id, not the file"
    mark = dossier.log_mark()
    done = user.post("/leerlingen/import/bevestigen", data={"csrf": form_csrf(preview.text), "voorvertoning": kept})
    assert done.status_code == 303 and done.headers["location"] == "/?geimporteerd=3"
    assert counts(dossier)[0] == before[0] + 3
    logged = dossier.log_since(mark)  # a line per pupil imported
    assert {(e.professional_code, e.action, e.reason) for e in logged} == {
        ("PRF-0001", "leerlingen_geimporteerd", "3 leerlingen")
    }
    assert len({e.pupil_ref for e in logged}) == 3
    page = user.get(done.headers["location"])
    assert "3 leerlingen geïmporteerd" in html.unescape(page.text)
    section = page.text[page.text.index("Leerlingen zonder open casus") :]
    for given, family in names:
        assert f"{given} van {family}" in section
    with dossier.db() as s:
        born = s.exec(select(Pupil.birth_date).where(Pupil.given_name == "Eva", Pupil.school_code == "10HV")).one()
    assert born.isoformat() == "2012-01-11"  # 11-01-2012, day first as Dutch files write it


def test_an_import_confirmed_after_a_row_changed_imports_none_of_it(dossier):
    user = dossier.as_user("PRF-0001")
    taken = valid_bsn(31, base=521000000)
    content = HEADER + (
        f"Ivo;;Half;01-02-2012;{valid_bsn(30, base=521000000)};GM0164;\nJet;;Half;01-02-2012;{taken};GM0164;\n"
    )
    preview = upload(user, content.encode())
    assert preview.status_code == 200, preview.text[-1500:]
    kept = re.search(r'name="voorvertoning" value="([^"]*)"', preview.text).group(1)
    registered = user.post("/leerlingen/nieuw", data=registration(user.csrf, bsn=taken, family_name="Eerder"))
    assert registered.status_code == 303  # between the preview and its confirmation: Jet's BSN is taken
    before = counts(dossier)
    response = user.post("/leerlingen/import/bevestigen", data={"csrf": user.csrf, "voorvertoning": kept})
    assert response.status_code == 422 and "niets geïmporteerd" in html.unescape(response.text)
    assert counts(dossier) == before


def test_an_import_of_pupils_of_another_school_is_refused_row_by_row(dossier):
    user = dossier.as_user("PRF-0002")  # the coordinator of 11HE
    row = f"Kees;Anders;2013-01-01;{valid_bsn(31, base=521000000)};GM0164;10HV"
    content = f"roepnaam;achternaam;geboortedatum;bsn;gemeentecode;school\n{row}\n"
    response = upload(user, content.encode())
    assert response.status_code == 422
    assert "u kunt alleen leerlingen van school 11HE importeren" in html.unescape(response.text)


# the goals in words ----------------------------------------------------------------------------------------


def _describe_audits(dossier, case_ref: str) -> list[AuditRecord]:
    with dossier.db() as s:
        stmt = select(AuditRecord).where(
            AuditRecord.case_ref == case_ref, AuditRecord.action == AuditAction.DESCRIBE_GOALS.value
        )
        return list(s.exec(stmt.order_by(col(AuditRecord.id))).all())


def test_goal_texts_are_saved_with_one_audit_record_and_shown_on_the_case_page(dossier):
    case_ref, _pupil = dossier.case_of("Bosman")  # a plan of two goals, at 10HV
    user = dossier.as_user("PRF-0001")
    form = user.get(f"/casus/{case_ref}/doelen")
    assert form.status_code == 200 and 'name="doel_1"' in form.text and 'name="doel_2"' in form.text
    texts = {
        "doel_1": "Yara gaat elke ochtend op tijd naar de eerste les.\nSamen met de mentor.",
        "doel_2": "Yara kan benoemen wat ze voelt als het misgaat; één gesprek per week.",
    }
    before = _describe_audits(dossier, case_ref)
    saved = user.post(f"/casus/{case_ref}/doelen", data={"csrf": form_csrf(form.text), **texts})
    assert saved.status_code == 303 and saved.headers["location"] == f"/casus/{case_ref}?opgeslagen=1"
    after = _describe_audits(dossier, case_ref)
    assert len(after) == len(before) + 1
    record = after[-1]
    assert record.actor == "PRF-0001" and record.reason.startswith("doelen 1, 2")
    assert "Yara" not in record.reason and "ochtend" not in record.reason, "the audit names goals, never the text"
    page = user.get(saved.headers["location"])
    text = html.unescape(page.text)
    assert "De doelteksten zijn opgeslagen." in text
    assert texts["doel_1"] in text and texts["doel_2"] in text
    with dossier.db() as s:
        stored = s.exec(select(Goal.description).where(Goal.description.is_not(None))).all()
    assert texts["doel_1"] in stored

    unchanged = user.post(f"/casus/{case_ref}/doelen", data={"csrf": user.csrf, **texts})
    assert unchanged.status_code == 303
    assert len(_describe_audits(dossier, case_ref)) == len(after), "nothing changed, nothing audited"


@pytest.mark.parametrize(
    ("field", "text", "words"),
    [("doel_1", "x" * 2001, "2000"), ("doel_7", "Een doel dat er niet is", "geen doel 7"), ("doel_2", "a\x00b", "")],
    ids=["too long", "unknown goal", "control character"],
)
def test_a_wrong_goal_text_is_refused_and_nothing_is_saved(dossier, field, text, words):
    case_ref, _pupil = dossier.case_of("Bosman")
    user = dossier.as_user("PRF-0001")
    with dossier.db() as s:
        goals_before = s.exec(select(Goal.id, Goal.description).order_by(col(Goal.id))).all()
    audits = len(_describe_audits(dossier, case_ref))
    response = user.post(f"/casus/{case_ref}/doelen", data={"csrf": user.csrf, "doel_1": "Nieuw", field: text})
    assert response.status_code == 422, response.text[-800:]
    assert "Niets opgeslagen" in response.text and words in html.unescape(response.text)
    with dossier.db() as s:
        assert s.exec(select(Goal.id, Goal.description).order_by(col(Goal.id))).all() == goals_before
    assert len(_describe_audits(dossier, case_ref)) == audits


def test_the_goals_page_shown_again_after_a_wrong_text_is_a_logged_view(dossier):
    case_ref, pupil_ref = dossier.case_of("Bosman")
    user = dossier.as_user("PRF-0001")
    mark = dossier.log_mark()
    response = user.post(f"/casus/{case_ref}/doelen", data={"csrf": user.csrf, "doel_1": "x" * 2001})
    assert response.status_code == 422 and "Yara Bosman" in response.text
    assert [(e.case_ref, e.pupil_ref) for e in dossier.log_since(mark)] == [(case_ref, pupil_ref)]


# the subject-access export ---------------------------------------------------------------------------------


def test_the_export_is_a_json_download_of_the_pupil_and_is_logged(dossier):
    case_ref, pupil_ref = dossier.case_of("Scholten")
    refused = dossier.as_user("PRF-0021").get(f"/leerling/{pupil_ref}/inzage")  # the district team: not theirs
    assert refused.status_code == 403 and "inzage" in refused.text
    user = dossier.as_user("PRF-0001")  # the coordinator of the pupil's school: the parents' channel
    mark = dossier.log_mark()
    response = user.get(f"/leerling/{pupil_ref}/inzage")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(rf'attachment; filename="inzage-{pupil_ref}-\d{{4}}-\d\d-\d\d\.json"', disposition)
    data = response.json()
    assert data["pupil"]["ref"] == pupil_ref and data["pupil"]["family_name"] == "Scholten"
    assert data["pupil"]["bsn"] and len(data["parents"]) == 2
    assert case_ref in [c["case"]["ref"] for c in data["cases"]]
    [entry] = dossier.log_since(mark)
    assert (entry.professional_code, entry.action, entry.outcome, entry.pupil_ref) == (
        "PRF-0001",
        "inzage_gedownload",
        "toegestaan",
        pupil_ref,
    )
    assert "AVG" in entry.reason


def test_the_case_page_shows_the_pupil_parents_plan_and_timeline(dossier):
    case_ref, pupil_ref = dossier.case_of("Scholten")
    page = dossier.as_user("PRF-0011").get(f"/casus/{case_ref}")
    assert page.status_code == 200
    text = text_of(page.text)
    for expected in ("Daan Scholten", pupil_ref, "Ouder Een Scholten", "Plan (versie 1)", "JEUGDPUNT", "Tijdlijn"):
        assert expected in text, expected
    assert f'href="/leerling/{pupil_ref}/inzage"' not in page.text  # a provider gives no subject access
    assert f'href="/casus/{case_ref}/doelen"' in page.text
    district = dossier.as_user("PRF-0021").get(f"/casus/{case_ref}")
    assert f'href="/casus/{case_ref}/doelen"' not in district.text and "/inzage" not in district.text
    school = dossier.as_user("PRF-0001").get(f"/casus/{case_ref}")
    assert f'href="/leerling/{pupil_ref}/inzage"' in school.text and f'href="/casus/{case_ref}/doelen"' in school.text


# the privacy officer's access log --------------------------------------------------------------------------


def _log_rows(page: str) -> list[dict[str, str]]:
    columns = ["at", "who", "role", "what", "outcome", "pupil", "case", "step", "path", "client", "reason"]
    return [dict(zip(columns, r, strict=True)) for r in table_rows(page) if len(r) == len(columns)]


def test_the_privacy_officer_filters_the_access_log_by_pupil_and_by_professional(dossier):
    case_ref, pupil_ref = dossier.case_of("Scholten")
    assert dossier.as_user("PRF-0001").get(f"/casus/{case_ref}").status_code == 200
    assert dossier.as_user("PRF-0002").get(f"/casus/{case_ref}").status_code == 403
    saved = dossier.as_user("PRF-0001")
    assert saved.post(f"/casus/{case_ref}/doelen", data={"csrf": saved.csrf, "doel_1": "Elke dag op tijd"}).is_redirect
    assert dossier.as_user("PRF-0002").get(f"/leerling/{pupil_ref}/inzage").status_code == 403
    officer = dossier.as_user("PRF-0051")
    mark = dossier.log_mark()

    by_pupil = officer.get("/toegangslog", params={"leerling": pupil_ref.lower()})
    rows = _log_rows(by_pupil.text)
    assert rows and {r["pupil"] for r in rows} == {pupil_ref}
    assert {(r["who"], r["outcome"]) for r in rows} >= {("PRF-0001", "toegestaan"), ("PRF-0002", "geweigerd")}
    assert ("PRF-0002", "geweigerd", f"/casus/{case_ref}") in {(r["who"], r["outcome"], r["path"]) for r in rows}
    assert ("PRF-0001", "doelen gewijzigd") in {(r["who"], r["what"]) for r in rows}
    refused = [r for r in rows if r["outcome"] == "geweigerd" and r["path"] == f"/leerling/{pupil_ref}/inzage"]
    assert refused and refused[0]["reason"].startswith("alleen casussen van school 11HE")

    by_professional = officer.get("/toegangslog", params={"professional": "PRF-0002"})
    rows = _log_rows(by_professional.text)
    assert rows and {r["who"] for r in rows} == {"PRF-0002"}

    both = _log_rows(officer.get("/toegangslog", params={"leerling": pupil_ref, "professional": "PRF-0002"}).text)
    assert both and {(r["who"], r["pupil"]) for r in both} == {("PRF-0002", pupil_ref)}
    assert all(r["outcome"] == "geweigerd" for r in both)

    nothing = officer.get("/toegangslog", params={"leerling": "LL-999999"})
    assert "Geen regels met dit filter." in nothing.text and not _log_rows(nothing.text)

    page_text = text_of(by_pupil.text)
    assert "Scholten" not in page_text and "Daan" not in page_text, "the access log holds codes, no names"
    seen = [(e.professional_code, e.action, e.pupil_ref, e.reason) for e in dossier.log_since(mark)]
    assert seen[0] == ("PRF-0051", "toegangslog_bekeken", pupil_ref, None)  # the officer's reading is logged too
    assert seen[1] == ("PRF-0051", "toegangslog_bekeken", None, "gefilterd op PRF-0002")


def test_the_privacy_officer_filters_the_access_log_by_day_and_by_refusals(dossier):
    case_ref, _ = dossier.case_of("Scholten")
    assert dossier.as_user("PRF-0002").get(f"/casus/{case_ref}").status_code == 403
    saved = dossier.as_user("PRF-0001")
    assert saved.post(f"/casus/{case_ref}/doelen", data={"csrf": saved.csrf, "doel_1": "Elke dag op tijd"}).is_redirect
    officer = dossier.as_user("PRF-0051")
    today = amsterdam_today()
    tomorrow = today + dt.timedelta(days=1)
    on_the_day = _log_rows(officer.get("/toegangslog", params={"van": today, "tot": today}).text)
    assert on_the_day and {r["at"][:10] for r in on_the_day} == {today.strftime("%d-%m-%Y")}
    later = officer.get("/toegangslog", params={"van": tomorrow})
    assert not _log_rows(later.text) and "Geen regels met dit filter." in later.text
    before = _log_rows(officer.get("/toegangslog", params={"tot": today - dt.timedelta(days=1)}).text)
    assert before == []
    refused = _log_rows(officer.get("/toegangslog", params={"geweigerd": "1"}).text)
    assert refused and {r["outcome"] for r in refused} == {"geweigerd"}
    assert any(r["who"] == "PRF-0002" and r["case"] == case_ref for r in refused)
    wrong = officer.get("/toegangslog", params={"van": "31-02-2026"})
    assert wrong.status_code == 200 and "Vanaf: moet een datum zijn" in text_of(wrong.text)
    assert _log_rows(wrong.text)  # the other filters still apply; this one is said not to


# the manager's figures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/rapport", "/rapport/evaluatie"])
def test_the_managers_figures_are_tables_of_numbers_without_a_pupil(dossier, path):
    page = dossier.as_user("PRF-0041").get(path)
    assert page.status_code == 200
    assert page.text.count("<table") >= 1
    words = set(re.findall(r"\w+", text_of(page.text)))
    names = {p.given_name for p in DEMO_PUPILS} | {p.family_name for p in DEMO_PUPILS}
    assert not names & words, names & words
    assert not re.search(r"LL-\d{6}|OJA-\d{4}-\d{6}", page.text), "no pupil or case reference either"


def test_an_evaluation_report_the_audit_refuses_is_said_in_dutch_not_a_500(dossier, monkeypatch):
    """Over a quiet period the report's figures can single out a handful of pupils; the audit then refuses the
    whole report. The page says so, with a way back, and logs the view; it used to answer 500."""
    from models.errors import DisclosureError
    from oja.dossier import pages_oversight

    def refused(*args, **kwargs):
        raise DisclosureError(["oja-evaluatierapport"])

    monkeypatch.setattr(pages_oversight, "render_report", refused)
    mark = dossier.log_mark()
    page = dossier.as_user("PRF-0041").get("/rapport/evaluatie")
    assert page.status_code == 200
    said = text_of(page.text)
    assert "Het evaluatierapport is nu niet gepubliceerd" in said and "1 tot 5 leerlingen" in said
    assert 'href="/rapport"' in page.text
    assert [(e.action, e.outcome) for e in dossier.log_since(mark)] == [("rapport_bekeken", "toegestaan")]


def test_the_access_log_shows_what_the_oja_pupil_commands_showed_on_the_server(dossier):
    """Issue 23, item 7: `oja pupil find`, `list` and `export` write their lines; the officer's page shows them."""
    from oja.adapters.db import unit_of_work
    from oja.services.pupil_reads import export_for, find_pupil, list_pupils

    _, pupil_ref = dossier.case_of("Scholten")
    with unit_of_work(dossier.engine) as s:
        bsn = s.exec(select(Pupil.bsn).where(Pupil.ref == pupil_ref)).one()
        found = find_pupil(s, door="PRF-0061", bsn=bsn or "")
        assert found is not None and found.ref == pupil_ref
        assert pupil_ref in {p.ref for p in list_pupils(s, door="PRF-0061", school="")}
        assert export_for(s, door="PRF-0061", pupil_ref=pupil_ref)["pupil"]["ref"] == pupil_ref
    page = dossier.as_user("PRF-0051").get("/toegangslog", params={"leerling": pupil_ref, "professional": "PRF-0061"})
    rows = _log_rows(page.text)
    assert [(r["what"], r["path"], r["client"]) for r in rows[:3]] == [
        ("inzage geexporteerd", "oja pupil export", "opdrachtregel op de server"),
        ("leerlingenlijst bekeken", "oja pupil list", "opdrachtregel op de server"),
        ("leerling opgezocht", "oja pupil find", "opdrachtregel op de server"),
    ]
    assert {(r["who"], r["role"], r["pupil"]) for r in rows[:3]} == {("PRF-0061", "beheerder", pupil_ref)}


def test_the_evaluation_report_page_has_the_dossiers_header_with_a_way_back_and_log_out(dossier):
    """Issue 23: the report page had no header: no way back, no log-out."""
    page = dossier.as_user("PRF-0041").get("/rapport/evaluatie")
    assert page.status_code == 200
    assert '<header class="top">' in page.text and 'href="/rapport"' in page.text
    assert 'action="/uitloggen"' in page.text and "Uitloggen" in page.text
    assert "Evaluatie van de OJA-pilot" in text_of(page.text)
    assert page.text.count("<html") == 1 and page.text.count("<body") == 1  # one document, not one inside another
    assert "style-src 'self' 'unsafe-inline'" in page.headers["Content-Security-Policy"]  # the stylesheet and the bars


def test_the_timeline_reads_in_dutch_words_not_codes(dossier):
    """Issue 23: the timeline read `ouder_1=granted`, and states and actions as codes."""
    case_ref, _pupil = dossier.case_of("Scholten")
    page = dossier.as_user("PRF-0011").get(f"/casus/{case_ref}")
    timeline = text_of(page.text).split("Tijdlijn", 1)[1]
    assert "=granted" not in timeline and "granted" not in timeline
    assert "toestemming gegeven" in timeline
    assert "arrangement starten" in timeline and "arrangement loopt" in timeline
    assert not re.search(r"\b(plan_opstellen|arrangement_starten|wacht_op_triage|plan_opgesteld)\b", timeline)
