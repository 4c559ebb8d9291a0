"""The two e-mails of the family's login (issue 26): the invitation and the one-time code. Neither carries
anything about the child: a greeting, what the page is for, the link or the code. Sent straight through the
configured SMTP (OJA_SMTP_URL, `oja.adapters.notify`), after the transaction that made the link or the code has
committed. Not through the outbox: its row keeps the rendered message until a Prefect flow dispatches it, so the
link's secret and the code would be stored in the clear (only their hashes are), and they would wait for the next
dispatch run; and an e-mail address is kept away from anything Prefect runs."""

from __future__ import annotations

import html
from collections.abc import Callable

from models.errors import DeliveryFailed, InvalidInput
from notifications.messages import RenderedMessage
from notifications.send import Sender

SenderFactory = Callable[[], Sender]


def _default_sender() -> Sender:
    from oja.adapters.notify import build_sender
    from oja.config import get_settings

    return build_sender(get_settings())


sender_factory: SenderFactory = _default_sender  # tests may point this at their own SMTP server


def _message(subject: str, lines: list[str]) -> RenderedMessage:
    text = "\n\n".join(lines) + "\n"
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return RenderedMessage(subject=subject, text=text, html=f"<html><body>{body}</body></html>")


def invitation_message(link: str, days: int) -> RenderedMessage:
    return _message(
        "Uitnodiging: uw eigen pagina bij de ondersteuning op school",
        [
            "Hallo,",
            "De school werkt samen met u aan de ondersteuning op school. Op een eigen pagina kunt u zien wat er "
            "is afgesproken en wanneer het volgende gesprek is. U kunt daar ook uw mening geven.",
            f"Maak hier uw wachtwoord aan (deze link werkt één keer, en {days} dagen lang):",
            link,
            "Heeft u deze mail niet verwacht? Dan kunt u hem negeren.",
        ],
    )


def code_message(code: str, minutes: int) -> RenderedMessage:
    return _message(
        "Uw inlogcode voor de pagina over de ondersteuning op school",  # the code itself only in the body
        [
            "Hallo,",
            f"Uw inlogcode is: {code}",
            f"De code werkt één keer en {minutes} minuten lang.",
            "Heeft u niet geprobeerd in te loggen? Dan kunt u deze mail negeren.",
        ],
    )


def send(email: str, message: RenderedMessage) -> bool:
    """Send one message; False when it could not go (no SMTP set up, the server down): the caller says so."""
    try:
        sender = sender_factory()
    except InvalidInput:
        return False
    try:
        sender.send(email, message)
        return True
    except DeliveryFailed:
        return False
    finally:
        sender.close()


def opinion_message(link: str, reminder: bool) -> RenderedMessage:
    """The sweep's mail asking a family member for their view before a review (`models.family_opinion`): a greeting
    and the link to their own page, nothing about the child (the page itself is behind their login)."""
    if reminder:
        subject = "Herinnering: geef uw mening voor het volgende gesprek op school"
        first = "Binnenkort is er weer een gesprek over hoe het gaat met de ondersteuning op school."
        ask = "U heeft uw mening nog niet gegeven. Dat kan nog een paar dagen op uw eigen pagina:"
    else:
        subject = "Wat vindt u ervan? Geef uw mening voor het volgende gesprek op school"
        first = "Over een paar weken is er weer een gesprek over hoe het gaat met de ondersteuning op school."
        ask = "Wij willen graag weten wat u ervan vindt. Geef uw mening op uw eigen pagina:"
    return _message(
        subject,
        [
            "Hallo,",
            first,
            ask,
            link,
            "Log in met uw e-mailadres en wachtwoord. Uw mening komt bij het gesprek.",
        ],
    )
