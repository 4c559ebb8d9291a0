"""What a message is about, as plain data: never anything about a pupil beyond a case reference."""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True)
class DueItem:
    """One deadline of one case, as a recipient sees it."""

    case_ref: str
    school_code: str
    school_name: str
    kind: str  # models.reminders.NoticeKind
    due_on: dt.date
    school_days: int  # school days until the deadline, or late (always positive; the kind says which)
    since: dt.date | None = None  # the day it began, where the deadline is counted from it (a referral's date)
    request_ref: str | None = None  # an erasure request's VV-... reference: shown instead of the case's


@dataclasses.dataclass(frozen=True)
class Digest:
    """Everything due for one recipient in one sweep: one message."""

    recipient_code: str
    recipient_name: str
    kind: str  # models.vocabulary.DigestKind: dag, week (the coming week's overview alone), dag_week (both)
    sweep_date: dt.date
    items: list[DueItem]
    language: str = "nl"
    case_url: str = "{case_ref}"  # where a case is looked up; {case_ref} is replaced


@dataclasses.dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    # a stable identity (the local part of the Message-ID): a message sent again after a crash keeps it,
    # so a mail client shows it once
    message_id: str | None = None
