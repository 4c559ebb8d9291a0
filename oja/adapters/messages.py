"""How the engine writes its messages, from the settings: the templates, the language, the link to a case.

Apart from `oja.adapters.notify` so that queueing a message does not import the senders (Apprise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from notifications.messages import Digest, RenderedMessage
from notifications.render import render
from oja.config import Settings


class MessageOptions(TypedDict):
    """How the engine writes its messages: the templates, the language, the link to a case."""

    render: Callable[[Digest], RenderedMessage]
    language: str
    case_url: str


def message_options(settings: Settings) -> MessageOptions:
    """The message options from the settings, for everything that queues a message (sweep, decision reminder,
    referral, `oja sweep`)."""
    return {"render": render, "language": settings.language, "case_url": settings.case_url}
