"""The pilot evaluation report: known figures per period, small numbers hidden in tables and charts alike."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from typer.testing import CliRunner

from models.errors import DisclosureError
from models.suppression import HIDDEN
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services.report import Period, figures, render_report
from tests.factories import active_case
from tests.integration.test_monitoring import _bsn
from tests.integration.test_services import TODAY

LATER = TODAY + dt.timedelta(weeks=10)
BEFORE = Period(TODAY - dt.timedelta(days=7), TODAY + dt.timedelta(days=7))
AFTER = Period(LATER - dt.timedelta(days=7), LATER + dt.timedelta(days=7))


def _second_school(engine) -> None:
    with unit_of_work(engine) as s:
        sv.upsert_school(s, code="41CD", name="Andere School", holiday_region="noord", municipality_code="GM0164")
        sv.upsert_professional(s, code="PRF-9", name="Coördinator 2", role="zorgcoordinator", school_code="41CD")


def _arrangements(engine, school: str, coordinator: str, n: int, today: dt.date, first: int) -> None:
    for i in range(first, first + n):
        active_case(engine, school=school, coordinator=coordinator, bsn=_bsn(i), born=dt.date(2009, 1, 1), today=today)


def test_the_report_compares_two_periods_with_small_numbers_hidden(engine):
    # before: 2 arrangements at 40AB, 8 at 41CD; after: 7 at 40AB (signals on TODAY and TODAY + 10 weeks)
    _second_school(engine)
    _arrangements(engine, "40AB", "PRF-1", 2, TODAY, 0)
    _arrangements(engine, "41CD", "PRF-9", 8, TODAY, 2)
    _arrangements(engine, "40AB", "PRF-1", 7, LATER, 10)
    with unit_of_work(engine) as s:
        b = figures(s, BEFORE, rate=100.0, today=LATER)
        a = figures(s, AFTER, rate=100.0, today=LATER)
        html = render_report(s, BEFORE, AFTER, rate=100.0, today=LATER)
    assert (b.signals_total, a.signals_total) == (10, 7)  # region-wide: shown
    # 2 is hidden, and so is 8, which the region total 10 would otherwise turn into 10 - 8 = 2
    assert b.signals_per_school == {"40AB": None, "41CD": None}
    assert a.signals_per_school == {"40AB": 7, "41CD": 0}
    assert (b.started, a.started) == (10, 7) and b.median_days_to_help == 0.0 and a.median_days_to_help == 0.0
    # 2 hours a week: the early arrangements ran 1 week inside the first period (TODAY to its end)
    assert b.cost_eur == round(10 * 2 * (8 / 7) * 100, 2)
    assert html.count("<svg") == 3 and "Evaluatie van de OJA-pilot" in html
    assert "Test" not in html and "Leerling" not in html  # no personal data
    table = html[html.index("<h2>Zorgsignalen per school</h2>") : html.index("<svg")]
    assert f"<td>{HIDDEN}</td><td>7</td>" in table and f"<td>{HIDDEN}</td><td>0</td>" in table
    assert "<th>10</th><th>7</th>" in table  # the region total


def test_a_chart_never_draws_a_hidden_figure_at_its_height(engine):
    _second_school(engine)
    _arrangements(engine, "40AB", "PRF-1", 2, TODAY, 0)
    _arrangements(engine, "41CD", "PRF-9", 8, TODAY, 2)
    _arrangements(engine, "40AB", "PRF-1", 7, LATER, 10)
    with unit_of_work(engine) as s:
        html = render_report(s, BEFORE, AFTER, rate=100.0, today=LATER)
    chart = html[html.index("<svg") : html.index("</svg>")]  # care reports per school
    bars = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="([^"]+)"', chart)
    shown = [float(w) for w, fill in bars if not fill.startswith("url(")]
    hidden = [float(w) for w, fill in bars if fill.startswith("url(#hidden")]
    assert len(hidden) == 2 and set(hidden) == {40.0}  # one fixed width, whatever the value
    assert len(shown) == 2 and 0.0 in shown  # after: 7 (the longest bar) and 0
    unit = max(shown) / 7
    assert not any(abs(w - n * unit) < 0.5 for w in hidden for n in (2, 8))  # not 2 or 8 pupils long
    assert chart.count(f"{HIDDEN} afgeschermd") == 2 and ">2<" not in chart and ">8<" not in chart


def test_a_region_total_that_is_one_schools_small_count_is_hidden_with_it(engine):
    # one school with 2 care reports: the region total (2) is that school's count, and a count of 1 to 5 itself
    _arrangements(engine, "40AB", "PRF-1", 2, TODAY, 0)
    with unit_of_work(engine) as s:
        b = figures(s, BEFORE, rate=100.0, today=LATER)
        html = render_report(s, BEFORE, AFTER, rate=100.0, today=LATER)
    assert b.signals_per_school == {"40AB": None} and b.signals_total is None
    assert (b.started, b.referrals, b.cost_shown) == (None, 0, None)  # the cost of two pupils' hours too
    table = html[html.index("<h2>Zorgsignalen per school</h2>") : html.index("<svg")]
    assert f"<th>{HIDDEN}</th><th>0</th>" in table


def test_a_report_the_audit_refuses_is_not_written(engine, monkeypatch):
    # nothing in the report is fixed any more, so hiding always passes; a figure that must be shown and gives a
    # school away (as a region-wide figure once was) still refuses the whole period
    from models import suppression_release

    _arrangements(engine, "40AB", "PRF-1", 2, TODAY, 0)
    real = suppression_release.Release.add_figure
    monkeypatch.setattr(
        suppression_release.Release, "add_figure", lambda self, *a, **k: real(self, *a, **k | {"fixed": True})
    )
    with unit_of_work(engine) as s, pytest.raises(DisclosureError, match="oja-evaluatierapport") as refused:
        render_report(s, BEFORE, AFTER, rate=100.0, today=LATER)
    assert "40AB" not in str(refused.value) and "2" not in str(refused.value).replace("oja-", "")


def test_the_cli_writes_the_report_to_a_file(engine, tmp_path, monkeypatch):
    from oja.config import get_settings
    from oja.entrypoints.cli import app

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
