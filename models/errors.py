"""Every exception the engine raises, in one tree.

    Exception
    ├── OjaError                      any refusal by the engine; nothing was written
    │   ├── InvalidInput              a value breaks a rule; names the field and the rule (also a ValueError)
    │   │   ├── InvalidInputs         several values of one form break rules: every one, one per line
    │   │   ├── InvalidBSN            not a valid citizen service number
    │   │   ├── InvalidOnderwijsnummer
    │   │   ├── UnknownReference      a code or reference that is not registered
    │   │   └── AccessDenied          the acting professional may not act on this case
    │   ├── IllegalTransition         the action is not allowed in the case's current state
    │   ├── ConsentMissing            a plan cannot become active without the consent the age requires
    │   └── DisclosureError           a monitoring table would give a small group away: not published
    ├── ActionRefused                 a lifecycle flow run failed because the engine refused its action
    ├── AuditImmutable                an audit record was about to be changed or deleted (also a RuntimeError)
    └── DeliveryError                 sending did not (wholly) succeed; the outbox keeps what was not sent
        ├── DeliveryFailed            one message could not be delivered to a target
        └── DispatchIncomplete        a dispatch run ended with messages failed or undeliverable

When each is raised:

- `OjaError` and its subclasses come from the use cases (`oja.services.*`) and the
  domain rules (`models.lifecycle`, `models.identity`, `models.access`, `models.suppression`). The unit of
  work rolls the transaction back; the CLI prints the message; a flow run fails with it. `AccessDenied` is
  also audited as a refusal (`oja.services.kernel.execute`).
- `ActionRefused` is raised inside the lifecycle flows (`flows.common.settle`) in place of an `OjaError`, with
  the same message, and caught by `flows.common.case_flow`, which ends the run Failed with that message in
  Dutch and no traceback. It is not an `OjaError`: code that catches refusals of the engine does not catch
  a refused flow step.
- `AuditImmutable` is raised by the engine session's flush guard (`oja.adapters.db.OjaSession`) when code
  would change or delete an audit record: a bug, not a refusal, so it is a `RuntimeError` and not an `OjaError`.
- `DeliveryError` is not a refusal either: the engine decided, the channel failed. `DeliveryFailed` is raised
  by a sender (`notifications.send`) for one message, and caught by `oja.services.dispatch`, which leaves that
  message pending; `DispatchIncomplete` fails the dispatch flow run (`flows.sweep`) when messages stayed
  pending or were undeliverable, so the operators hear of it.

A use case checks a whole form before it refuses (`FormCheck`): every wrong field is named at once, in one
`InvalidInputs`, so a person corrects the form once instead of once per try.

Messages are written for people, in Dutch: the field and the rule it breaks, as an error or an
instruction ("moet na de startdatum liggen"). They carry field names, codes and case references only,
never a value that could identify a pupil (a BSN, a name, a birth date), because they end up in
Prefect's run logs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from models.words import action_word, state_word


class OjaError(Exception):
    """Base of every refusal by the engine."""


class InvalidInput(OjaError, ValueError):
    """A value breaks a rule. `field` names the form field, `rule` the rule broken."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class InvalidInputs(InvalidInput):
    """Several values of one form break rules; `errors` holds each (field and rule), the message one per line."""

    def __init__(self, errors: Sequence[InvalidInput]) -> None:
        self.errors = tuple(errors)
        self.field = self.errors[0].field
        self.rule = self.errors[0].rule
        OjaError.__init__(self, "\n".join(str(e) for e in self.errors))


class FormCheck:
    """Every wrong value of a form collected, then one refusal naming them all:

        check = FormCheck()
        with check.field():             # an InvalidInput raised here is kept; the next check still runs
            level = level_after(...)
        check.fail("end_reason", "...")  # a rule of the use case itself
        check.done()                    # refuses once: InvalidInputs (or the one InvalidInput), else nothing

    Only `InvalidInput` is kept; a refusal of access (`AccessDenied`) or of the step itself (`IllegalTransition`)
    stands alone and is raised at once.
    """

    def __init__(self) -> None:
        self.errors: list[InvalidInput] = []

    @contextmanager
    def field(self) -> Iterator[None]:
        try:
            yield
        except AccessDenied:
            raise
        except InvalidInputs as several:
            self.errors.extend(several.errors)
        except InvalidInput as one:
            self.errors.append(one)

    def fail(self, field: str, rule: str) -> None:
        self.errors.append(InvalidInput(field, rule))

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def done(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise InvalidInputs(self.errors)


class InvalidBSN(InvalidInput):
    """Raised when a BSN has the wrong length, characters or checksum."""


class InvalidOnderwijsnummer(InvalidInput):
    """Raised when an onderwijsnummer has the wrong length, characters or checksum."""


class UnknownReference(InvalidInput):
    """Raised when a school, municipality, provider, professional, pupil or case is not registered."""

    def __init__(self, field: str, kind: str, value: str) -> None:
        self.kind = kind
        self.value = value
        super().__init__(field, f"{kind} '{value}' is niet bekend")


class IllegalTransition(OjaError):
    """Raised when an action is not allowed in the case's current state; nothing changes."""

    def __init__(self, state: str, action: str, allowed: tuple[str, ...], case_ref: str | None = None) -> None:
        self.state = state
        self.action = action
        self.allowed = allowed
        self.case_ref = case_ref
        where = f"casus {case_ref}" if case_ref else "casus"
        allowed_text = ", ".join(action_word(a) for a in allowed) if allowed else "geen"
        super().__init__(
            f"{where}: stap '{action_word(action)}' kan niet in status '{state_word(state)}'; mogelijk: {allowed_text}"
        )


class ConsentMissing(OjaError):
    """Raised when a plan would become active without the consent the pupil's age requires."""

    def __init__(self, missing: tuple[str, ...], case_ref: str | None = None) -> None:
        self.missing = missing
        self.case_ref = case_ref
        where = f"casus {case_ref}" if case_ref else "casus"
        super().__init__(f"{where}: de toestemming van {', '.join(missing)} ontbreekt nog; leg die eerst vast")


class AccessDenied(InvalidInput):
    """The acting professional may not take this action on this case; nothing was changed.

    Raised by `models.access.check` (and by a use case with a rule of its own); names the actor, the action
    and the rule, never anything about the pupil."""

    def __init__(self, actor: str, action: str, subject: str, scope: str) -> None:
        self.actor = actor
        self.action = action
        self.subject = subject  # a case or pupil reference
        self.scope = scope
        super().__init__("actor", f"{actor} mag '{action_word(action)}' niet uitvoeren bij {subject}: {scope}")


class DisclosureError(OjaError):
    """A table would reveal a small group: it is not published. The message names tables, never a figure or a
    value (it ends up in Prefect's run state, which everyone with the UI reads)."""

    def __init__(self, tables: Iterable[str]):
        self.tables = sorted(set(tables))
        super().__init__(
            f"niet gepubliceerd: in {', '.join(self.tables)} zou een groep van 1 tot 5 leerlingen herkenbaar "
            "worden (controle op kleine aantallen)"
        )


class ActionRefused(Exception):
    """The engine refused the action; the message says why (codes and field names only)."""


class AuditImmutable(RuntimeError):
    """An audit record was about to be changed or deleted: the engine never does that."""


class DeliveryError(Exception):
    """Base of the failures to send: not a refusal by the engine, so not an `OjaError`."""


class DeliveryFailed(DeliveryError):
    """A message could not be delivered to a target; the target is named without its secrets."""


class DispatchIncomplete(DeliveryError):
    """Some messages could not be sent; they stay pending for the next attempt."""
