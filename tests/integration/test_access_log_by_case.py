"""Issue 25, 8: the privacy officer filters the access log by case: every line about it, refusals included."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from models.errors import InvalidInput
from models.vocabulary import AccessAction, AccessOutcome
from oja.adapters.db import unit_of_work
from oja.services.access_log import log_access, read_access_log
from tests.integration.test_services import pupil, signal


def _line(s, action, *, outcome=AccessOutcome.ALLOWED, who="PRF-1", **kw):
    log_access(s, professional_code=who, role="zorgcoordinator", action=action, path="/p", client="127.0.0.1",
               outcome=outcome, **kw)  # fmt: skip


def test_the_log_filtered_by_case_holds_every_line_about_it_and_no_other(engine):
    anna = pupil(engine)
    bram = pupil(engine, bsn="123456782")
    case = signal(engine, anna).case_ref
    other = signal(engine, bram).case_ref
    with unit_of_work(engine) as s:
        _line(s, AccessAction.VIEW_CASE, case_ref=case, pupil_refs=[anna])
        _line(s, AccessAction.VIEW_CASE, who="PRF-9", outcome=AccessOutcome.REFUSED, case_ref=case, pupil_refs=[anna])
        _line(s, AccessAction.STEP_STARTED, case_ref=case, pupil_refs=[anna], step="02 Triage", run_id="r-1")
        _line(s, AccessAction.VIEW_WORKLIST, cases=[(anna, case), (bram, other)])  # each row with its own case
        _line(s, AccessAction.EXPORT_PUPIL, pupil_refs=[anna], cases=[(anna, case)])
        _line(s, AccessAction.EXPORT_PUPIL, who="PRF-9", outcome=AccessOutcome.REFUSED, pupil_refs=[anna])
        _line(s, AccessAction.VIEW_CASE, case_ref=other, pupil_refs=[bram])
        _line(s, AccessAction.VIEW_REPORT)
    with Session(engine) as s:
        found = read_access_log(s, case_ref=f" {case.lower()} ")
        worklist = [e for e in read_access_log(s) if e.action == AccessAction.VIEW_WORKLIST.value]
    assert sorted((e.pupil_ref, e.case_ref) for e in worklist) == [(anna, case), (bram, other)]
    seen = [(e.action, e.outcome, e.professional_code, e.case_ref) for e in reversed(found)]
    assert seen == [
        ("casus_bekeken", "toegestaan", "PRF-1", case),
        ("casus_bekeken", "geweigerd", "PRF-9", case),
        ("stap_gestart", "toegestaan", "PRF-1", case),
        ("werklijst_bekeken", "toegestaan", "PRF-1", case),
        ("inzage_gedownload", "toegestaan", "PRF-1", case),
        # about the case's pupil, naming no case (a refused export): it concerns every case of the pupil
        ("inzage_gedownload", "geweigerd", "PRF-9", None),
    ]
    with Session(engine) as s:  # with the other filters
        refused = read_access_log(s, case_ref=case, refused_only=True)
        assert {e.professional_code for e in refused} == {"PRF-9"} and len(refused) == 2
        assert read_access_log(s, case_ref="OJA-2026-999999") == []  # well formed, never logged: nothing


@pytest.mark.parametrize("ref", ["OJA-26-1", "OJA-2026-0000001", "<script>", "LL-000001", "OJA-2026-00000١"])
def test_a_bad_case_reference_is_refused_in_dutch(engine, ref):
    with Session(engine) as s, pytest.raises(InvalidInput) as refused:
        read_access_log(s, case_ref=ref)
    assert refused.value.field == "casus" and "OJA-2026-000123" in refused.value.rule


def test_an_export_on_the_server_is_a_line_of_each_case_in_it(engine):
    from oja.services.pupil_reads import export_for

    anna = pupil(engine)
    case = signal(engine, anna).case_ref
    with unit_of_work(engine) as s:
        export_for(s, door="PRF-1", pupil_ref=anna)
    with Session(engine) as s:
        [line] = read_access_log(s, case_ref=case)
    assert (line.action, line.pupil_ref, line.case_ref) == ("inzage_geexporteerd", anna, case)
