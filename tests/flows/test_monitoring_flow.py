"""The monitoring deployment publishes its tables as keyed artifacts, and never one the small-numbers audit refuses.

Each test runs the real flow on a region of its own (its own engine database), so that the figures are known."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
from sqlmodel import select

from flows.monitoring import daily_monitoring
from models.errors import DisclosureError
from models.schooldays import today as amsterdam_today
from models.suppression import HIDDEN
from models.tables import Case
from models.tables_family import FamilyLogin
from oja import services as sv
from oja.adapters import migrate
from oja.adapters.db import get_engine, unit_of_work
from oja.config import dossier_url, get_settings
from oja.services import closing_questions
from tests.factories import active_case
from tests.integration.test_monitoring import _bsn

pytestmark = pytest.mark.prefect

KEYS = {
    "oja-caseload-per-school",
    "oja-tijdigheid-per-school",
    "oja-evaluaties-per-school",
    "oja-caseload-aanbieder-gemeente",
    "oja-uitkomsten",
    "oja-uren-en-kosten",
    "oja-groepsarrangementen",
    "oja-besluiten",
}


@pytest.fixture
def region(prefect_server, tmp_path, monkeypatch):
    """An empty region of its own: a municipality, a provider, two schools with a coordinator each."""
    url = f"sqlite:///{tmp_path / 'oja.db'}"
    monkeypatch.setenv("OJA_DATABASE_URL", url)
    monkeypatch.setenv("OJA_HOME", str(tmp_path))
    get_settings.cache_clear()
    migrate.upgrade(url)
    engine = get_engine(url)
    with unit_of_work(engine) as s:
        sv.upsert_municipality(s, code="GM0164", name="Hengelo")
        sv.upsert_provider(s, code="PRV-A", name="Aanbieder A")
        sv.upsert_professional(s, code="PRF-2", name="Hulpverlener", role="jeugdhulpverlener", provider_code="PRV-A")
        for code, coordinator in (("40AB", "PRF-1"), ("41CD", "PRF-9")):
            sv.upsert_school(s, code=code, name=f"School {code}", holiday_region="noord", municipality_code="GM0164")
            sv.upsert_professional(s, code=coordinator, name="Coördinator", role="zorgcoordinator", school_code=code)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _cases(engine, plan: list[tuple[str, str, int]], today: dt.date) -> None:
    for i, (school, coordinator, level) in enumerate(plan):
        active_case(
            engine,
            school=school,
            coordinator=coordinator,
            bsn=_bsn(400 + i),
            born=dt.date(2009, 1, 1),
            today=today,
            level=level,
        )


def _artifacts(run_id) -> dict[str, object]:
    with get_client(sync_client=True) as client:
        this_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        found = client.read_artifacts(artifact_filter=this_run)
    return {a.key: a for a in found}


def test_the_monitoring_flow_publishes_keyed_tables_with_small_numbers_hidden(region):
    today = amsterdam_today()
    # 40AB: 7 at level 2 and 3 at level 1; 41CD: 6 at level 3 (the example of issue 11)
    _cases(region, [("40AB", "PRF-1", 2)] * 7 + [("40AB", "PRF-1", 1)] * 3 + [("41CD", "PRF-9", 3)] * 6, today)
    state = daily_monitoring(day=today, return_state=True)
    assert state.is_completed(), state.message
    assert set(state.result()) == KEYS
    artifacts = _artifacts(state.state_details.flow_run_id)
    assert set(artifacts) == KEYS | {"oja-evaluatierapport"}
    caseload = artifacts["oja-caseload-per-school"]
    assert caseload.type == "table" and HIDDEN in caseload.description
    table = json.loads(caseload.data) if isinstance(caseload.data, str) else caseload.data
    rows = {row["school"]: [row[f"niveau {level}"] for level in range(5)] + [row["totaal"]] for row in table}
    assert rows == {
        "40AB": ["0", HIDDEN, HIDDEN, "0", "0", "10"],
        "41CD": ["0", "0", "0", "6", "0", "6"],
        "totaal": ["0", HIDDEN, HIDDEN, "6", "0", "16"],
    }
    assert (get_settings().home / "reports" / f"evaluatie-{today.isoformat()}.html").exists()
    report = artifacts["oja-evaluatierapport"]  # a page in the dossier, behind its login: not a file on the server
    assert report.type == "markdown" and f"({dossier_url()}/rapport/evaluatie)" in report.data


def _table(artifact) -> list[dict[str, str]]:
    return json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data


def test_region_figures_about_one_to_five_pupils_are_published_hidden(region):
    today = amsterdam_today()
    # one school with 3 open cases by one provider, one family's satisfaction score (8): the region total of care
    # reports, the provider's count and the average are about 1 to 5 pupils, so each is hidden, and every table
    # and the report can be published
    _cases(region, [("40AB", "PRF-1", 2)] * 3, today)
    with unit_of_work(region) as s:
        ref = s.exec(select(Case.ref).order_by(Case.id)).first()
        sv.record_review(s, case_ref=ref, held_on=today, actor="PRF-1", today=today, satisfaction=8)
        # and one pupil's answers at closing (issue 26): their count and shares are about 1 pupil
        other = s.exec(select(Case).order_by(Case.id)).all()[1]
        s.add(FamilyLogin(pupil_id=other.pupil_id, party="leerling", email="leerling@gezin.test"))
        s.flush()
        sv.decide(s, case_ref=other.ref, kind="afsluiten", actor="PRF-1", today=today, end_reason="volgens_plan",
                  policy=sv.DEFAULT_POLICY)  # fmt: skip
        form = {"tevredenheid": "tevreden", "verder_zonder_hulp": "ja"}
        closing_questions.answer(s, other.pupil_id, "leerling", form, today=today, now=dt.datetime.now(dt.UTC))
    state = daily_monitoring(day=today, return_state=True)
    assert state.is_completed(), state.message
    artifacts = _artifacts(state.state_details.flow_run_id)
    assert set(artifacts) == KEYS | {"oja-evaluatierapport"}
    outcomes = {row["criterium"]: row["waarde"] for row in _table(artifacts["oja-uitkomsten"])}
    assert outcomes["cliënttevredenheid (gemiddeld, 1-10)"] == HIDDEN  # not 8.0
    assert outcomes["tevredenheid: aantal metingen"] == HIDDEN  # not 1
    for row in ("aantal antwoorden", "tevreden over de hulp (%)", "verder zonder deze hulp (%)"):
        assert outcomes[f"afsluitvragen leerling: {row}"] == HIDDEN  # not 1, nor 100.0
    assert outcomes["afsluitvragen ouders: aantal antwoorden"] == "0"
    providers = [row for row in _table(artifacts["oja-caseload-aanbieder-gemeente"]) if row["soort"] == "aanbieder"]
    assert providers == [{"soort": "aanbieder", "code": "PRV-A", "open casussen": HIDDEN}]  # not 3
    report = (get_settings().home / "reports" / f"evaluatie-{today.isoformat()}.html").read_text(encoding="utf-8")
    assert f"<th>regio</th><th>0</th><th>{HIDDEN}</th></tr>" in report  # before: none; after: 3 care reports


def test_a_table_the_audit_refuses_is_not_published_and_the_run_fails_naming_it(region, monkeypatch):
    from oja.services import report

    today = amsterdam_today()
    _cases(region, [("40AB", "PRF-1", 2)] * 3, today)

    def refused(*args, **kwargs):  # a report the audit refuses (a figure that must be shown gives a school away)
        raise DisclosureError([report.REPORT])

    monkeypatch.setattr(report, "_signals_per_school", refused)
    state = daily_monitoring(day=today, return_state=True)
    assert state.is_failed()
    assert "oja-evaluatierapport" in state.message
    assert "40AB" not in state.message  # the message names tables, never a school or a figure
    artifacts = _artifacts(state.state_details.flow_run_id)
    assert "oja-evaluatierapport" not in artifacts
    assert KEYS <= set(artifacts)  # every table passed the audit and is published
    assert not (get_settings().home / "reports").exists() or not any((get_settings().home / "reports").iterdir())
    with get_client(sync_client=True) as client:  # the latest report link is not this run's
        latest = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["oja-evaluatierapport"])), limit=5
        )
    assert all(a.flow_run_id != state.state_details.flow_run_id for a in latest)
