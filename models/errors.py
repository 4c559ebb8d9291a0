"""Domain exceptions.

    OjaError                      any refusal by the engine; nothing was written
    ├── InvalidInput              a value breaks a rule; names the field and the rule
    │   ├── InvalidBSN            not a valid citizen service number
    │   ├── InvalidOnderwijsnummer
    │   └── UnknownReference      a code or reference that is not registered
    │   └── AccessDenied          the acting professional may not act on this case (models.access)
    ├── IllegalTransition         the action is not allowed in the case's current state
    └── ConsentMissing            a plan cannot become active without the consent the age requires

Messages carry field names, codes and case references only, never a value that
could identify a pupil (a BSN, a name, a birth date), because they end up in
Prefect's run logs.
"""

from __future__ import annotations


class OjaError(Exception):
    """Base of every refusal by the engine."""


class InvalidInput(OjaError, ValueError):
    """A value breaks a rule. `field` names the form field, `rule` the rule broken."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class InvalidBSN(InvalidInput):
    """Raised when a BSN has the wrong length, characters or checksum."""


class InvalidOnderwijsnummer(InvalidInput):
    """Raised when an onderwijsnummer has the wrong length, characters or checksum."""


class UnknownReference(InvalidInput):
    """Raised when a school, municipality, provider, professional, pupil or case is not registered."""

    def __init__(self, field: str, kind: str, value: str) -> None:
        self.kind = kind
        self.value = value
        super().__init__(field, f"{kind} '{value}' is niet bekend / unknown {kind}")


class IllegalTransition(OjaError):
    """Raised when an action is not allowed in the case's current state; nothing changes."""

    def __init__(self, state: str, action: str, allowed: tuple[str, ...], case_ref: str | None = None) -> None:
        self.state = state
        self.action = action
        self.allowed = allowed
        self.case_ref = case_ref
        where = f"case {case_ref}" if case_ref else "case"
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"{where} is in state '{state}': action '{action}' is not allowed; allowed next: {allowed_text}"
        )


class ConsentMissing(OjaError):
    """Raised when a plan would become active without the consent the pupil's age requires."""

    def __init__(self, missing: tuple[str, ...], case_ref: str | None = None) -> None:
        self.missing = missing
        self.case_ref = case_ref
        where = f"case {case_ref}" if case_ref else "case"
        super().__init__(f"{where}: consent missing from {', '.join(missing)}")
