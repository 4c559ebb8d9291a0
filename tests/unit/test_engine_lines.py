"""The run process's routine lines are dropped, the step's own message and any warning or error kept."""

from __future__ import annotations

import logging

from oja.entrypoints.engine import RoutineLines


def _record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("prefect.flow_runs", level, __file__, 1, message, None, None)


def test_routine_lines_are_dropped_and_the_steps_message_kept():
    keep = RoutineLines().filter
    for routine in (
        "Running 1 deployment pull step(s)",
        "Executing deployment step: set_working_directory",
        "Deployment step 'set_working_directory' completed successfully",
        "All deployment steps completed successfully",
        "Beginning flow run 'besluit OJA-2026-000006' for flow 'besluit-nemen'",
        "Finished in state Completed()",
    ):
        assert not keep(_record(routine)), routine
    for kept in (
        "Niet vastgelegd (Besluit nemen):\nReden afwijking: ...",
        "OJA-2026-000006: besluit nemen, nu arrangement loopt. Het resultaat ...",
        "Finished in state Completed('OJA-2026-000006: ...')",
        "Finished in state Failed('casus OJA-2026-000006: ...')",
    ):
        assert keep(_record(kept)), kept
    assert keep(_record("Beginning flow run 'x'", logging.WARNING))  # a warning is never routine
