"""Helpers for the family's pages (issue 26): a pupil with a case of one's own, the mail caught by the real SMTP
server, the invitation and the login as a browser does them."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import httpx

from models.schooldays import today as amsterdam_today
from notifications.send import AppriseSender
from oja import services as sv
from oja.adapters.db import unit_of_work
from oja.config import get_policy
from tests.dossier.conftest import Dossier, form_csrf
from tests.factories import valid_bsn
from tests.smtp import SMTPServer

PASSWORD = "een lange zin om te onthouden"
LINK = re.compile(r"/gezin/welkom/([A-Za-z0-9_\-]+)")
CODE = re.compile(r"Uw inlogcode is: ([0-9]{6})")
_numbers = itertools.count(1)


def mail_to(server: SMTPServer, monkeypatch) -> None:
    """The family's mails go to the test's SMTP server."""
    from oja.services import family_mail

    url = server.url
    monkeypatch.setattr(family_mail, "sender_factory", lambda: AppriseSender(url))


def pupil_with_case(
    dossier: Dossier, *, age: int, parents: tuple[tuple[str, bool], ...] = (("Ouder Een", True),), given: str = "Kiki"
) -> tuple[str, str, str]:
    """A pupil of school 10HV (PRF-0001's) of `age` with a case; (case ref, pupil ref, family name)."""
    today = amsterdam_today()
    number = next(_numbers)
    family = f"Gezintest{number}"
    born = dt.date(today.year - age, 1, 1)  # `age` today: 1 January has passed
    with unit_of_work(dossier.engine) as session:
        pupil = sv.register_pupil(
            session,
            given_name=given,
            family_name=family,
            birth_date=born,
            bsn=valid_bsn(number, base=712_000_000),
            school_code="10HV",
            municipality_code="GM0164",
            parents=[sv.ParentSpec(name, authority) for name, authority in parents],
            today=today,
        )
        case = sv.register_signal(
            session,
            pupil_ref=pupil,
            school_code="10HV",
            source="school",
            domains=["leren"],
            urgency="normaal",
            actor="PRF-0001",
            received_on=today,
            today=today,
            policy=get_policy(),
        ).case_ref
    return case, pupil, family


def invite(user, case_ref: str, party: str, email: str) -> httpx.Response:
    form = user.get(f"/casus/{case_ref}/uitnodigen")
    assert form.status_code == 200, form.text[-500:]
    return user.post(
        f"/casus/{case_ref}/uitnodigen", data={"partij": party, "e-mailadres": email, "csrf": form_csrf(form.text)}
    )


def last_mail(server: SMTPServer, email: str):
    mails = [m for m in server.messages if email in m.rcpt_tos]
    assert mails, f"no mail to {email}"
    return mails[-1]


def set_password(client: httpx.Client, token: str, password: str = PASSWORD, again: str | None = None):
    form = client.get(f"/gezin/welkom/{token}")
    if form.status_code != 200:
        return form
    data = {"wachtwoord": password, "wachtwoord_herhaald": password if again is None else again}
    return client.post(f"/gezin/welkom/{token}", data=data | {"csrf": form_csrf(form.text)})


def password_step(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/gezin/inloggen")
    assert form.status_code == 200, form.text[-500:]
    data = {"e-mailadres": email, "wachtwoord": password, "csrf": form_csrf(form.text)}
    return client.post("/gezin/inloggen", data=data)


def code_step(client: httpx.Client, code: str) -> httpx.Response:
    form = client.get("/gezin/code")
    assert form.status_code == 200, form.text[-500:]
    return client.post("/gezin/code", data={"code": code, "csrf": form_csrf(form.text)})


def family_login(client: httpx.Client, server: SMTPServer, email: str) -> httpx.Response:
    step = password_step(client, email)
    assert step.status_code == 303 and step.headers["location"] == "/gezin/code", step.text[-500:]
    code = CODE.search(last_mail(server, email).text).group(1)
    return code_step(client, code)


def invited_and_logged_in(dossier: Dossier, server: SMTPServer, case_ref: str, party: str, email: str) -> httpx.Client:
    coordinator = dossier.as_user("PRF-0001")
    assert invite(coordinator, case_ref, party, email).status_code == 303
    token = LINK.search(last_mail(server, email).text).group(1)
    client = dossier.client()
    assert set_password(client, token).status_code == 303
    done = family_login(client, server, email)
    assert done.status_code == 303 and done.headers["location"] == "/gezin/", done.text[-500:]
    return client
