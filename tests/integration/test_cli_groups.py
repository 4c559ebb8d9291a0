"""`oja group set` and `oja group list`: an operator creates and changes group arrangements; every wrong option is
named at once and nothing is written then. `oja case show` shows the group and why a decision was taken."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from models.tables import GroupArrangement
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from oja.entrypoints import cli_output
from oja.entrypoints.cli import app
from tests.factories import active_case
from tests.integration.test_cli import _counts, home  # noqa: F401 - the fixture
from tests.integration.test_services import TODAY

runner = CliRunner()


@pytest.fixture
def region(home):  # noqa: F811 - the fixture imported above
    assert runner.invoke(app, ["migrate", "upgrade"]).exit_code == 0
    with unit_of_work(get_engine()) as s:
        sv.upsert_municipality(s, code="GM0164", name="Hengelo")
        sv.upsert_school(s, code="40AB", name="De School", holiday_region="noord", municipality_code="GM0164")
        sv.upsert_provider(s, code="PRV-A", name="Aanbieder A")
        sv.upsert_professional(s, code="PRF-1", name="Coördinator", role="zorgcoordinator", school_code="40AB")
        sv.upsert_professional(s, code="PRF-2", name="Hulpverlener", role="jeugdhulpverlener", provider_code="PRV-A")
    return home


@pytest.fixture
def wide():
    before = cli_output.console.width
    cli_output.console.width = 240
    yield
    cli_output.console.width = before


def _group(code: str) -> GroupArrangement | None:
    with Session(get_engine()) as s:
        return s.exec(select(GroupArrangement).where(GroupArrangement.code == code)).first()


def test_an_operator_creates_and_changes_a_group_and_lists_it(region, wide):
    made = runner.invoke(
        app,
        ["group", "set", "grp-vk-1", "--provider", "PRV-A", "--professional", "PRF-2", "--places", "3"]
        + ["--hours", "2.5", "--school", "40AB"],
    )
    assert made.exit_code == 0, made.output
    assert "aangemaakt: GRP-VK-1" in made.output
    changed = runner.invoke(app, ["group", "set", "GRP-VK-1", "--places", "8"])
    assert changed.exit_code == 0, changed.output and "gewijzigd" in changed.output
    group = _group("GRP-VK-1")
    assert (group.provider_code, group.professional_code, group.capacity, group.hours_per_week, group.school_code) == (
        "PRV-A", "PRF-2", 8, 2.5, "40AB",
    )  # fmt: skip
    assert runner.invoke(app, ["group", "set", "GRP-VK-1", "--any-school"]).exit_code == 0
    assert _group("GRP-VK-1").school_code is None
    listed = runner.invoke(app, ["group", "list"])
    assert listed.exit_code == 0 and "GRP-VK-1" in listed.output and "elke" in listed.output


def test_every_wrong_option_is_named_at_once_and_nothing_is_written(region, wide):
    before = _counts()
    missing = runner.invoke(app, ["group", "set", "GRP-NEW", "--provider", "PRV-A"])
    assert missing.exit_code == 2
    for option in ("--professional", "--places", "--hours"):
        assert f"fout in {option}: is verplicht voor een nieuwe groep" in missing.output
    bad = runner.invoke(
        app,
        ["group", "set", "GRP-NEW", "--provider", "PRV-A", "--professional", "PRF-1", "--places", "1"]
        + ["--hours", "0", "--school", "99ZZ"],
    )
    assert bad.exit_code == 2 and "niets vastgelegd: 4 fout(en)" in bad.output
    assert "fout in --places: een groep moet 2 tot en met 30 plaatsen hebben" in bad.output
    assert "fout in --hours" in bad.output and "fout in --school" in bad.output
    assert "fout in --professional" in bad.output  # PRF-1 works at a school, not at a provider
    assert "Traceback" not in bad.output
    unknown = runner.invoke(
        app,
        ["group", "set", "GRP-NEW", "--provider", "PRV-X", "--professional", "PRF-2", "--places", "4", "--hours", "1"],
    )
    assert unknown.exit_code == 2 and "fout in --provider: aanbieder 'PRV-X' is niet bekend" in unknown.output
    assert _counts() == before


def test_case_show_names_the_group_and_why_the_decision_differs_from_the_recommendation(region, wide):
    made = ["group", "set", "GRP-VK-1", "--provider", "PRV-A", "--professional", "PRF-2", "--places", "4"]
    assert runner.invoke(app, [*made, "--hours", "2"]).exit_code == 0
    engine = get_engine()
    ref = active_case(
        engine, school="40AB", coordinator="PRF-1", bsn="100000927", born=dt.date(2009, 1, 1), today=TODAY
    )
    sv.execute(sv.record_review, engine, case_ref=ref, held_on=TODAY, actor="PRF-2", today=TODAY)
    sv.execute(
        sv.decide, engine, case_ref=ref, kind="afschalen", new_level=1, group_code="GRP-VK-1",
        override_reason="wens_leerling_ouders", actor="PRF-1", today=TODAY, policy=sv.DEFAULT_POLICY,
    )  # fmt: skip
    shown = runner.invoke(app, ["case", "show", ref], env={"COLUMNS": None})  # as in a pipe: no row wrapped
    assert shown.exit_code == 0, shown.output
    assert "group" in shown.output and "GRP-VK-1" in shown.output
    assert "wens_leerling_ouders" in shown.output and "groep GRP-VK-1" in shown.output
