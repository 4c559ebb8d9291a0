"""Application services: one module per lifecycle phase, mirroring `flows/` module for module.

| phase | module | flows |
|---|---|---|
| reference data | `reference` | (CLI, demo) |
| pupils and their personal details | `pupils` | (CLI) |
| signal, triage, reopening | `intake` | `flows/intake.py` |
| joint plan, consent, start | `planning` | `flows/planning.py` |
| review, measurement, recommendation, decision | `review` | `flows/review.py` |
| referral to specialised care and return | `referral` | `flows/referral.py` |
| retention, erasure requests, subject access | `retention` | `flows/retention.py` |
| reminders and the outbox | `sweep`, `dispatch` | `flows/sweep.py` |
| figures for managers, the evaluation report | `monitoring`, `report` | `flows/monitoring.py` |
| a school's own closing days | `calendar` | (CLI) |

They share `kernel` (loading and checking, transitions, `execute`), `audit` (the one audit writer) and
`reads` (queries: the current plan, a case summary). A use case takes a `Session` and plain values and
returns a `CaseOutcome` (codes only).

This package re-exports the lifecycle's use cases, for callers that use many (the CLI, the demo, tests):
`from oja import services as sv; sv.execute(sv.triage, engine, case_ref=...)`.
"""

from oja.services.consent import record_consent
from oja.services.intake import TRIAGE_ACTIONS, register_signal, reopen, triage
from oja.services.kernel import DEFAULT_POLICY, CaseOutcome, execute
from oja.services.planning import GoalSpec, InterventionSpec, activate, draft_plan
from oja.services.pupils import ParentSpec, register_pupil
from oja.services.reads import case_summary
from oja.services.reference import (
    check_group,
    list_groups,
    upsert_group,
    upsert_municipality,
    upsert_professional,
    upsert_provider,
    upsert_school,
)
from oja.services.referral import refer, respond_to_referral, return_from_specialised
from oja.services.review import (
    DECISION_ACTIONS,
    decide,
    recommendation,
    record_measurement,
    record_review,
)

__all__ = [
    "DECISION_ACTIONS",
    "DEFAULT_POLICY",
    "TRIAGE_ACTIONS",
    "CaseOutcome",
    "GoalSpec",
    "InterventionSpec",
    "ParentSpec",
    "activate",
    "case_summary",
    "check_group",
    "decide",
    "draft_plan",
    "execute",
    "list_groups",
    "recommendation",
    "record_consent",
    "record_measurement",
    "record_review",
    "refer",
    "register_pupil",
    "register_signal",
    "reopen",
    "respond_to_referral",
    "return_from_specialised",
    "triage",
    "upsert_group",
    "upsert_municipality",
    "upsert_professional",
    "upsert_provider",
    "upsert_school",
]
