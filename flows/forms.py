"""Typed parameter models: the forms a professional fills in in the Prefect UI.

Dutch titles and help texts, dropdowns for code lists, limits the UI checks
before a run starts. Only references and codes: a pupil's name, BSN, birth date
or any free text about the child never goes into a form, because Prefect stores
and shows every parameter.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from flows.form_fields import (
    CODE_PATTERN,
    MAX_GOALS,
    PUPIL_REF_PATTERN,
    REQUEST_REF_PATTERN,
    Actor,
    CaseRef,
    ChosenCode,
    ConsentActor,
    FamilyRequest,
    GoalNumber,
)
from models.measures import FORM_HELP, HIGHEST, LOWEST
from models.vocabulary import (
    ChangeReason,
    ConsentParty,
    DecisionKind,
    Domain,
    EndReason,
    ErasureRefusal,
    Measure,
    NoActionReason,
    OverrideReason,
    ReferralAnswer,
    Setting,
    Source,
    TriageOutcome,
    Urgency,
    View,
)


def _plain_optionals(schema: dict[str, Any]) -> None:
    """Show an optional field as its plain input in the Prefect UI, not as a choice between a type and None.

    Leaving the field empty still means None: the UI leaves it out and the model's default applies.

    The actor may be left empty in the UI too: the gateway fills in the professional who is logged in (and refuses
    anyone else's code). The model still requires it: a run that reaches a flow without one is refused.
    """
    if "actor" in schema.get("required", []):
        schema["required"] = [name for name in schema["required"] if name != "actor"]
    for prop in schema.get("properties", {}).values():
        options = prop.get("anyOf")
        if not options or {"type": "null"} not in options or len(options) != 2:
            continue
        [kept] = [o for o in options if o != {"type": "null"}]
        del prop["anyOf"]
        if prop.get("default", "") is None:
            del prop["default"]
        prop.update(kept)


class Form(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, use_enum_values=True, json_schema_extra=_plain_optionals
    )


class RegisterSignal(Form):
    """Een signaal over een leerling registreren. Bij een open casus sluit het signaal daarbij aan."""

    model_config = ConfigDict(title="Signaal registreren")

    pupil_ref: str = Field(
        title="Leerlingreferentie",
        description="Pseudoniem van de leerling, bijvoorbeeld LL-000123: registreren en opzoeken in het dossier.",
        pattern=PUPIL_REF_PATTERN,
    )
    school_code: Annotated[str, ChosenCode] = Field(
        title="School", description="Schoolcode (BRIN), bijvoorbeeld 12AB.", pattern=CODE_PATTERN
    )
    source: Source = Field(title="Bron van het signaal", description="Wie de zorg over de leerling meldde.")
    domains: list[Domain] = Field(title="Zorgdomeinen", description="Eén of meer domeinen.", min_length=1, max_length=6)
    urgency: Urgency = Field(Urgency.NORMAL, title="Urgentie", description="'acuut' bij een veiligheidszorg.")
    received_on: dt.date | None = Field(None, title="Ontvangen op", description="Leeg laten voor vandaag.")
    actor: Actor


class Triage(Form):
    """De triage door het kernteam."""

    model_config = ConfigDict(title="Triage")

    case_ref: CaseRef
    outcome: TriageOutcome = Field(
        title="Uitkomst", description="Basisondersteuning, OJA (kies een niveau), specialistische zorg of geen actie."
    )
    level: int | None = Field(
        None, title="Niveau (alleen bij OJA)", description="1 licht/groep, 2 individueel, 3 intensief.", ge=1, le=3
    )
    no_action_reason: NoActionReason | None = Field(
        None, title="Reden (alleen bij geen actie)", description="Verplicht bij de uitkomst geen actie."
    )
    actor: Actor


class GoalForm(Form):
    model_config = ConfigDict(title="Doel")

    domain: Domain = Field(title="Domein", description="Het zorgdomein waar dit doel over gaat.")
    measure: Measure = Field(Measure.GAS, title="Hoe gemeten", description="GAS-schaal (-2 tot +2) of een eigen maat.")
    baseline: float = Field(-1, title="Beginsituatie", description=f"{FORM_HELP}.", ge=LOWEST, le=HIGHEST)
    target: float = Field(
        0, title="Streefwaarde", description=f"Bij GAS meestal 0 (verwacht niveau). {FORM_HELP}.", ge=LOWEST, le=HIGHEST
    )


class InterventionForm(Form):
    model_config = ConfigDict(title="Interventie")

    provider_code: Annotated[str, ChosenCode] = Field(
        title="Aanbieder", description="Code van de aanbieder.", pattern=CODE_PATTERN
    )
    professional_code: Annotated[str | None, ChosenCode] = Field(
        None,
        title="Professional",
        description="Code van de jeugdhulpverlener van de aanbieder; leeg als die nog niet bekend is.",
        pattern=CODE_PATTERN,
    )
    hours_per_week: float = Field(title="Uren per week", description="Meer dan 0, hoogstens 40.", gt=0, le=40)
    setting: Setting = Field(
        Setting.INDIVIDUAL, title="Individueel of groep", description="Voor de leerling alleen of in een groep."
    )
    swv_share_pct: int = Field(
        50, title="Aandeel SWV (%)", description="De rest betaalt de woongemeente.", ge=0, le=100
    )


class DraftPlan(Form):
    """Het gezamenlijk plan van aanpak opstellen (of een nieuwe versie ervan)."""

    model_config = ConfigDict(title="Plan van aanpak opstellen")

    case_ref: CaseRef
    goals: list[GoalForm] = Field(
        title="Doelen",
        description="Eén tot tien doelen, genummerd 1, 2, ... in deze volgorde.",
        min_length=1,
        max_length=MAX_GOALS,
    )
    interventions: list[InterventionForm] = Field(
        title="Interventies", description="Eén tot tien: wie levert wat, hoeveel uur.", min_length=1, max_length=10
    )
    regie_holder: Annotated[str, ChosenCode] = Field(
        title="Regiehouder", description="Code van de professional.", pattern=CODE_PATTERN
    )
    start_on: dt.date = Field(title="Startdatum", description="De eerste dag van het arrangement.")
    planned_end_on: dt.date = Field(title="Geplande einddatum", description="Arrangementen zijn tijdelijk.")
    review_cadence_weeks: int | None = Field(
        None, title="Evaluatie elke ... schoolweken", description="Leeg voor het beleid (standaard 6).", ge=1, le=26
    )
    group_code: Annotated[str | None, ChosenCode] = Field(
        None,
        title="Groepsarrangement (alleen bij niveau 1)",
        description="Leeg: geen groep. Een groep van de school van de casus, met een vrije plaats.",
        pattern=CODE_PATTERN,
    )
    actor: Actor

    @field_validator("planned_end_on")
    @classmethod
    def _after_start(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("start_on")
        if start is not None and value <= start:
            raise ValueError("moet na de startdatum liggen")
        return value


class RecordConsent(Form):
    """Toestemming van één partij vastleggen (Jeugdwet/WGBO: wie, hangt af van de leeftijd)."""

    model_config = ConfigDict(title="Toestemming vastleggen")

    case_ref: CaseRef
    party: ConsentParty = Field(title="Wie", description="De leerling, of ouder 1 / ouder 2 met gezag.")
    granted: bool = Field(True, title="Toestemming gegeven", description="Uitvinken bij weigering.")
    recorded_on: dt.date | None = Field(None, title="Datum", description="Leeg laten voor vandaag.")
    actor: ConsentActor
    family_request: FamilyRequest = None


class CaseAction(Form):
    """Een stap op een casus zonder verdere gegevens."""

    model_config = ConfigDict(title="Stap op een casus")

    case_ref: CaseRef
    actor: Actor


class GoalScoreForm(Form):
    model_config = ConfigDict(title="GAS-score")

    goal_number: GoalNumber
    gas: int = Field(title="GAS", description="-2 veel slechter ... 0 verwacht ... +2 veel beter", ge=-2, le=2)


class RecordReview(Form):
    """Een evaluatie van een lopend arrangement vastleggen."""

    model_config = ConfigDict(title="Evaluatie vastleggen")

    case_ref: CaseRef
    held_on: dt.date | None = Field(None, title="Gehouden op", description="Leeg laten voor vandaag.")
    gas_scores: list[GoalScoreForm] = Field(
        default_factory=list,
        title="GAS per doel",
        description="Per doel van het plan hoogstens één score.",
        max_length=MAX_GOALS,
    )
    attendance_pct: int | None = Field(
        None,
        title="Aanwezigheid (%)",
        description="Aanwezig op school sinds de vorige evaluatie, 0 tot 100.",
        ge=0,
        le=100,
    )
    wellbeing: int | None = Field(
        None, title="Welbevinden (1-10)", description="Hoe de leerling zich voelt, 1 tot 10.", ge=1, le=10
    )
    satisfaction: int | None = Field(
        None, title="Tevredenheid (1-10)", description="Tevredenheid over de hulp, 1 tot 10.", ge=1, le=10
    )
    pupil_view: View | None = Field(
        None, title="Stem van de leerling", description="Wat de leerling van de hulp vindt."
    )
    parent_view: View | None = Field(None, title="Stem van de ouders", description="Wat de ouders van de hulp vinden.")
    safety_concern: bool = Field(
        False, title="Zorg over veiligheid", description="Aanvinken bij een zorg over de veiligheid van de leerling."
    )
    delivered_as_planned: bool = Field(
        True, title="Uitgevoerd zoals afgesproken", description="Uitvinken als de hulp anders liep dan in het plan."
    )
    actor: Actor

    @field_validator("gas_scores")
    @classmethod
    def _one_score_per_goal(cls, value: list[GoalScoreForm]) -> list[GoalScoreForm]:
        numbers = [s.goal_number for s in value]
        if len(numbers) != len(set(numbers)):
            raise ValueError("elk doel krijgt hoogstens één score")
        return value


# the details of a decision (the besluit-nemen form)
NewLevel = Annotated[
    int | None,
    Field(
        title="Nieuw niveau (op- of afschalen)", description="1 licht/groep, 2 individueel, 3 intensief.", ge=1, le=3
    ),
]
EndReasonField = Annotated[
    EndReason | None,
    Field(title="Reden beëindiging (bij afsluiten)", description="Verplicht bij afsluiten (codelijst iJw)."),
]
ChangeReasonField = Annotated[
    ChangeReason | None,
    Field(
        title="Reden wijziging (bij op- of afschalen)", description="Verplicht bij op- of afschalen (codelijst iJw)."
    ),
]
OverrideReasonField = Annotated[
    OverrideReason | None,
    Field(title="Reden om af te wijken", description="Verplicht als het besluit afwijkt van de aanbeveling."),
]
GroupCode = Annotated[
    str | None,
    Field(
        title="Groepsarrangement (bij afschalen naar niveau 1)", description="Code van de groep.", pattern=CODE_PATTERN
    ),
    ChosenCode,
]


class TakeDecision(Form):
    """Een besluit nemen na de evaluatie."""

    model_config = ConfigDict(title="Besluit nemen")

    case_ref: CaseRef
    kind: DecisionKind = Field(
        title="Besluit", description="Een ander besluit dan de aanbeveling vraagt een reden om af te wijken."
    )
    new_level: NewLevel = None
    end_reason: EndReasonField = None
    change_reason: ChangeReasonField = None
    override_reason: OverrideReasonField = None
    group_code: GroupCode = None
    actor: Actor


class RespondToReferral(Form):
    """Het wijkteam beantwoordt een verwijzing naar specialistische zorg."""

    model_config = ConfigDict(title="Verwijzing beantwoorden")

    case_ref: CaseRef
    answer: ReferralAnswer = Field(
        title="Antwoord",
        description="Kies aanvaard of afgewezen: er is geen standaardkeuze. Bij afwijzing gaat de casus terug naar"
        " school.",
    )
    level_on_decline: int | None = Field(
        None,
        title="Niveau op school (alleen bij afwijzing)",
        description="De casus gaat terug naar school. Leeg: niveau 3. Leeg laten bij aanvaarden.",
        ge=1,
        le=3,
    )
    actor: Actor


class RecordMeasurement(Form):
    """Een meting vastleggen voor een doel (voortgangsmonitoring tegen de doellijn)."""

    model_config = ConfigDict(title="Meting vastleggen")

    case_ref: CaseRef
    goal_number: GoalNumber
    value: float = Field(title="Waarde", description=f"{FORM_HELP}.", ge=LOWEST, le=HIGHEST)
    measured_on: dt.date | None = Field(None, title="Gemeten op", description="Leeg laten voor vandaag.")
    actor: Actor


class ReturnFromSpecialised(Form):
    """Terugkeer uit specialistische zorg naar een arrangement op school."""

    model_config = ConfigDict(title="Terugkeer uit specialistische zorg")

    case_ref: CaseRef
    level: int = Field(title="Niveau op school", description="1 licht/groep, 2 individueel, 3 intensief.", ge=1, le=3)
    actor: Actor


class RequestErasure(Form):
    """Een schriftelijk verzoek om het dossier eerder te vernietigen registreren (binnen 3 maanden beslissen)."""

    model_config = ConfigDict(title="Verzoek om vernietiging registreren")

    pupil_ref: str = Field(title="Leerlingreferentie", description="Bijvoorbeeld LL-000123.", pattern=PUPIL_REF_PATTERN)
    requested_by: ConsentParty = Field(
        title="Verzoek van", description="Een ouder met gezag, of de leerling zelf vanaf 12 jaar."
    )
    received_on: dt.date | None = Field(None, title="Ontvangen op", description="Leeg laten voor vandaag.")
    actor: Actor


class DecideErasure(Form):
    """Beslissen over een verzoek om vernietiging: toewijzen (het dossier wordt nu vernietigd) of afwijzen met reden."""

    model_config = ConfigDict(title="Beslissen over vernietiging")

    request_ref: str = Field(title="Verzoek", description="Bijvoorbeeld VV-2026-000012.", pattern=REQUEST_REF_PATTERN)
    grant: bool = Field(title="Toewijzen", description="Aan: het dossier wordt vernietigd. Uit: afwijzen met reden.")
    refusal_reason: ErasureRefusal | None = Field(
        None, title="Reden van afwijzing (alleen bij afwijzen)", description="Verplicht bij afwijzen (Jeugdwet 7.3.11)."
    )
    actor: Actor
