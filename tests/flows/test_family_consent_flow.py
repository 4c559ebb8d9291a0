"""Consent online (issue 26, 4) on the Prefect test server: a parent's own consent, given on the family's page, is a
run of the consent step's deployment (`04 Toestemming`) with codes only and the party as actor; run as a worker runs
it, it takes the parent's request and the case moves on as when a professional records it. A run that names a parent
as actor without the parent's request fails, and nothing is recorded."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_engine import run_flow
from prefect.settings import PREFECT_API_URL
from sqlmodel import Session, select

from flows import forms
from flows import planning as f_planning
from models.lifecycle import CaseState
from models.tables import Case, ConsentRecord
from models.tables_family import FamilyConsentRequest, FamilyLogin
from oja.adapters.db import get_engine, unit_of_work
from oja.adapters.form_choices import publish_choices
from oja.deployments import deployment_name
from oja.dossier import family_consent_run
from oja.dossier.gateway_proxy import Upstream
from oja.services import family_consent
from tests.flows.test_step_results_issue25 import _planned_case

pytestmark = pytest.mark.prefect


@pytest.fixture(scope="module")
def consent_deployment(engine_url) -> str:
    """The consent step's deployment on the test server as `oja start` makes it: the form's schema enforced, the
    known codes offered in it (`oja forms publish`)."""
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("toestemming-vastleggen")
        deployment_id = client.create_deployment(
            flow_id=flow_id,
            name=deployment_name("toestemming-vastleggen"),
            entrypoint="flows/planning.py:record_consent",
            parameter_openapi_schema=dict(f_planning.record_consent.parameters.model_dump_for_openapi()),
            enforce_parameter_schema=True,
        )
        publish_choices(get_engine(engine_url), client)
        actor = client.read_deployment(deployment_id).parameter_openapi_schema["definitions"]["RecordConsent"]
        assert "anyOf" in actor["properties"]["actor"]  # the professionals offered as choices
        return str(deployment_id)


def _request(url: str, ref: str, party: str, granted: bool = True) -> str:
    with unit_of_work(get_engine(url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        login = FamilyLogin(pupil_id=case.pupil_id, party=party, email=f"{party}.{ref.lower()}@gezin.test")
        s.add(login)
        s.flush()
        return family_consent.ask(s, login=login, case=case, granted=granted).token


def test_a_parents_own_consent_is_a_run_of_the_consent_step_with_codes_only(
    engine_url, consent_deployment, monkeypatch
):
    ref = _planned_case(engine_url, "826000101", 14, dt.date.today())  # 14: the pupil and the parent consent
    f_planning.record_consent(form=forms.RecordConsent(case_ref=ref, party="leerling", actor="PRF-T1"))
    token = _request(engine_url, ref, "ouder_1")
    api = str(PREFECT_API_URL.value())
    monkeypatch.setattr(family_consent_run, "upstream", lambda: Upstream(api.removesuffix("/api"), ""))
    run_id = family_consent_run.start_consent_run(ref, "ouder_1", True, token)
    assert family_consent_run.start_consent_run(ref, "ouder_1", True, token) == run_id  # sent twice: one run
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
    assert str(run.deployment_id) == consent_deployment and run.state.is_scheduled()
    assert run.parameters == {
        "form": {"case_ref": ref, "party": "ouder_1", "granted": True, "actor": "ouder_1", "family_request": token}
    }
    assert set(run.tags) == {"gezin:ouder_1", f"casus:{ref}"}
    assert "Noor" not in json.dumps(run.model_dump(mode="json"))  # codes only: no name of the pupil or a parent
    state = run_flow(f_planning.record_consent, flow_run=run, parameters=run.parameters, return_type="state")
    assert state.is_completed(), state.message
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(run_id).state.is_completed()
    with Session(get_engine(engine_url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        assert case.state == CaseState.CONSENTED.value  # the last consent needed: on as with a professional's
        request = s.exec(select(FamilyConsentRequest).where(FamilyConsentRequest.token == token)).one()
        assert (request.status, request.outcome) == ("verwerkt", "toestemming_afronden")


def test_a_run_naming_a_parent_without_the_parents_request_fails_and_records_nothing(engine_url):
    ref = _planned_case(engine_url, "826000204", 14, dt.date.today())
    state = f_planning.record_consent(
        form=forms.RecordConsent(case_ref=ref, party="ouder_1", actor="ouder_1"), return_state=True
    )
    assert state.is_failed() and "Verzoek van het gezin" in state.message
    with Session(get_engine(engine_url)) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        assert s.exec(select(ConsentRecord).where(ConsentRecord.case_id == case.id)).all() == []


def test_a_familys_run_the_step_refuses_ends_the_request_so_they_may_send_it_again(engine_url):
    ref = _planned_case(engine_url, "826000307", 14, dt.date.today())
    token = _request(engine_url, ref, "ouder_1")
    form = forms.RecordConsent(case_ref=ref, party="ouder_1", granted=False, actor="ouder_1", family_request=token)
    state = f_planning.record_consent(form=form, return_state=True)  # the request said yes, the run says no
    assert state.is_failed() and "Verzoek van het gezin" in state.message
    with Session(get_engine(engine_url)) as s:
        request = s.exec(select(FamilyConsentRequest).where(FamilyConsentRequest.token == token)).one()
        assert request.status == "geweigerd"
        assert s.exec(select(ConsentRecord).where(ConsentRecord.case_id == request.case_id)).all() == []
