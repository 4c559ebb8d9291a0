"""Render a digest to a subject, a plain text and an HTML body, from the Jinja2 templates in `templates/`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path

import jinja2
import pendulum
from jinja2.environment import TemplateModule
from jinja2.runtime import Macro

from models.reminders import KIND_PRIORITY, NoticeKind
from notifications.messages import Digest, DueItem, RenderedMessage

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("nl", "en")
# the order in which kinds are listed (what is late first): the codes of `models.reminders.KIND_PRIORITY`
KIND_ORDER = tuple(kind.value for kind in KIND_PRIORITY)


@functools.lru_cache(maxsize=4096)
def long_date(day: dt.date, language: str) -> str:
    """'maandag 11 januari 2027' / 'Monday 11 January 2027'."""
    return pendulum.date(day.year, day.month, day.day).format("dddd D MMMM YYYY", locale=language)


@functools.cache
def _environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([TEMPLATES / language, TEMPLATES]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["long_date"] = lambda day: long_date(day, language)
    env.globals["labels"] = _Labels(env.get_template("_labels.j2").module)
    return env


class _Labels:
    """The wording macros of `_labels.j2`, remembered per (kind, dates, school days): a region's digests
    repeat the same few thousand phrases hundreds of thousands of times."""

    def __init__(self, module: TemplateModule) -> None:
        self._what_macro = _macro(module, "what")
        self._when_macro = _macro(module, "when")
        self.heading = functools.lru_cache(maxsize=64)(_macro(module, "heading"))
        self._what = functools.lru_cache(maxsize=8192)(self._call_what)
        self._when = functools.lru_cache(maxsize=8192)(self._call_when)

    def _call_what(self, kind: str, due_on: dt.date, since: dt.date | None) -> str:
        return self._what_macro(_Item(kind, due_on, 0, since))

    def _call_when(self, kind: str, school_days: int) -> str:
        return self._when_macro(_Item(kind, None, school_days, None))

    def what(self, item: DueItem) -> str:
        return self._what(item.kind, item.due_on, item.since)

    def when(self, item: DueItem) -> str:
        return self._when(item.kind, item.school_days)


def _macro(module: TemplateModule, name: str) -> Macro:
    """A macro of a template's module (Jinja2 sets them as attributes at run time, so no type knows them)."""
    macro = vars(module)[name]
    if not isinstance(macro, Macro):
        raise TypeError(f"{name} is not a macro of {module!r}")
    return macro


@dataclasses.dataclass(frozen=True)
class _Item:
    kind: str
    due_on: dt.date | None
    school_days: int
    since: dt.date | None


def render(digest: Digest) -> RenderedMessage:
    if digest.language not in LANGUAGES:
        raise ValueError(f"language: moet één van deze codes zijn: {', '.join(LANGUAGES)}")
    env = _environment(digest.language)
    groups = []
    for kind in KIND_ORDER:
        items = sorted((i for i in digest.items if i.kind == kind), key=lambda i: (i.due_on, i.case_ref))
        if items:
            groups.append({"kind": kind, "items": items})
    unknown = {i.kind for i in digest.items} - set(KIND_ORDER)
    if unknown:
        raise ValueError(f"unknown kinds of due item: {sorted(unknown)}")
    context = {
        "digest": digest,
        "groups": groups,
        "count": len(digest.items),
        # what needs attention now, and the weekly overview of what is coming: one message can hold both
        "attention": sum(i.kind != NoticeKind.UPCOMING for i in digest.items),
        "week": sum(i.kind == NoticeKind.UPCOMING for i in digest.items),
        # an erasure request about a pupil without a case has no case page to open
        "link": lambda item: digest.case_url.replace("{case_ref}", item.case_ref) if item.case_ref else "",
    }
    subject = env.get_template("subject.txt.j2").render(context).strip()
    return RenderedMessage(
        subject=" ".join(subject.split()),
        text=env.get_template("digest.txt.j2").render(context),
        html=env.get_template("digest.html.j2").render(context),
    )
