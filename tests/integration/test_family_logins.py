"""The family's own login as a service (issue 26), on SQLite and PostgreSQL: the invitation and its refusals,
the link once and in time, the mailed code (read from the real SMTP server) once and in time, the lock-out, the
check of `models.family` on every request, and the destruction of a dossier taking the family's logins along."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from models.access import Actor
from models.errors import AccessDenied, InvalidInput, InvalidInputs
from models.tables import Parent, Pupil
from models.tables_family import FamilyInvitation, FamilyLogin, FamilySession
from notifications.send import AppriseSender
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.services import family_logins as fl
from oja.services import family_mail
from oja.services.retention import destroy_dossiers
from tests.factories import valid_bsn

TODAY = dt.date(2026, 12, 3)
NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
COORDINATOR = Actor("PRF-1", "zorgcoordinator", school_code="40AB")
PASSWORD = "een lange zin om te onthouden"


def _case(engine, *, age: int, authority: tuple[bool, ...] = (True,), n: int = 1) -> tuple[str, int]:
    with unit_of_work(engine) as s:
        pupil = sv.register_pupil(
            s,
            given_name="Kiki",
            family_name="Gezin",
            birth_date=dt.date(TODAY.year - age, 1, 1),
            bsn=valid_bsn(n, base=713_000_000),
            school_code="40AB",
            municipality_code="GM0164",
            parents=[sv.ParentSpec(f"Ouder {i}", a) for i, a in enumerate(authority, start=1)],
            today=TODAY,
        )
        case = sv.register_signal(
            s, pupil_ref=pupil, school_code="40AB", source="school", domains=["leren"], urgency="normaal",
            actor="PRF-1", received_on=TODAY, today=TODAY, policy=sv.DEFAULT_POLICY,
        ).case_ref  # fmt: skip
        pupil_id = s.exec(select(Pupil.id).where(Pupil.ref == pupil)).one()
    return case, pupil_id


def _invite(engine, case: str, party: str, email: str, *, now: dt.datetime = NOW) -> fl.Invitation:
    with unit_of_work(engine) as s:
        return fl.invite(s, COORDINATOR, case, party, email, now=now, today=TODAY)


def test_invitation_link_once_and_login_with_the_mailed_code(engine, smtp_server, monkeypatch):
    monkeypatch.setattr(family_mail, "sender_factory", lambda: AppriseSender(smtp_server.url))
    case, pupil_id = _case(engine, age=13)
    invitation = _invite(engine, case, "ouder_1", "Ouder@Voorbeeld.nl")
    with unit_of_work(engine) as s:
        assert s.exec(select(Parent.email).where(Parent.pupil_id == pupil_id)).one() == "ouder@voorbeeld.nl"
        assert invitation.token not in {i.token_hash for i in s.exec(select(FamilyInvitation))}
    with pytest.raises(InvalidInputs) as refused, unit_of_work(engine) as s:
        fl.use_link(s, invitation.token, "kort", "anders", now=NOW)
    assert {e.field for e in refused.value.errors} == {"wachtwoord", "wachtwoord_herhaald"}
    with unit_of_work(engine) as s:
        fl.use_link(s, invitation.token, PASSWORD, PASSWORD, now=NOW)
    with pytest.raises(InvalidInput) as used, unit_of_work(engine) as s:
        fl.use_link(s, invitation.token, PASSWORD, PASSWORD, now=NOW)
    assert used.value.field == "link"

    with unit_of_work(engine) as s:
        step = fl.check_password(s, "ouder@voorbeeld.nl", PASSWORD, now=NOW, client="203.0.113.1")
    assert step is not None
    assert family_mail.send(step.email, family_mail.code_message(step.code, fl.CODE_MINUTES))
    code = re.search(r"Uw inlogcode is: ([0-9]{6})", smtp_server.messages[-1].text).group(1)
    with unit_of_work(engine) as s:
        assert fl.check_code(s, step.pending, "000000" if code != "000000" else "111111", now=NOW, client="x") is None
    with unit_of_work(engine) as s:
        login = fl.check_code(s, step.pending, code, now=NOW + dt.timedelta(minutes=9), client="x")
        assert login is not None and login.party == "ouder_1"
    with unit_of_work(engine) as s:
        assert fl.check_code(s, step.pending, code, now=NOW, client="x") is None  # once


def test_an_expired_link_or_code_is_refused(engine):
    case, _ = _case(engine, age=12)
    invitation = _invite(engine, case, "leerling", "kind@voorbeeld.nl")
    late = NOW + dt.timedelta(days=fl.LINK_DAYS, seconds=1)
    with pytest.raises(InvalidInput) as expired, unit_of_work(engine) as s:
        fl.use_link(s, invitation.token, PASSWORD, PASSWORD, now=late)
    assert expired.value.field == "link"
    with unit_of_work(engine) as s:
        fl.use_link(s, invitation.token, PASSWORD, PASSWORD, now=NOW + dt.timedelta(days=6))
        step = fl.check_password(s, "kind@voorbeeld.nl", PASSWORD, now=NOW, client="x")
    assert step is not None
    with unit_of_work(engine) as s:
        after = NOW + dt.timedelta(minutes=fl.CODE_MINUTES, seconds=1)
        assert fl.check_code(s, step.pending, step.code, now=after, client="x") is None


def test_a_new_invitation_ends_the_earlier_link(engine):
    case, _ = _case(engine, age=10)
    first = _invite(engine, case, "ouder_1", "een@voorbeeld.nl")
    _invite(engine, case, "ouder_1", "een@voorbeeld.nl")
    with pytest.raises(InvalidInput), unit_of_work(engine) as s:
        fl.use_link(s, first.token, PASSWORD, PASSWORD, now=NOW)


def test_refusals_without_authority_under_12_and_out_of_scope(engine):
    case, pupil_id = _case(engine, age=11, authority=(True, False))
    with pytest.raises(fl.FamilyRefused, match="zonder gezag"):
        _invite(engine, case, "ouder_2", "twee@voorbeeld.nl")
    with pytest.raises(fl.FamilyRefused, match="vanaf 12 jaar"):
        _invite(engine, case, "leerling", "kind@voorbeeld.nl")
    with pytest.raises(AccessDenied), unit_of_work(engine) as s:
        outsider = Actor("PRF-2", "jeugdhulpverlener", provider_code="PRV-A")
        fl.invite(s, outsider, case, "ouder_1", "een@voorbeeld.nl", now=NOW, today=TODAY)
    with pytest.raises(InvalidInputs) as both, unit_of_work(engine) as s:
        fl.invite(s, COORDINATOR, case, "oma", "geen adres", now=NOW, today=TODAY)
    assert {e.field for e in both.value.errors} == {"partij", "e-mailadres"}
    with unit_of_work(engine) as s:
        assert s.exec(select(FamilyLogin).where(FamilyLogin.pupil_id == pupil_id)).all() == []
        assert s.exec(select(Parent.email).where(Parent.pupil_id == pupil_id)).all() == [None, None]


def test_five_wrong_passwords_lock_the_address_out_of_the_login(engine):
    case, _ = _case(engine, age=10)
    invitation = _invite(engine, case, "ouder_1", "slot@voorbeeld.nl")
    with unit_of_work(engine) as s:
        fl.use_link(s, invitation.token, PASSWORD, PASSWORD, now=NOW)
    for _ in range(5):
        with unit_of_work(engine) as s:
            assert fl.wait_seconds(s, "198.51.100.7", "slot@voorbeeld.nl", now=NOW) is None
            assert fl.check_password(s, "slot@voorbeeld.nl", "fout fout fout", now=NOW, client="198.51.100.7") is None
    with unit_of_work(engine) as s:
        assert fl.wait_seconds(s, "198.51.100.7", "slot@voorbeeld.nl", now=NOW) == 60
        assert fl.wait_seconds(s, "198.51.100.8", "slot@voorbeeld.nl", now=NOW) is None  # the parent's own address


def test_destroying_the_dossier_removes_the_familys_way_in(engine):
    case, pupil_id = _case(engine, age=14)
    invitation = _invite(engine, case, "leerling", "weg@voorbeeld.nl")
    with unit_of_work(engine) as s:
        login = fl.use_link(s, invitation.token, PASSWORD, PASSWORD, now=NOW)
        assert login.id is not None
        fl.open_session(s, login.id, now=NOW)
    with unit_of_work(engine) as s:
        destroy_dossiers(s, [pupil_id], actor="PRF-1", reason="test", today=TODAY)
    with unit_of_work(engine) as s:
        assert s.exec(select(FamilyLogin)).all() == [] and s.exec(select(FamilySession)).all() == []
        assert s.exec(select(FamilyInvitation)).all() == []
        assert s.get(Pupil, pupil_id).email is None
