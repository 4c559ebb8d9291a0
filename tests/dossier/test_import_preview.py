"""The import's preview is kept on the server and confirmed by its id (issue 24, item 7): a file near the stated
limit (2 MB) previews and imports (carried as a form field, a 1.1 MB file passed the preview and its confirm
failed on Starlette's 1 MB field cap); the id counts only for the session that made the preview, and only once."""

from __future__ import annotations

import datetime as dt
import html
import re

from sqlalchemy import func
from sqlmodel import select

from models.tables import Pupil
from oja.adapters.db import unit_of_work
from oja.services.import_previews import PREVIEW_TIME, keep_preview
from oja.services.pupil_import import MAX_BYTES
from tests.dossier.conftest import form_csrf
from tests.factories import valid_bsn

PREVIEW_FIELD = re.compile(r'name="voorvertoning" value="([^"]+)"')
HEADER = "Roepnaam;Achternaam;Geboortedatum;BSN;Gemeente;Opmerking\n"


def pupils_of(dossier, family: str) -> int:
    with dossier.db() as s:
        return s.exec(select(func.count()).select_from(Pupil).where(Pupil.family_name == family)).one()


def big_file(family: str, base: int, rows: int = 40) -> bytes:
    """`rows` pupils (at least 20: a CSV field has at most 128 kB), padded (a column the import does not use) to
    just under the limit."""
    pad = (MAX_BYTES - 4096) // rows - 60
    lines = [f"Groot{n};{family};01-02-2013;{valid_bsn(n, base=base)};GM0164;{'x' * pad}\n" for n in range(rows)]
    content = (HEADER + "".join(lines)).encode()
    assert MAX_BYTES - 8192 < len(content) <= MAX_BYTES
    return content


def preview(user, content: bytes):
    return user.post("/leerlingen/import", data={"csrf": user.csrf}, files={"bestand": ("a.csv", content)})


def test_a_file_near_the_limit_previews_and_imports(dossier):
    user = dossier.as_user("PRF-0001")
    shown = preview(user, big_file("Grootbestand", 522000000))
    assert shown.status_code == 200, shown.text[-1500:]
    assert 'name="data"' not in shown.text, "the file is not carried in the page"
    preview_id = PREVIEW_FIELD.search(shown.text).group(1)
    done = user.post("/leerlingen/import/bevestigen", data={"csrf": form_csrf(shown.text), "voorvertoning": preview_id})
    assert done.status_code == 303 and done.headers["location"] == "/?geimporteerd=40", done.text[-1500:]
    assert pupils_of(dossier, "Grootbestand") == 40
    again = user.post("/leerlingen/import/bevestigen", data={"csrf": user.csrf, "voorvertoning": preview_id})
    assert again.status_code == 403 and pupils_of(dossier, "Grootbestand") == 40, "a preview is imported once"


def test_another_session_cannot_confirm_a_preview(dossier):
    owner = dossier.as_user("PRF-0001")
    shown = preview(owner, big_file("Anderesessie", 523000000, rows=20))
    preview_id = PREVIEW_FIELD.search(shown.text).group(1)
    for other in (dossier.as_user("PRF-0001"), dossier.as_user("PRF-0002")):  # the same person elsewhere; 11HE
        refused = other.post("/leerlingen/import/bevestigen", data={"csrf": other.csrf, "voorvertoning": preview_id})
        assert refused.status_code == 403, refused.text[-800:]
        assert "voorvertoning" in html.unescape(refused.text) and "niets geïmporteerd" in html.unescape(refused.text)
    assert pupils_of(dossier, "Anderesessie") == 0
    done = owner.post("/leerlingen/import/bevestigen", data={"csrf": owner.csrf, "voorvertoning": preview_id})
    assert done.status_code == 303 and pupils_of(dossier, "Anderesessie") == 20


def test_an_expired_or_unknown_preview_is_refused(dossier):
    user = dossier.as_user("PRF-0001")
    content = big_file("Verlopen", 524000000, rows=20)
    with unit_of_work(dossier.engine) as session:
        old = keep_preview(session, token=user.token, content=content, now=dt.datetime.now(dt.UTC) - PREVIEW_TIME)
    for preview_id in (old, "onbekend", "é" * 50):
        refused = user.post("/leerlingen/import/bevestigen", data={"csrf": user.csrf, "voorvertoning": preview_id})
        assert refused.status_code == 403 and "verlopen" in html.unescape(refused.text)
    assert pupils_of(dossier, "Verlopen") == 0
