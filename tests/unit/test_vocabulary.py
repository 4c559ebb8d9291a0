"""One vocabulary: every code the engine stores is a member of an enum, in Dutch, and fits its column."""

from __future__ import annotations

import importlib.util
import re
from enum import StrEnum
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (registers the tables)
import models.tables_dossier  # noqa: F401
from flows import forms
from flows.common import EVENT_NAMES
from models.closing import Satisfaction, WithoutHelp
from models.decisions import RecommendationRule
from models.lifecycle import Action, AuditAction, CaseState
from models.reminders import NoticeKind
from models.vocabulary import (
    AccessAction,
    AccessOutcome,
    ChangeReason,
    ClosureKind,
    ConsentParty,
    DecisionKind,
    DigestKind,
    Domain,
    EndReason,
    ErasureOutcome,
    ErasureRefusal,
    HolidayRegion,
    Measure,
    NoActionReason,
    OtherDecision,
    OutboxStatus,
    OverrideReason,
    ReferralStatus,
    ReturnReason,
    Role,
    Setting,
    Source,
    TriageOutcome,
    Urgency,
    View,
)

ROOT = Path(__file__).resolve().parents[2]

# every column that stores a code, and the enums whose codes it holds
CODE_COLUMNS: dict[tuple[str, str], tuple[type[StrEnum], ...]] = {
    ("school", "holiday_region"): (HolidayRegion,),
    ("school_closure", "kind"): (ClosureKind,),
    ("professional", "role"): (Role,),
    ("oja_case", "state"): (CaseState,),
    ("oja_case", "urgency"): (Urgency,),
    ("oja_case", "triage_outcome"): (TriageOutcome,),
    ("oja_case", "no_action_reason"): (NoActionReason,),
    ("oja_case", "end_reason"): (EndReason, NoActionReason),
    ("signal", "source"): (Source,),
    ("signal", "domains"): (Domain,),  # comma-separated
    ("signal", "urgency"): (Urgency,),
    ("goal", "domain"): (Domain,),
    ("goal", "measure"): (Measure,),
    ("intervention", "setting"): (Setting,),
    ("consentrecord", "party"): (ConsentParty,),
    ("review", "pupil_view"): (View,),
    ("review", "parent_view"): (View,),
    ("decision", "kind"): (DecisionKind, OtherDecision),
    ("decision", "reason_code"): (EndReason, ChangeReason, ReturnReason),
    ("decision", "recommended_kind"): (DecisionKind,),
    ("decision", "recommendation_rule"): (RecommendationRule,),
    ("decision", "override_reason"): (OverrideReason,),
    ("referral", "status"): (ReferralStatus,),
    ("auditrecord", "action"): (AuditAction,),
    ("auditrecord", "from_state"): (CaseState,),  # or "-": a record about a pupil without a case
    ("auditrecord", "to_state"): (CaseState,),
    ("notice", "kind"): (NoticeKind,),
    ("outbox", "role"): (Role,),
    ("outbox", "digest"): (DigestKind,),
    ("outbox", "status"): (OutboxStatus,),
    ("erasurerequest", "requested_by"): (ConsentParty,),
    ("erasurerequest", "outcome"): (ErasureOutcome,),
    ("erasurerequest", "refusal_reason"): (ErasureRefusal,),
    ("access_log", "role"): (Role,),
    ("access_log", "action"): (AccessAction,),
    ("access_log", "outcome"): (AccessOutcome,),
    ("closing_answer", "satisfaction"): (Satisfaction,),
    ("closing_answer", "without_help"): (WithoutHelp,),
}
ENUMS = sorted({e for enums in CODE_COLUMNS.values() for e in enums} | {Action}, key=lambda e: e.__name__)
CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def migration_0008():
    path = next((ROOT / "migrations" / "versions").glob("0008_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def codes(enum: type[StrEnum]) -> set[str]:
    return {m.value for m in enum}


@pytest.mark.parametrize("enum", ENUMS, ids=[e.__name__ for e in ENUMS])
def test_every_code_is_lower_case_snake_case(enum):
    assert all(CODE.match(code) for code in codes(enum)), sorted(codes(enum))


@pytest.mark.parametrize(("table", "column"), sorted(CODE_COLUMNS), ids=[".".join(k) for k in sorted(CODE_COLUMNS)])
def test_every_code_fits_its_column(table, column):
    length = SQLModel.metadata.tables[table].c[column].type.length
    longest = max((code for enum in CODE_COLUMNS[(table, column)] for code in codes(enum)), key=len)
    assert len(longest) <= length, f"{table}.{column} holds {length} characters: {longest!r} is longer"


def test_the_table_of_code_columns_names_every_column_that_says_it_holds_a_code():
    """A column whose comment in models/tables*.py names an enum is in CODE_COLUMNS (and so is checked)."""
    source = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "models").glob("tables*.py"))
    named = set(re.findall(r"^    (\w+): str.*# models\.\w+\.\w+", source, flags=re.MULTILINE))
    assert named <= {column for _, column in CODE_COLUMNS}


def test_every_lifecycle_action_is_an_audit_action_with_the_same_name_and_code():
    assert [(a.name, a.value) for a in Action] == [(a.name, a.value) for a in AuditAction][: len(Action)]


def test_no_code_is_one_of_the_former_english_codes():
    """The codes before issue 12 ("One vocabulary"), as migration 0008 translates them, are gone from the enums
    (`triage_oja` was Dutch already)."""
    m = migration_0008()
    for enum, former in (
        (CaseState, m.STATES),
        (AuditAction, m.ACTIONS),
        (ReferralStatus, m.REFERRAL_STATUSES),
        (RecommendationRule, m.RECOMMENDATION_RULES),
        (OutboxStatus, m.OUTBOX_STATUSES),
        (DigestKind, m.DIGESTS),
    ):
        english = set(former) - set(former.values())
        assert not codes(enum) & english, enum.__name__  # later codes (`doelen_beschreven`) may have come since
        assert set(former.values()) <= codes(enum), enum.__name__
        assert not codes(enum) & set(former), enum.__name__


def test_the_notice_kinds_are_dutch():
    """Every kind of migration 0008 in Dutch, and none of the English ones (later kinds, such as the follow-up of
    an accepted referral and the planned end, came since)."""
    former = migration_0008().NOTICE_KINDS
    assert set(former.values()) <= codes(NoticeKind)
    assert not codes(NoticeKind) & (set(former) - set(former.values()))


def test_every_action_a_flow_reports_has_its_event_name_as_before():
    """A use case's outcome names a lifecycle action, or one of four audited actions without a transition (the
    last, issue 25: a word on consent the pupil's age does not ask for); the Prefect event names (automations
    listen for them) stayed as they were."""
    reported = {AuditAction(a) for a in Action}
    reported |= {AuditAction.REGISTER_SIGNAL, AuditAction.RECORD_MEASUREMENT, AuditAction.REFERRAL_ACCEPTED}
    reported |= {AuditAction.CONSENT_NOT_NEEDED}
    assert set(EVENT_NAMES) == reported
    assert set(EVENT_NAMES.values()) == {
        "signalled", "signal-joined", "triaged", "plan-drafted", "consent-recorded", "consented", "activated",
        "reviewed", "measured", "continued", "scaled-up", "scaled-down", "closed", "escalated", "referral-accepted",
        "returned", "reopened", "consent-not-needed", "consent-withdrawn",
    }  # fmt: skip


def test_the_decision_forms_offer_the_decision_kinds_and_not_a_return():
    assert forms.TakeDecision.model_fields["kind"].annotation is DecisionKind
    assert OtherDecision.RETURN.value not in codes(DecisionKind)
    assert not codes(OtherDecision) & codes(DecisionKind)
