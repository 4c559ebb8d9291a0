"""A school's own closing days: entered and imported with every bad line named, used by every count."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from models.lifecycle import AuditAction, CaseState
from models.reminders import NoticeKind
from models.schooldays import SchoolCalendar, add_school_days, add_school_weeks, is_school_day
from models.tables import AuditRecord, Case, SchoolClosure
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services import calendar
from tests.factories import active_case

MONDAY = dt.date(2026, 11, 23)


def _active(engine) -> str:
    return active_case(
        engine, school="40AB", coordinator="PRF-1", bsn="111222333", born=dt.date(2010, 1, 5), today=MONDAY
    )


def _closures(engine) -> list[tuple[str, dt.date, str]]:
    with Session(engine) as s:
        return [(c.school_code, c.day, c.kind) for c in s.exec(select(SchoolClosure)).all()]


def test_a_review_that_would_fall_on_a_study_day_moves_to_the_schools_next_school_day(engine):
    review_day = add_school_weeks(MONDAY, 6, "noord")  # where the first review lands without study days
    assert review_day == dt.date(2027, 1, 18)
    with unit_of_work(engine) as s:
        calendar.add_closures(s, calendar.validate_closures(s, [("", "40AB", review_day, "studiedag")]))
    ref = active_case(
        engine, school="40AB", coordinator="PRF-1", bsn="111222333", born=dt.date(2010, 1, 5), today=MONDAY
    )
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        # the study day does not count: the review is on the school's next school day, never on the study day
        assert case.next_review_on == dt.date(2027, 1, 19)
        assert is_school_day(case.next_review_on, calendar.school_calendar(s, "40AB"))


def test_a_study_day_entered_later_moves_the_planned_review_with_an_audit_record(engine):
    ref = active_case(
        engine, school="40AB", coordinator="PRF-1", bsn="111222333", born=dt.date(2010, 1, 5), today=MONDAY
    )
    with Session(engine) as s:
        planned = s.exec(select(Case.next_review_on).where(Case.ref == ref)).one()
    with unit_of_work(engine) as s:
        result = calendar.add_closures(s, calendar.validate_closures(s, [("", "40AB", planned, "studiedag")]))
    assert result.added == 1 and [(m.case_ref, m.deadline, m.old) for m in result.moved] == [
        (ref, "evaluatie", planned)
    ]
    with Session(engine) as s:
        assert s.exec(select(Case.next_review_on).where(Case.ref == ref)).one() == result.moved[0].new
        audit = s.exec(
            select(AuditRecord).where(AuditRecord.case_ref == ref, AuditRecord.action == AuditAction.RESCHEDULED.value)
        ).one()
        assert planned.isoformat() in audit.reason and audit.from_state == audit.to_state == CaseState.ACTIVE
    with unit_of_work(engine) as s:  # entering the same day again changes nothing
        again = calendar.add_closures(s, calendar.validate_closures(s, [("", "40AB", planned, "studiedag")]))
    assert (again.added, again.known, again.moved) == (0, 1, [])


def test_the_triage_norm_counts_the_schools_own_days(engine):
    with unit_of_work(engine) as s:
        days = [("", "40AB", MONDAY + dt.timedelta(days=d), "studiedag") for d in (1, 2)]
        calendar.add_closures(s, calendar.validate_closures(s, days))
        pupil = sv.register_pupil(
            s,
            given_name="A",
            family_name="B",
            birth_date=dt.date(2012, 5, 1),
            bsn="123456782",
            school_code="40AB",
            municipality_code="GM0164",
            parents=[sv.ParentSpec("Ouder B")],
            today=MONDAY,
        )
        ref = sv.register_signal(
            s,
            pupil_ref=pupil,
            school_code="40AB",
            source="school",
            domains=["leren"],
            urgency="normaal",
            actor="PRF-1",
            received_on=MONDAY,
            today=MONDAY,
            policy=sv.DEFAULT_POLICY,
        ).case_ref
    with Session(engine) as s:
        due = s.exec(select(Case.triage_due_on).where(Case.ref == ref)).one()
    # 10 school days from Monday 23 November: Monday 7 December; without Tuesday 24 and Wednesday 25: 9 December
    assert add_school_days(MONDAY, 10, "noord") == dt.date(2026, 12, 7)
    assert due == dt.date(2026, 12, 9)


def test_every_bad_line_of_a_file_is_named_and_nothing_is_written(engine, tmp_path):
    csv_file = tmp_path / "sluitingsdagen.csv"
    csv_file.write_text(
        "school;datum;soort\n"
        "40AB;2027-02-08;studiedag\n"  # fine
        "99ZZ;2027-02-09;studiedag\n"  # unknown school
        "40AB;2027-02-31;studiedag\n"  # no such date
        "40AB;2027-02-13;studiedag\n"  # a Saturday
        "40AB;2027-04-27;studiedag\n"  # King's Day
        "40AB;2027-02-10;vrij\n"  # unknown kind
        "40AB;2027-02-08;studiedag\n",  # twice
        encoding="utf-8",
    )
    with unit_of_work(engine) as s, pytest.raises(calendar.ClosuresInvalid) as raised:
        calendar.validate_closures(s, calendar.read_closures_file(csv_file))
    assert [(where, field) for where, field, _ in raised.value.problems] == [
        ("regel 3", "school"),
        ("regel 4", "datum"),
        ("regel 5", "datum"),
        ("regel 6", "datum"),
        ("regel 7", "soort"),
        ("regel 8", "datum"),
    ]
    rules = [rule for _, _, rule in raised.value.problems]
    assert "weekend" in rules[2] and "feestdag" in rules[3] and "regel 2" in rules[5]
    assert _closures(engine) == []


def test_a_toml_file_lists_each_schools_days_by_kind(engine, tmp_path):
    toml_file = tmp_path / "sluitingsdagen.toml"
    toml_file.write_text(
        '[40AB]\nstudiedag = [2027-02-08, "2027-06-14"]\ngoede_vrijdag = 2027-03-26\n', encoding="utf-8"
    )
    with unit_of_work(engine) as s:
        result = calendar.add_closures(s, calendar.validate_closures(s, calendar.read_closures_file(toml_file)))
    assert result.added == 3
    with Session(engine) as s:
        own = calendar.school_calendar(s, "40AB")
        assert own == SchoolCalendar(
            "noord", frozenset({dt.date(2027, 2, 8), dt.date(2027, 6, 14), dt.date(2027, 3, 26)})
        )
        assert calendar.school_calendars(s)["40AB"] == own
    assert not is_school_day(dt.date(2027, 3, 26), own) and is_school_day(dt.date(2027, 3, 26), "noord")

    toml_file.write_text("[40AB]\nstudiedag = [2027-13-01]\n", encoding="utf-8")
    with pytest.raises(calendar.ClosuresInvalid):  # not even TOML: the file's own error is named
        calendar.read_closures_file(toml_file)


def test_the_cli_adds_imports_lists_and_removes_closing_days(engine, tmp_path, monkeypatch):
    from oja.entrypoints.cli import app

    monkeypatch.setenv("OJA_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    from oja.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    try:
        added = runner.invoke(app, ["school", "closure", "add", "--school", "40ab", "--date", "2027-02-08"])
        assert added.exit_code == 0, added.output
        assert "1 closing day(s) added" in added.output
        refused = runner.invoke(app, ["school", "closure", "add", "--school", "40AB", "--date", "2027-02-13"])
        assert refused.exit_code == 2 and "weekend" in refused.output and "niets vastgelegd" in refused.output
        listed = runner.invoke(app, ["school", "closure", "list"])
        assert "2027-02-08" in listed.output and "studiedag" in listed.output
        removed = runner.invoke(app, ["school", "closure", "remove", "--school", "40AB", "--date", "2027-02-08"])
        assert removed.exit_code == 0, removed.output
        assert _closures(engine) == []
    finally:
        get_settings.cache_clear()


def test_reminders_count_the_schools_own_days_and_a_closed_school_gets_none(engine):
    """The review is due Thursday 28 January 2027; the school closes on Wednesday 27 (a study day)."""
    from models.tables_outbox import Notice
    from notifications.render import render
    from oja.services import sweep

    ref = active_case(
        engine, school="40AB", coordinator="PRF-1", bsn="111222333", born=dt.date(2010, 1, 5), today=MONDAY
    )
    due, study_day = dt.date(2027, 1, 28), dt.date(2027, 1, 27)
    with unit_of_work(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        case.next_review_on = due
        s.add(case)
    with unit_of_work(engine) as s:
        calendar.add_closures(s, calendar.validate_closures(s, [("", "40AB", study_day, "studiedag")]))
    for day in (dt.date(2027, 1, 26), study_day):
        sweep.plan_notices(engine, day=day, policy=sv.DEFAULT_POLICY, render=render)
    with Session(engine) as s:
        notices = {(n.sweep_date, n.kind, n.school_days) for n in s.exec(select(Notice))}
    # Tuesday 26 is 1 school day before the review (the study day does not count); on the study day itself
    # the school is closed and nobody is reminded of it
    assert notices == {(dt.date(2027, 1, 26), NoticeKind.REVIEW_REMINDER, 1)}
