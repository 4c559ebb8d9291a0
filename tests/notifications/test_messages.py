"""Rendering digests (Dutch by default, English on request) and sending them to a real SMTP server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.errors import DeliveryFailed
from models.reminders import NoticeKind
from models.vocabulary import DigestKind
from notifications.messages import Digest, DueItem, RenderedMessage
from notifications.render import render
from notifications.send import AppriseSender
from oja.config import Settings, case_runs_url

DAY = dt.date(2026, 11, 23)
ITEMS = [
    DueItem("OJA-2026-000011", "30AA", "Noorderlicht", NoticeKind.REVIEW_REMINDER, dt.date(2027, 1, 11), 5),
    DueItem("OJA-2026-000012", "30AA", "Noorderlicht", NoticeKind.REVIEW_OVERDUE, dt.date(2026, 11, 16), 5),
    DueItem("OJA-2026-000013", "31BB", "De Esch", NoticeKind.TRIAGE_DUE, DAY, 0),
]


def digest(items=ITEMS, language="nl", kind=DigestKind.DAILY) -> Digest:
    return Digest("PRF-1", "Ilse Brinkman", kind, DAY, list(items), language, "https://oja.example/casus/{case_ref}")


def test_a_dutch_message_has_dutch_dates_headings_and_links():
    m = render(digest())
    assert m.subject == "OJA: 3 casussen vragen aandacht (maandag 23 november 2026)"
    for text in (m.text, m.html):
        assert "Evaluaties te laat (escalatie)" in text and "Evaluaties binnenkort" in text and "Triage vandaag" in text
        assert "maandag 11 januari 2027" in text and "over 5 schooldagen" in text and "5 schooldagen te laat" in text
        assert "https://oja.example/casus/OJA-2026-000012" in text
        assert "Noorderlicht (30AA)" in text
    assert m.text.index("te laat (escalatie)") < m.text.index("binnenkort")  # what is late comes first


def test_an_english_message_on_request():
    m = render(digest(language="en"))
    assert m.subject == "OJA: 3 cases need attention (Monday 23 November 2026)"
    assert (
        "Reviews overdue (escalated)" in m.text and "Monday 11 January 2027" in m.text and "in 5 school days" in m.text
    )


def test_the_weekly_digest_has_its_own_subject():
    m = render(
        digest(
            [DueItem("OJA-2026-000011", "30AA", "Noorderlicht", NoticeKind.UPCOMING, dt.date(2026, 11, 26), 3)],
            kind=DigestKind.WEEKLY,
        )
    )
    assert m.subject.startswith("OJA weekoverzicht: 1 casus komende week") and "Komende week" in m.text


@pytest.mark.parametrize(
    ("language", "subject", "heading"),
    [
        ("nl", "OJA: 3 casussen vragen aandacht; weekoverzicht: 1 casus komende week", "Komende week"),
        ("en", "OJA: 3 cases need attention; weekly overview: 1 case next week", "Next week"),
    ],
)
def test_what_needs_attention_and_the_weekly_overview_make_one_message(language, subject, heading):
    week = DueItem("OJA-2026-000014", "30AA", "Noorderlicht", NoticeKind.UPCOMING, dt.date(2026, 11, 26), 3)
    m = render(digest([*ITEMS, week], language=language, kind=DigestKind.COMBINED))
    assert m.subject.startswith(subject)
    for text in (m.text, m.html):
        assert "OJA-2026-000012" in text and "OJA-2026-000014" in text
        assert text.index("OJA-2026-000012") < text.index(heading) < text.index("OJA-2026-000014")


@pytest.mark.parametrize(
    ("environment", "dossier"),
    [
        ({}, "http://127.0.0.1:4201"),
        ({"OJA_DOSSIER_URL": "https://dossier.example.org/"}, "https://dossier.example.org"),
        ({"OJA_DOSSIER_URL": "https://oja.example.org/dossier", "PREFECT_API_URL": "http://10.0.0.5:4200/api"}, "https://oja.example.org/dossier"),
    ],
)  # fmt: skip
def test_the_case_link_opens_the_case_page_in_the_dossier(monkeypatch, environment, dossier):
    for name in ("OJA_CASE_URL", "OJA_DOSSIER_URL", "PREFECT_UI_URL", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    page = f"{dossier}/casus/OJA-2026-000012"
    assert settings.case_url.replace("{case_ref}", "OJA-2026-000012") == page
    m = render(dataclasses.replace(digest(), case_url=settings.case_url))
    assert page in m.text and f'href="{html.escape(page)}"' in m.html


@pytest.mark.parametrize(
    ("environment", "ui"),
    [
        ({}, "http://127.0.0.1:4201/prefect"),  # through the gateway on the front `oja start` serves
        ({"OJA_DOSSIER_URL": "https://oja.example.org/"}, "https://oja.example.org/prefect"),  # behind TLS
        ({"PREFECT_API_URL": "http://127.0.0.1:4321/api"}, "http://127.0.0.1:4201/prefect"),  # never Prefect's port
        ({"PREFECT_UI_URL": "https://ui.example.org/", "PREFECT_API_URL": "http://10.0.0.5:4200/api"}, "https://ui.example.org"),
    ],
)  # fmt: skip
def test_the_case_page_links_to_the_runs_of_the_case_in_the_prefect_ui_through_the_gateway(
    monkeypatch, environment, ui
):
    for name in ("PREFECT_UI_URL", "PREFECT_API_URL", "OJA_DOSSIER_URL"):
        monkeypatch.delenv(name, raising=False)
    assert case_runs_url("OJA-2026-000012", environment) == f"{ui}/runs?flow-run-search=OJA-2026-000012"


def test_an_explicit_case_url_wins(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4321/api")
    monkeypatch.setenv("OJA_CASE_URL", "https://dossier.example.org/casus/{case_ref}")
    assert Settings(_env_file=None).case_url == "https://dossier.example.org/casus/{case_ref}"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_notice_kind_has_a_heading_and_its_wording(language):
    """The labels in templates/<language>/_labels.j2 are keyed by the notice kinds' codes: one of each renders."""
    items = [
        DueItem(f"OJA-2026-{n:06d}", "30AA", "Noorderlicht", kind, DAY, 2, DAY) for n, kind in enumerate(NoticeKind)
    ]
    m = render(digest(items, language=language, kind=DigestKind.COMBINED))
    for n, _kind in enumerate(NoticeKind):
        assert f"OJA-2026-{n:06d}" in m.text and f"OJA-2026-{n:06d}" in m.html


def test_html_is_escaped():
    m = render(digest([DueItem("OJA-2026-000011", "30AA", "<script>x</script>", NoticeKind.REVIEW_DUE, DAY, 0)]))
    assert "<script>" not in m.html and "&lt;script&gt;" in m.html
    assert "<script>x</script>" in m.text  # plain text is not HTML


def test_thirty_items_make_one_message_listing_them_all():
    items = [DueItem(f"OJA-2026-{i:06d}", "30AA", "Noorderlicht", NoticeKind.REVIEW_DUE, DAY, 0) for i in range(30)]
    m = render(digest(items))
    assert all(f"OJA-2026-{i:06d}" in m.text and f"OJA-2026-{i:06d}" in m.html for i in range(30))
    assert "30 casussen" in m.subject


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 999999), st.text(min_size=1, max_size=30)), min_size=1, max_size=5))
def test_a_message_shows_what_it_was_given_and_nothing_else(cases):
    items = [DueItem(f"OJA-2026-{n:06d}", "30AA", name, NoticeKind.REVIEW_DUE, DAY, 0) for n, name in cases]
    m = render(digest(items))
    assert all(f"OJA-2026-{n:06d}" in m.text for n, _ in cases)


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language"):
        render(digest(language="de"))


def test_mail_arrives_with_subject_text_and_html(smtp_server):
    sender = AppriseSender(smtp_server.url)
    message = render(digest())
    sender.send("ilse@school.example", message)
    sender.close()
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["ilse@school.example"] and received.mail_from == "oja@example.org"
    assert received.subject == message.subject
    assert "OJA-2026-000012" in received.text and "OJA-2026-000012" in received.html
    assert "<table" in received.html
    assert received.text.replace("\r\n", "\n").strip() == message.text.strip()  # our text template, as rendered
    assert received.message["Message-ID"].endswith("@example.org>")


def test_fifty_messages_go_out_quickly_over_one_connection(smtp_server):
    sender = AppriseSender(smtp_server.url)
    message = render(digest())
    started = time.perf_counter()
    for i in range(50):
        sender.send(f"r{i}@school.example", message)
    elapsed = time.perf_counter() - started
    sender.close()
    print(f"\n50 messages in {elapsed:.2f} s: {elapsed * 20:.1f} ms a message")
    assert len(smtp_server.messages) == 50
    assert elapsed < 10  # Apprise's default throttle alone would take 4.5 minutes


def test_a_mail_server_that_is_down_raises_and_the_same_message_goes_later(smtp_server):
    sender = AppriseSender(smtp_server.url)
    message = RenderedMessage("Onderwerp", "tekst", "<p>tekst</p>")
    smtp_server.stop()
    with pytest.raises(DeliveryFailed) as raised:
        sender.send("a@school.example", message)
    assert "127.0.0.1" in str(raised.value)
    smtp_server.start()
    sender.send("a@school.example", message)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["a@school.example"]]


def test_a_kept_open_connection_that_the_server_closed_is_replaced(smtp_server):
    sender = AppriseSender(smtp_server.url)
    message = RenderedMessage("Onderwerp", "tekst", "<p>tekst</p>")
    sender.send("a@school.example", message)
    smtp_server.stop()
    smtp_server.start()  # the server restarted: the old connection is dead
    sender.send("b@school.example", message)
    assert [m.rcpt_tos[0] for m in smtp_server.messages] == ["a@school.example", "b@school.example"]


def test_the_password_never_shows_in_an_error():
    sender = AppriseSender("mailto://user:s3cret@127.0.0.1:1?from=oja@example.org")
    with pytest.raises(DeliveryFailed) as raised:
        sender.send("a@school.example", RenderedMessage("s", "t", "<p>t</p>"))
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize("url", ["", "smtp://127.0.0.1", "mailto://", "https://example.org"])
def test_a_malformed_smtp_url_is_refused_naming_the_setting(url):
    with pytest.raises(ValueError, match="smtp_url"):
        AppriseSender(url)


def test_a_malformed_extra_url_is_refused_naming_the_setting(smtp_server):
    with pytest.raises(ValueError, match=r"extra_notify_urls\[teamleider\]"):
        AppriseSender(smtp_server.url, extra_urls={"teamleider": ["nonsense://x"]})
