"""Sending adapter: the sender from settings (the SMTP URL from the environment or a Prefect Secret block), and
the operators' alert channel."""

from __future__ import annotations

from models.errors import InvalidInput
from notifications.send import AppriseSender
from oja.config import Settings


def smtp_url(settings: Settings) -> str:
    """The Apprise mailto:// URL: OJA_SMTP_URL, or the Prefect Secret block named by OJA_SMTP_SECRET_BLOCK."""
    if settings.smtp_url:
        return settings.smtp_url
    if settings.smtp_secret_block:
        from prefect.blocks.system import Secret

        block = Secret.load(settings.smtp_secret_block)  # outside an event loop: the block, not a coroutine
        url = block.get() if isinstance(block, Secret) else None
        if not isinstance(url, str):
            raise InvalidInput("smtp_secret_block", "moet een Secret-block zijn dat een Apprise mailto://-URL bevat")
        return url
    raise InvalidInput("smtp_url", "stel OJA_SMTP_URL of OJA_SMTP_SECRET_BLOCK in (een Apprise mailto://-URL)")


def build_sender(settings: Settings) -> AppriseSender:
    try:
        return AppriseSender(smtp_url(settings), extra_urls=settings.extra_notify_urls)
    except ValueError as exc:  # "setting: rule", the setting being smtp_url or extra_notify_urls[role]
        setting, _, rule = str(exc).partition(": ")
        if not (rule and setting.startswith(("smtp_url", "extra_notify_urls"))):
            setting, rule = "smtp_url", str(exc)
        raise InvalidInput(setting, rule) from None


def alert_operators(settings: Settings, title: str, body: str) -> bool:
    """Tell the operators (OJA_OPERATOR_URLS) that something failed; True when every channel took it."""
    import apprise

    if not settings.operator_urls:
        return False
    channel = apprise.Apprise()
    for url in settings.operator_urls:
        if not channel.add(url):
            raise InvalidInput("operator_urls", "moet een geldige Apprise-URL zijn")
    for service in channel:
        service.request_rate_per_sec = 0
    return bool(channel.notify(title=title, body=body))
