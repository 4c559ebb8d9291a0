"""The pilot evaluation report: known figures per period, small numbers hidden, charts inline."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from oja.db import unit_of_work
from oja.report import Period, figures, render_report
from tests.factories import active_case
from tests.integration.test_monitoring import _bsn
from tests.integration.test_services import TODAY


def test_the_report_compares_two_periods_with_small_numbers_hidden(engine):
    # before: 2 arrangements at 40AB; after: 7 at 40AB (signals on TODAY + 10 weeks)
    for i in range(2):
        active_case(engine, school="40AB", coordinator="PRF-1", bsn=_bsn(i), born=dt.date(2009, 1, 1), today=TODAY)
    later = TODAY + dt.timedelta(weeks=10)
    for i in range(2, 9):
        active_case(engine, school="40AB", coordinator="PRF-1", bsn=_bsn(i), born=dt.date(2009, 1, 1), today=later)
    before = Period(TODAY - dt.timedelta(days=7), TODAY + dt.timedelta(days=7))
    after = Period(later - dt.timedelta(days=7), later + dt.timedelta(days=7))
    with unit_of_work(engine) as s:
        b = figures(s, before, rate=100.0, today=later)
        a = figures(s, after, rate=100.0, today=later)
        html = render_report(s, before, after, rate=100.0, today=later)
    assert (b.signals_total, a.signals_total) == (2, 7)
    assert b.signals_per_school["40AB"] is None and a.signals_per_school["40AB"] == 7  # 2 is hidden
    assert (b.started, a.started) == (2, 7) and b.median_days_to_help is None and a.median_days_to_help == 0.0
    # 2 hours a week: the two early arrangements ran 1 week inside the first period (TODAY to its end)
    assert b.cost_eur == round(2 * 2 * (8 / 7) * 100, 2)
    assert html.count("<svg") == 3 and "≤5" in html and "Evaluatie van de OJA-pilot" in html
    assert "Test" not in html and "Leerling" not in html  # no personal data


def test_the_cli_writes_the_report_to_a_file(engine, tmp_path, monkeypatch):
    from oja.cli import app
    from oja.config import get_settings

    url = str(engine.url)
    monkeypatch.setenv("OJA_DATABASE_URL", url)
    get_settings.cache_clear()
    out = tmp_path / "rapport.html"
    result = CliRunner().invoke(
        app, ["report", "--out", str(out), "--before", "2026-01-01:2026-06-30", "--after", "2026-07-01:2026-12-31"]
    )
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = CliRunner().invoke(app, ["report", "--out", str(out), "--before", "2026-06-30:2026-01-01"])
    assert bad.exit_code == 2 and "before" in bad.output
