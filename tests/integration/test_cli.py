"""The operator CLI and the demo region, on a real SQLite file."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from sqlmodel import Session, SQLModel, func, select
from typer.testing import CliRunner

from models.lifecycle import AuditAction, CaseState
from models.tables import Case, Pupil
from models.tables_outbox import Outbox
from models.vocabulary import OutboxStatus
from oja.adapters.db import get_engine
from oja.config import get_settings
from oja.entrypoints.cli import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OJA_HOME", str(tmp_path))
    monkeypatch.delenv("OJA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_engine(get_settings().effective_database_url).dispose()
    get_settings.cache_clear()


def _counts() -> dict[str, int]:
    with Session(get_engine()) as s:
        return {t.name: s.exec(select(func.count()).select_from(t)).one() for t in SQLModel.metadata.sorted_tables}


def test_the_demo_region_has_a_case_in_every_state_and_loads_only_once(home):
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 0, again.output
    assert _counts() == counts
    with Session(get_engine()) as s:
        states = set(s.exec(select(Case.state)).all())
    assert states == {state.value for state in CaseState}


def test_adding_a_pupil_prints_the_reference_and_a_wrong_bsn_names_the_field(home):
    assert runner.invoke(app, ["migrate", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["demo"]).exit_code == 0
    before = _counts()
    bad = runner.invoke(
        app,
        [
            "pupil",
            "add",
            "--given-name",
            "Kees",
            "--family-name",
            "Klaassen",
            "--birth-date",
            "2014-02-02",
            "--school",
            "10HV",
            "--municipality",
            "GM0164",
            "--bsn",
            "123456789",
        ],
    )
    assert bad.exit_code == 2 and "bsn" in bad.output and "elfproef" in bad.output
    assert "123456789" not in bad.output
    assert _counts() == before
    good = runner.invoke(
        app,
        [
            "pupil",
            "add",
            "--given-name",
            "Kees",
            "--family-name",
            "Klaassen",
            "--birth-date",
            "2014-02-02",
            "--school",
            "10HV",
            "--municipality",
            "GM0164",
            "--bsn",
            "111222333",
            "--parent",
            "Anna Klaassen",
        ],
    )
    assert good.exit_code == 0, good.output
    ref = good.output.strip()
    assert ref.startswith("LL-")
    found = runner.invoke(app, ["pupil", "find", "--bsn", "111 222 333", "--door", "PRF-0061"])
    assert found.output.strip() == ref


def test_an_import_with_one_bad_row_writes_nothing_and_names_the_row(home, tmp_path):
    assert runner.invoke(app, ["demo"]).exit_code == 0
    csv = tmp_path / "pupils.csv"
    csv.write_text(
        "given_name,family_name,birth_date,school_code,municipality_code,bsn,onderwijsnummer,parent_1,parent_2\n"
        "Eva,Aarts,2015-01-01,10HV,GM0164,111222333,,Ouder Aarts,\n"
        "Ties,Bloem,2013-05-05,11HE,GM0147,123456782,,Ouder Bloem,Ouder Bloem 2\n"
        "Roel,Claes,2014-09-09,99ZZ,GM0164,100000009,,,\n",
        encoding="utf-8",
    )
    with Session(get_engine()) as s:
        pupils = s.exec(select(func.count()).select_from(Pupil)).one()
    result = runner.invoke(app, ["pupil", "import", str(csv)])
    assert result.exit_code == 2
    assert "regel 4: school_code" in result.output and "niets geïmporteerd" in result.output
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Pupil)).one() == pupils
    csv.write_text(csv.read_text(encoding="utf-8").replace("99ZZ", "12BK"), encoding="utf-8")
    result = runner.invoke(app, ["pupil", "import", str(csv)])
    assert result.exit_code == 0, result.output
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Pupil)).one() == pupils + 3


def test_showing_a_case_prints_its_state_and_audit_trail(home):
    assert runner.invoke(app, ["demo"]).exit_code == 0
    with Session(get_engine()) as s:
        ref = s.exec(select(Case.ref).where(Case.state == CaseState.REVIEWED.value)).one()
    shown = runner.invoke(app, ["case", "show", ref], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert CaseState.REVIEWED in shown.output and AuditAction.RECORD_REVIEW in shown.output
    assert AuditAction.CONSENT_COMPLETE in shown.output
    unknown = runner.invoke(app, ["case", "show", "OJA-2026-999999"])
    assert unknown.exit_code == 2 and "case_ref" in unknown.output


def test_a_sweep_by_hand_without_smtp_writes_the_mails_to_the_mail_folder(home, monkeypatch):
    for name in ("OJA_SMTP_URL", "OJA_SMTP_SECRET_BLOCK", "OJA_CASE_URL", "PREFECT_UI_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OJA_DOSSIER_URL", "http://127.0.0.1:4398")  # the dossier runs on port 4398
    assert runner.invoke(app, ["demo"]).exit_code == 0
    result = runner.invoke(app, ["sweep"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    folder = home / "mail"
    assert f"written to {folder}" in " ".join(result.output.split())
    with Session(get_engine()) as s:
        sent = s.exec(select(Outbox).where(Outbox.status == OutboxStatus.SENT.value)).all()
    files = sorted(folder.glob("*.eml"))
    assert sent and len(files) == len(sent)  # the demo's referrals were queued for the district teams at least
    for path in files:
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert mail["To"] in {o.to_address for o in sent} and mail["Subject"] in {o.subject for o in sent}
        text = mail.get_body(preferencelist=("plain",)).get_content()
        refs = re.findall(r"OJA-\d{4}-\d{6}", text)
        assert refs and f"http://127.0.0.1:4398/casus/{refs[0]}" in text  # the case's page in the dossier
    again = runner.invoke(app, ["sweep"])  # nothing is written twice
    assert again.exit_code == 0 and len(list(folder.glob("*.eml"))) == len(files)


def test_a_sweep_by_hand_links_to_the_port_oja_start_serves_without_any_setting(home, monkeypatch):
    """Issue 23, item 13: `oja start --dossier-port 4711`, then `oja sweep` from a shell with no OJA_DOSSIER_URL:
    every link goes to :4711, read from what the start recorded in OJA_HOME, never to the default :4201."""
    import os
    import subprocess

    from oja.entrypoints.local_setup import front_address, venv_bin

    for name in ("OJA_DOSSIER_URL", "OJA_SMTP_URL", "OJA_SMTP_SECRET_BLOCK", "OJA_CASE_URL", "PREFECT_UI_URL"):
        monkeypatch.delenv(name, raising=False)
    started: dict[str, str] = {}  # the environment `oja start` runs in, apart from this test's
    assert front_address(home, host="0.0.0.0", dossier_port=4711, environ=started) == "http://127.0.0.1:4711"
    assert started["OJA_DOSSIER_URL"] == "http://127.0.0.1:4711"
    assert runner.invoke(app, ["demo"]).exit_code == 0
    shell = {k: v for k, v in os.environ.items() if not k.startswith(("OJA_", "PREFECT_UI"))}
    done = subprocess.run(
        [venv_bin("oja"), "sweep"], env={**shell, "OJA_HOME": str(home)}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    files = sorted((home / "mail").glob("*.eml"))
    assert files
    for path in files:
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = mail.get_body(preferencelist=("plain",)).get_content()
        assert ":4201" not in text
        refs = re.findall(r"OJA-\d{4}-\d{6}", text)
        assert refs and f"http://127.0.0.1:4711/casus/{refs[0]}" in text
