"""The demo region loaded on any day, a Saturday or a holiday too: its history lies on school days up to that day,
never after it (a signal received, a case opened, a review held, a decision taken tomorrow), and the managers'
figures and the evaluation report come out of it. On a Saturday the demo used to put "today's" steps on Monday:
the daily monitoring then failed on every weekend (a case opened after the day it counted to)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, select

from models.tables import AuditRecord, Case, Review, Signal
from oja.adapters import migrate
from oja.adapters.db import get_engine
from oja.config import Policy
from oja.entrypoints.demo import load_demo
from oja.services import monitoring
from oja.services.report import default_periods, render_report

DAYS = {
    "a Monday": dt.date(2026, 12, 7),
    "a Saturday": dt.date(2026, 12, 5),
    "a Sunday": dt.date(2026, 12, 6),
    "Christmas, in the holiday": dt.date(2026, 12, 25),
}


@pytest.mark.parametrize("day", DAYS.values(), ids=DAYS.keys())
def test_the_demo_loaded_on_any_day_has_nothing_after_it_and_its_figures_come_out(tmp_path, day):
    url = f"sqlite:///{tmp_path / 'oja.db'}"
    migrate.upgrade(url)
    load_demo(get_engine(url), day)
    with Session(get_engine(url)) as s:
        later = {
            "signal received": s.exec(select(Signal.received_on).where(col(Signal.received_on) > day)).all(),
            "case opened": s.exec(select(Case.opened_on).where(col(Case.opened_on) > day)).all(),
            "review held": s.exec(select(Review.held_on).where(col(Review.held_on) > day)).all(),
        }
        assert not any(later.values()), later
        assert s.exec(select(AuditRecord)).first() is not None
        policy = Policy()
        publication = monitoring.manager_tables(s, today=day, policy=policy)
        assert publication.publishable
        before, after = default_periods(day, policy.evaluation_split_date)
        assert "<table" in render_report(s, before, after, rate=policy.hourly_rate_eur, today=day)
    get_engine(url).dispose()
