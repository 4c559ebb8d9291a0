"""The family's view at every review (issue 26, hoorrecht), as services on SQLite and PostgreSQL: the window by school
days (holidays and a school's own closing days), the view given, changed and closed once the review is recorded, the
recommendation's reason for a difference of 2 or more, T per informant, and the sweep's mails (once each, only to
who may see the case and has a login) through the real SMTP sink, with nothing about the child."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from models.errors import InvalidInput
from models.tables import Case, Parent, Pupil
from models.tables_family import FamilyLogin
from models.tables_family_opinion import FamilyNotice, FamilyOpinion
from models.tables_outbox import Outbox
from notifications.render import render
from notifications.send import AppriseSender
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import Policy
from oja.services import family_logins
from oja.services.calendar import Closure, add_closures
from oja.services.dossier import actor_of, describe_goals
from oja.services.family_notices import plan_family_notices
from oja.services.family_opinion import family_words, give_opinion, open_review, opinion_page
from oja.services.gas import review_t_scores
from oja.services.review import recommendation
from oja.services.sweep import sweep_day
from tests.factories import active_case, valid_bsn

TODAY = dt.date(2026, 11, 24)
DUE = dt.date(2027, 1, 8)  # a Friday after the Christmas holiday (noord: 19 December to 3 January)
OPENS = dt.date(2026, 12, 11)  # 10 school days before: 11, 14-18 December and 4-7 January
REMIND = dt.date(2027, 1, 5)  # 3 school days before: 5, 6 and 7 January
POLICY = Policy()
PASSWORD = "een lange zin om te onthouden"


def _case(engine, i: int, *, age: int = 13, goals: int = 2) -> str:
    ref = active_case(
        engine,
        school="40AB",
        coordinator="PRF-1",
        worker="PRF-2",
        bsn=valid_bsn(i, base=222_000_000),
        born=TODAY.replace(year=TODAY.year - age) - dt.timedelta(days=30),
        today=TODAY,
        parents=("Anna Jansen", "Bram Jansen"),
        names=("Noor", "Jansen"),
    )
    with unit_of_work(engine) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).one()
        case.next_review_on = DUE
        s.add(case)
        describe_goals(s, actor_of(s, "PRF-1"), ref, {1: "Noor maakt elke dag haar huiswerk."}, today=TODAY)
    return ref


def _load(s, ref: str) -> Case:
    return s.exec(select(Case).where(Case.ref == ref)).one()


def test_the_window_opens_ten_school_days_before_counting_holidays_and_closing_days(engine):
    ref = _case(engine, 1)
    with unit_of_work(engine) as s:
        case = _load(s, ref)
        assert open_review(s, case, OPENS - dt.timedelta(days=1), POLICY) is None
        assert open_review(s, case, OPENS, POLICY)[1] == DUE
        assert open_review(s, case, dt.date(2026, 12, 23), POLICY)[1] == DUE  # in the holiday: still open
        assert (
            open_review(s, case, OPENS, Policy(family_view_school_days=5, family_view_reminder_school_days=1)) is None
        )
    with unit_of_work(engine) as s:  # the school closes on 16 December: the window opens a school day earlier
        add_closures(s, [Closure("40AB", dt.date(2026, 12, 16), "studiedag")])
    with unit_of_work(engine) as s:
        assert open_review(s, _load(s, ref), dt.date(2026, 12, 10), POLICY)[1] == DUE


def test_a_view_is_given_changed_until_the_review_is_recorded_and_refused_after(engine):
    ref = _case(engine, 2)
    now = dt.datetime(2026, 12, 14, 9, tzinfo=dt.UTC)
    with unit_of_work(engine) as s:
        with pytest.raises(InvalidInput) as closed:  # not open yet
            give_opinion(s, _load(s, ref), "leerling", {"doel_1": "1"}, today=TODAY, now=now, policy=POLICY)
        assert closed.value.field == "mening"
    with unit_of_work(engine) as s:
        page = opinion_page(s, _load(s, ref), "leerling", OPENS, POLICY)
        assert page is not None and page.due_on == DUE and page.given_at is None
        assert [(g.number, g.description) for g in page.goals] == [(1, "Noor maakt elke dag haar huiswerk.")]
        give_opinion(
            s, _load(s, ref), "leerling", {"doel_1": "-1", "gaat_goed": "Rekenen"}, today=OPENS, now=now, policy=POLICY
        )
    with unit_of_work(engine) as s:  # changed: still one view
        give_opinion(
            s,
            _load(s, ref),
            "leerling",
            {"doel_1": "weet_ik_niet", "moet_anders": "Minder huiswerk"},
            today=REMIND,
            now=now,
            policy=POLICY,
        )
        give_opinion(s, _load(s, ref), "ouder_1", {"doel_1": "2"}, today=REMIND, now=now, policy=POLICY)
    with unit_of_work(engine) as s:
        page = opinion_page(s, _load(s, ref), "leerling", REMIND, POLICY)
        assert page is not None and page.goals[0].unknown and page.goals[0].score is None
        assert (page.going_well, page.to_change) == (None, "Minder huiswerk")
        assert len(s.exec(select(FamilyOpinion)).all()) == 2
    with unit_of_work(engine) as s:
        sv.record_review(s, case_ref=ref, held_on=DUE, actor="PRF-2", today=DUE, gas_scores={1: 0})
    with unit_of_work(engine) as s:
        assert opinion_page(s, _load(s, ref), "leerling", DUE, POLICY) is None
        with pytest.raises(InvalidInput):
            give_opinion(s, _load(s, ref), "leerling", {"doel_1": "1"}, today=DUE, now=now, policy=POLICY)
        words = family_words(s, _load(s, ref))
        assert [(w.party, w.to_change, w.review_id is not None) for w in words] == [
            ("leerling", "Minder huiswerk", True),
            ("ouder_1", None, True),
        ]
        advice = recommendation(s, case_ref=ref, policy=POLICY)
    assert "Doel 1: ouder 1 scoort +2, de professional +0: verschil van 2 of meer; bespreek dit." in advice.reasons
    assert not any("huiswerk" in r.lower() for r in advice.reasons)  # codes and numbers only


def test_t_per_informant_apart_from_the_professional(engine):
    ref = _case(engine, 3)
    now = dt.datetime(2026, 12, 14, 9, tzinfo=dt.UTC)
    with unit_of_work(engine) as s:
        give_opinion(s, _load(s, ref), "leerling", {"doel_1": "-1"}, today=OPENS, now=now, policy=POLICY)
        give_opinion(s, _load(s, ref), "ouder_1", {"doel_1": "2"}, today=OPENS, now=now, policy=POLICY)
        give_opinion(s, _load(s, ref), "ouder_2", {"doel_1": "weet_ik_niet"}, today=OPENS, now=now, policy=POLICY)
    with unit_of_work(engine) as s:
        sv.record_review(s, case_ref=ref, held_on=DUE, actor="PRF-2", today=DUE, gas_scores={1: 1})
    with unit_of_work(engine) as s:
        found = {t.informant: round(t.t, 1) for t in review_t_scores(s, start=DUE)}
    # one goal: T = 50 + 10x / sqrt(0.7 + 0.3) = 50 + 10x; ouder_2 did not know: the parents' T is ouder_1's
    assert found == {"professional": 60.0, "pupil": 40.0, "parents": 70.0}


def _logins(engine, ref: str) -> None:
    """ouder_1, ouder_2 and the pupil with a login; then ouder_2's authority removed."""
    with unit_of_work(engine) as s:
        pupil = s.get(Pupil, _load(s, ref).pupil_id)
        for party in ("ouder_1", "ouder_2", "leerling"):
            family_logins.set_login(
                s,
                pupil,
                party,
                f"{party}.{ref}@example.org".lower(),
                PASSWORD,
                now=dt.datetime.now(dt.UTC),
                today=TODAY,
            )
        bram = s.exec(select(Parent).where(Parent.pupil_id == pupil.id, Parent.position == 2)).one()
        bram.has_authority = False
        s.add(bram)


def _sent(engine, day: dt.date) -> list[tuple[str, str]]:
    """The mails the sweep of `day` decides (party, kind): only the new ones."""
    with unit_of_work(engine) as s:
        before = {n.id for n in s.exec(select(FamilyNotice)).all()}
    with unit_of_work(engine) as s:
        queued = plan_family_notices(s, day=day, policy=POLICY, link="https://oja.example/gezin/mijn-mening")
    with unit_of_work(engine) as s:
        rows = s.exec(select(FamilyNotice, FamilyLogin).join(FamilyLogin)).all()
        new = sorted((login.party, n.kind) for n, login in rows if n.id not in before)
    assert queued == len(new)
    return new


def test_the_sweep_asks_once_reminds_only_who_has_not_given_a_view_and_skips_who_may_not_see(engine):
    ref = _case(engine, 4)
    _logins(engine, ref)
    assert _sent(engine, OPENS - dt.timedelta(days=1)) == []
    assert _sent(engine, OPENS) == [("leerling", "mening_gevraagd"), ("ouder_1", "mening_gevraagd")]
    assert _sent(engine, OPENS) == []  # never twice
    assert _sent(engine, dt.date(2026, 12, 14)) == []
    with unit_of_work(engine) as s:
        give_opinion(
            s, _load(s, ref), "leerling", {"doel_1": "1"}, today=REMIND, now=dt.datetime.now(dt.UTC), policy=POLICY
        )
    assert _sent(engine, REMIND) == [("ouder_1", "mening_herinnering")]
    assert _sent(engine, dt.date(2027, 1, 6)) == []
    with unit_of_work(engine) as s:
        messages = s.exec(select(Outbox).where(Outbox.role == "gezin")).all()
        assert len(messages) == 3 and all(m.recipient_code is None for m in messages)


def test_no_mail_to_the_parents_when_the_pupil_of_16_closed_the_case_nor_to_a_login_not_set_up(engine):
    ref = _case(engine, 5, age=17)
    with unit_of_work(engine) as s:
        pupil = s.get(Pupil, _load(s, ref).pupil_id)
        family_logins.set_login(
            s, pupil, "ouder_1", f"o1.{ref}@example.org".lower(), PASSWORD, now=dt.datetime.now(dt.UTC), today=TODAY
        )
        s.add(FamilyLogin(pupil_id=pupil.id, party="leerling", email=f"ll.{ref}@example.org".lower()))  # no password
        pupil.parents_may_see = False
        s.add(pupil)
    assert _sent(engine, OPENS) == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_mail_goes_through_the_outbox_to_the_smtp_server_with_nothing_about_the_child(engine, smtp_server):
    ref = _case(engine, 6)
    _logins(engine, ref)
    sweep_day(engine, AppriseSender(smtp_server.url), day=OPENS, policy=POLICY, render=render)
    mails = sorted(smtp_server.messages, key=lambda m: m.rcpt_tos[0])
    assert [m.rcpt_tos for m in mails] == [
        [f"leerling.{ref}@example.org".lower()],
        [f"ouder_1.{ref}@example.org".lower()],
    ]
    for mail in mails:
        body = mail.text + mail.html + mail.subject
        assert "/gezin/mijn-mening" in body and "Hallo" in body
        for secret in ("Noor", "Jansen", ref, "huiswerk", "40AB", "De School", "leren"):
            assert secret not in body
    with unit_of_work(engine) as s:
        assert {m.status for m in s.exec(select(Outbox).where(Outbox.role == "gezin")).all()} == {"verzonden"}


def test_destroying_the_dossier_removes_the_views_their_words_and_the_mails_to_the_family(engine):
    from oja.services.retention import destroy_dossiers

    ref = _case(engine, 7)
    _logins(engine, ref)
    _sent(engine, OPENS)
    with unit_of_work(engine) as s:
        give_opinion(
            s,
            _load(s, ref),
            "leerling",
            {"doel_1": "1", "gaat_goed": "Lezen"},
            today=OPENS,
            now=dt.datetime.now(dt.UTC),
            policy=POLICY,
        )
    with unit_of_work(engine) as s:
        destroy_dossiers(s, [_load(s, ref).pupil_id], actor="PRF-1", reason="test", today=DUE)
    with unit_of_work(engine) as s:
        assert s.exec(select(FamilyOpinion)).all() == []
        assert s.exec(select(FamilyNotice)).all() == []
        assert s.exec(select(Outbox).where(Outbox.role == "gezin")).all() == []


def test_the_case_page_shows_the_familys_scores_and_t_beside_the_professionals(engine):
    from oja.services.dossier_case import case_view

    ref = _case(engine, 8)
    now = dt.datetime(2026, 12, 14, 9, tzinfo=dt.UTC)
    with unit_of_work(engine) as s:
        give_opinion(
            s, _load(s, ref), "leerling", {"doel_1": "-1", "gaat_goed": "Pauze"}, today=OPENS, now=now, policy=POLICY
        )
        give_opinion(s, _load(s, ref), "ouder_1", {"doel_1": "0"}, today=OPENS, now=now, policy=POLICY)
    with unit_of_work(engine) as s:
        sv.record_review(s, case_ref=ref, held_on=DUE, actor="PRF-2", today=DUE, gas_scores={1: 1})
    with unit_of_work(engine) as s:
        page = case_view(s, actor_of(s, "PRF-1"), ref, today=DUE, policy=POLICY)
    (review,) = page.reviews
    assert review.family == {"leerling": {1: -1}, "ouder_1": {1: 0}}
    assert review.t_scores == {"professional": 60.0, "pupil": 40.0, "parents": 50.0}
    assert review.apart == {("leerling", 1)}  # -1 against +1; the parent's 0 is 1 away
    assert [(v.party, v.going_well, v.recorded) for v in page.family_views] == [
        ("leerling", "Pauze", True),
        ("ouder_1", None, True),
    ]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_queued_mail_lapses_unsent_when_the_review_is_recorded_before_it_goes(engine, smtp_server):
    from oja.services.dispatch import dispatch

    ref = _case(engine, 9)
    _logins(engine, ref)
    assert _sent(engine, OPENS) == [("leerling", "mening_gevraagd"), ("ouder_1", "mening_gevraagd")]
    with unit_of_work(engine) as s:
        sv.record_review(s, case_ref=ref, held_on=DUE, actor="PRF-2", today=DUE, gas_scores={1: 0})
    report = dispatch(engine, AppriseSender(smtp_server.url))
    assert (report.sent, report.lapsed) == (0, 2) and smtp_server.messages == []
    with unit_of_work(engine) as s:
        reasons = [m.last_error for m in s.exec(select(Outbox).where(Outbox.role == "gezin")).all()]
    assert all("geldt niet meer" in r and "Noor" not in r for r in reasons)


def test_the_schools_export_holds_every_view_and_a_family_members_own_export_only_their_own(engine):
    from oja.services.family_view import family_export
    from oja.services.retention import export_pupil

    ref = _case(engine, 10)
    now = dt.datetime(2026, 12, 14, 9, tzinfo=dt.UTC)
    with unit_of_work(engine) as s:
        give_opinion(
            s, _load(s, ref), "leerling", {"doel_1": "-1", "moet_anders": "Rust"}, today=OPENS, now=now, policy=POLICY
        )
        give_opinion(
            s, _load(s, ref), "ouder_1", {"doel_1": "1", "gaat_goed": "Fijn"}, today=OPENS, now=now, policy=POLICY
        )
    with unit_of_work(engine) as s:
        pupil = s.get(Pupil, _load(s, ref).pupil_id)
        school = export_pupil(s, pupil.ref)["cases"][0]
        own = family_export(s, pupil.id, "ouder_1")["cases"][0]
    assert sorted(v["party"] for v in school["family_views"]) == ["leerling", "ouder_1"]
    assert len(school["family_view_scores"]) == 2
    assert [(v["party"], v["going_well"]) for v in own["family_views"]] == [("ouder_1", "Fijn")]
    assert [x["gas"] for x in own["family_view_scores"]] == [1]


def test_no_mail_on_a_holiday_the_first_school_day_after_it_asks(engine):
    ref = _case(engine, 11)
    _logins(engine, ref)
    assert _sent(engine, dt.date(2026, 12, 23)) == []  # the Christmas holiday: the window is open, no sweep mails
    assert _sent(engine, dt.date(2027, 1, 4)) == [("leerling", "mening_gevraagd"), ("ouder_1", "mening_gevraagd")]
    assert _sent(engine, REMIND) == [("leerling", "mening_herinnering"), ("ouder_1", "mening_herinnering")]
