"""Issue 23, item 7: `oja pupil find`, `list` and `export` show personal data on the server, so each writes the access
log as the dossier does, naming who ran it (`--door` or OJA_DOOR, a registered professional), with the pupils it
showed; without a name it refuses, in Dutch, before anything is shown. On a real SQLite file, as the CLI runs."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from models.tables_dossier import AccessLogEntry
from models.vocabulary import AccessAction
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from oja.config import get_settings
from oja.entrypoints.cli import app
from oja.services.access_log import read_access_log

runner = CliRunner()
DAY = dt.date(2026, 11, 23)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OJA_HOME", str(tmp_path))
    monkeypatch.delenv("OJA_DATABASE_URL", raising=False)
    monkeypatch.delenv("OJA_DOOR", raising=False)
    get_settings.cache_clear()
    assert runner.invoke(app, ["migrate", "upgrade"]).exit_code == 0
    with unit_of_work() as s:
        sv.upsert_municipality(s, code="GM0164", name="Hengelo")
        sv.upsert_school(s, code="40AB", name="De School", holiday_region="noord", municipality_code="GM0164")
        sv.upsert_professional(s, code="PRF-OP", name="Beheerder", role="beheerder")
        refs = [
            sv.register_pupil(
                s,
                given_name=given,
                family_name="Test",
                birth_date=dt.date(2014, 6, 15),
                school_code="40AB",
                municipality_code="GM0164",
                bsn=bsn,
                parents=[],
                today=DAY,
            )
            for given, bsn in (("Anna", "111222333"), ("Bram", "123456782"))
        ]
    yield refs
    get_engine(get_settings().effective_database_url).dispose()
    get_settings.cache_clear()


def _log() -> list[tuple[str, str | None, str, str | None]]:
    with Session(get_engine()) as s:
        rows = s.exec(select(AccessLogEntry).order_by(col(AccessLogEntry.id))).all()
        return [(e.professional_code, e.role, e.action, e.pupil_ref) for e in rows]


def test_finding_a_pupil_logs_who_found_whom(home, monkeypatch):
    anna, _ = home
    found = runner.invoke(app, ["pupil", "find", "--bsn", "111 222 333", "--door", "PRF-OP"])
    assert found.exit_code == 0, found.output
    assert found.output.strip() == anna
    assert _log() == [("PRF-OP", "beheerder", AccessAction.FIND_PUPIL.value, anna)]

    monkeypatch.setenv("OJA_DOOR", "prf-op")  # from the environment, as typed
    assert runner.invoke(app, ["pupil", "find", "--bsn", "111222333"]).exit_code == 0
    missing = runner.invoke(app, ["pupil", "find", "--bsn", "999999990"])  # a search that finds no one is logged too
    assert missing.exit_code == 1
    assert _log()[1:] == [
        ("PRF-OP", "beheerder", AccessAction.FIND_PUPIL.value, anna),
        ("PRF-OP", "beheerder", AccessAction.FIND_PUPIL.value, None),
    ]
    with Session(get_engine()) as s:  # the privacy officer's page filters by pupil (`read_access_log`)
        entries = read_access_log(s, pupil_ref=anna)
        assert [e.action for e in entries] == [AccessAction.FIND_PUPIL.value] * 2
        assert all(e.path == "oja pupil find" and e.client for e in entries)


def test_listing_pupils_logs_every_pupil_shown(home):
    anna, bram = home
    listed = runner.invoke(app, ["pupil", "list", "--door", "PRF-OP"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert anna in listed.output and bram in listed.output
    assert _log() == [
        ("PRF-OP", "beheerder", AccessAction.LIST_PUPILS.value, anna),
        ("PRF-OP", "beheerder", AccessAction.LIST_PUPILS.value, bram),
    ]


def test_exporting_a_pupil_logs_the_pupil(home, tmp_path):
    anna, _ = home
    out = tmp_path / "inzage.json"
    exported = runner.invoke(app, ["pupil", "export", anna, "--out", str(out), "--door", "PRF-OP"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text(encoding="utf-8"))["pupil"]["ref"] == anna
    assert _log() == [("PRF-OP", "beheerder", AccessAction.EXPORT_PUPIL_SERVER.value, anna)]


@pytest.mark.parametrize("door", [None, "", "PRF-9999", "niet een code"])
@pytest.mark.parametrize("command", ["find", "list", "export"])
def test_without_a_registered_name_nothing_is_shown_nor_written(home, tmp_path, command, door):
    anna, _ = home
    out = tmp_path / "inzage.json"
    args = {
        "find": ["pupil", "find", "--bsn", "111222333"],
        "list": ["pupil", "list"],
        "export": ["pupil", "export", anna, "--out", str(out)],
    }[command]
    result = runner.invoke(app, [*args, *(["--door", door] if door is not None else [])], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "--door" in result.output and "OJA_DOOR" in result.output
    assert anna not in result.output and "Anna" not in result.output
    assert not out.exists()
    assert _log() == []
