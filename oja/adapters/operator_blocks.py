"""The notification blocks of the operator alerts (`oja/adapters/alerts.py`), named for what they send.

Prefect 3.8's UI shows an automation's notification as `Send a <block type> using <block>`: with Prefect's
`SlackWebhook` (which hands any Apprise URL to Apprise) it read `Send a slack webhook using oja-operator-0`,
for an alert that goes out by e-mail. These block types say what they are: `E-mail aan beheerders` for a
`mailto://` or `mailtos://` URL, `Bericht aan beheerders` for another Apprise URL (Teams, say).

The Prefect server sends the alerts itself, so it must know these classes: the package declares this module
as a Prefect collection (`prefect.collections` in pyproject.toml), which every Prefect process, the server
too, imports before it looks up a block type. Keep it small: it imports Prefect's blocks only.
"""

from __future__ import annotations

from prefect.blocks.notifications import AppriseNotificationBlock

MAIL_SCHEMES = ("mailto", "mailtos")


class OperatorMail(AppriseNotificationBlock):
    """Een e-mail aan de beheerders van de engine (een Apprise-URL mailto:// of mailtos://)."""

    _block_type_name = "E-mail aan beheerders"
    _block_type_slug = "oja-beheerders-e-mail"
    _description = "Een e-mail aan de beheerders van de OJA-engine, verstuurd door de Prefect-server (Apprise)."


class OperatorMessage(AppriseNotificationBlock):
    """Een bericht aan de beheerders van de engine langs een andere Apprise-URL (Teams, Slack, ...)."""

    _block_type_name = "Bericht aan beheerders"
    _block_type_slug = "oja-beheerders-bericht"
    _description = "Een bericht aan de beheerders van de OJA-engine, verstuurd door de Prefect-server (Apprise)."


def is_mail(url: str) -> bool:
    return url.partition("://")[0].lower() in MAIL_SCHEMES
