"""The fields the step forms share: references, the actor, a goal's number, a day (`flows/forms.py` builds the
forms from them). Codes and references only: a form is a flow's parameters, which Prefect stores."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BeforeValidator, Field

from oja.services.choices import code_of

ChosenCode = BeforeValidator(code_of)  # a label picked from a form's list (`oja forms publish`) becomes its code

CASE_REF_PATTERN = r"^OJA-\d{4}-\d{6}$"
PUPIL_REF_PATTERN = r"^LL-\d{6}$"
REQUEST_REF_PATTERN = r"^VV-\d{4}-\d{6}$"
CODE_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,11}$"
MAX_GOALS = 10  # a plan's goals, numbered 1 to 10

CaseRef = Annotated[
    str,
    Field(title="Casusreferentie", description="Bijvoorbeeld OJA-2026-000123.", pattern=CASE_REF_PATTERN),
]
Actor = Annotated[
    str,
    Field(
        title="Uitgevoerd door",
        description="Uw eigen code, bijvoorbeeld PRF-0001. Leeg laten: de engine vult in wie er is ingelogd.",
        pattern=CODE_PATTERN,
    ),
    ChosenCode,
]
# the consent step's actor: a professional, or a party giving their own consent on the family's page (the engine
# fills it in with the request's id; the gateway binds a professional's run to their own code, and the engine takes a
# party's code only with that party's request: `oja/services/consent.py`)
FAMILY_ACTOR_PATTERN = r"^(ouder_1|ouder_2|leerling)$"
FAMILY_ACTORS_KEY = "x-oja-gezin"
ConsentActor = Annotated[
    str,
    Field(
        title="Uitgevoerd door",
        description="Uw eigen code, bijvoorbeeld PRF-0001. Leeg laten: de engine vult in wie er is ingelogd.",
        pattern=f"{CODE_PATTERN}|{FAMILY_ACTOR_PATTERN}",
        # the published form keeps these as an alternative of their own (`oja.adapters.form_choices`): Prefect checks
        # a run's parameters against it, and a family's run names the party
        json_schema_extra={FAMILY_ACTORS_KEY: ["ouder_1", "ouder_2", "leerling"]},
    ),
    ChosenCode,
]
FAMILY_REQUEST_PATTERN = r"^[A-Za-z0-9_\-]{16,32}$"
FamilyRequest = Annotated[
    str | None,
    Field(
        title="Verzoek van het gezin",
        description="Laat leeg. Alleen de engine vult dit in, als een ouder of de leerling zelf toestemming gaf.",
        pattern=FAMILY_REQUEST_PATTERN,
    ),
]
GoalNumber = Annotated[
    int,
    Field(
        title="Doel nr.",
        description="Het nummer van het doel in het plan van aanpak (1 is het eerste doel).",
        ge=1,
        le=MAX_GOALS,
        # A list to pick from, not a number to type. The form is the same for every case (Prefect has one form per
        # deployment), so it offers every number a plan can have, 1 to MAX_GOALS; the engine refuses a number the
        # case's plan does not have, in Dutch (`oja.services.review`). The plan's numbers are not published per case.
        json_schema_extra={"enum": list(range(1, MAX_GOALS + 1))},
    ),
]
OptionalDay = Annotated[
    dt.date | None,
    Field(title="Datum", description="Leeg laten voor vandaag."),
]
