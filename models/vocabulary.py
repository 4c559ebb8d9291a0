"""Code lists. Every code the engine stores is a member of an enum with a Dutch value: coordinators pick
most of them in the Prefect UI, and one language keeps the tables, the audit trail and the events readable.

The lifecycle's states and actions and the audit actions are in `models.lifecycle`, the notice kinds in
`models.reminders`, the recommendation rules in `models.decisions`.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    COORDINATOR = "zorgcoordinator"  # school care coordinator; registers signals, often holds regie
    YOUTH_WORKER = "jeugdhulpverlener"  # from a provider; delivers the arrangement in school
    SCHOOL_SOCIAL_WORKER = "schoolmaatschappelijk_werker"
    DISTRICT_TEAM = "wijkteam"  # the municipality's gate to specialised care
    TEAM_LEAD = "teamleider"
    MANAGER = "manager"
    PRIVACY_OFFICER = "privacyfunctionaris"  # reads the dossier's access log (NEN 7513), never a case
    OPERATOR = "beheerder"  # the engine's settings in Prefect (deployments, schedules, blocks); never a case


class Source(StrEnum):
    SCHOOL = "school"
    PARENT = "ouder"
    PUPIL = "leerling"
    DISTRICT_TEAM = "wijkteam"
    GP = "huisarts"
    OTHER = "anders"


class Domain(StrEnum):
    LEARNING = "leren"
    BEHAVIOUR = "gedrag"
    EMOTIONAL = "emotioneel"  # emotional / anxiety
    HOME = "thuissituatie"
    ATTENDANCE = "verzuim"
    SAFETY = "veiligheid"


class ClosureKind(StrEnum):
    """Why a school closes on a day of its own (on top of the national rule and its region's holidays)."""

    STUDY_DAY = "studiedag"
    GOOD_FRIDAY = "goede_vrijdag"
    FRIDAY_AFTER_ASCENSION = "vrijdag_na_hemelvaart"
    LIBERATION_DAY = "bevrijdingsdag"  # 5 May outside a lustrum year
    OTHER = "anders"


class Urgency(StrEnum):
    NORMAL = "normaal"
    HIGH = "hoog"
    ACUTE = "acuut"  # a safety concern: routed at once


class TriageOutcome(StrEnum):
    BASIC = "basisondersteuning"  # the school's own support, level 0; the case closes
    OJA = "oja"  # an in-school arrangement, level 1-3
    SPECIALISED = "specialistische_zorg"  # level 4, a referral
    NO_ACTION = "geen_actie"  # with a reason; the case closes


class NoActionReason(StrEnum):
    NO_NEED = "geen_zorgbehoefte"
    HELP_ELSEWHERE = "al_hulp_elders"
    PARENTS_DECLINE = "ouders_zien_af"
    MOVED = "verhuisd"
    OTHER = "anders"


class EndReason(StrEnum):
    """Reden beëindiging, naar de codelijst van het iJw-berichtenverkeer."""

    AS_PLANNED = "volgens_plan"  # ended as planned: goals reached
    EARLY_AGREED = "voortijdig_in_overleg"  # ended early, by agreement
    EARLY_BY_CLIENT = "voortijdig_door_client"  # ended early, unilaterally by pupil or parents
    EARLY_BY_PROVIDER = "voortijdig_door_aanbieder"  # ended early, unilaterally by the provider
    BY_MUNICIPALITY = "initiatief_gemeente"  # initiated by the municipality
    OTHER_PROVIDER = "naar_andere_aanbieder"  # to another provider
    OTHER_DOMAIN = "naar_ander_domein"  # to another domain (e.g. Wlz)
    BASIC_SUPPORT = "naar_basisondersteuning"  # back to the school's own support


class ChangeReason(StrEnum):
    """Reden wijziging bij op- of afschalen, naar de iJw-codelijst."""

    EXTENSION = "herbeoordeling_verlenging"  # reassessment: extension / more
    SHORTENING = "herbeoordeling_verkorting"  # reassessment: shortening / less
    SWITCH_PROVIDER = "wisseling_aanbieder"


class DecisionKind(StrEnum):
    """Staat na een evaluatie op de aanbeveling; een ander besluit vraagt een reden om af te wijken."""

    # shown as the field's help text in the Prefect UI; stored in `decision.kind`, `decision.recommended_kind`

    CONTINUE = "voortzetten"
    SCALE_UP = "opschalen"
    SCALE_DOWN = "afschalen"
    CLOSE = "afsluiten"
    ESCALATE = "specialistische_zorg"


class OtherDecision(StrEnum):
    """Decision records written by another action than a decision form (`decision.kind`): not a `DecisionKind`,
    so the decision forms do not offer them."""

    RETURN = "terugkeer"  # back from specialised care into school (a return, or a declined referral)


class ReturnReason(StrEnum):
    """Why a case came back from specialised care, when the engine knows it (`decision.reason_code`)."""

    REFERRAL_DECLINED = "verwijzing_afgewezen"  # the district team declined the referral


class ReferralStatus(StrEnum):
    """Where a referral to specialised care stands (`referral.status`)."""

    SENT = "verzonden"  # sent to the district team, not yet answered
    ACCEPTED = "aanvaard"  # the district team accepted it
    DECLINED = "afgewezen"  # the district team declined it: the case returned to school
    RETURNED = "teruggekeerd"  # the pupil came back from specialised care into school


class ReferralAnswer(StrEnum):
    """The district team's answer to a referral, picked on its form: no default, so leaving the form alone answers
    nothing (the values are those of `ReferralStatus` the answer gives the referral)."""

    ACCEPTED = "aanvaard"  # specialised care follows; the regie holder checks with the district team later
    DECLINED = "afgewezen"  # the case returns to school at the level chosen on the form


class Setting(StrEnum):
    INDIVIDUAL = "individueel"
    GROUP = "groep"


class Measure(StrEnum):
    GAS = "gas"  # goal attainment scaling
    ATTENDANCE = "aanwezigheid_pct"
    WELLBEING = "welbevinden"
    OTHER = "anders"


class ConsentParty(StrEnum):
    PUPIL = "leerling"
    PARENT_1 = "ouder_1"
    PARENT_2 = "ouder_2"


class View(StrEnum):
    """De stem van leerling en ouders bij de evaluatie."""

    POSITIVE = "positief"
    NEUTRAL = "neutraal"
    NEGATIVE = "negatief"
    NOT_ASKED = "niet_gevraagd"


class HolidayRegion(StrEnum):
    NORTH = "noord"
    MIDDLE = "midden"
    SOUTH = "zuid"


class OverrideReason(StrEnum):
    """Waarom een professional afwijkt van de aanbeveling (een code: geen vrije tekst in Prefect)."""

    PROFESSIONAL_JUDGEMENT = "professioneel_oordeel"
    NEW_INFORMATION = "nieuwe_informatie"
    WISH_OF_PUPIL_OR_PARENTS = "wens_leerling_ouders"
    CAPACITY = "capaciteit"
    DATA_INCOMPLETE = "gegevens_onvolledig"


class ErasureRefusal(StrEnum):
    """Waarom een verzoek om vernietiging wordt afgewezen (Jeugdwet art. 7.3.11 lid 4)."""

    OTHERS_INTEREST = "aanmerkelijk_belang_ander"  # another person's substantial interest
    LEGAL_DUTY = "wettelijke_plicht"  # the law requires keeping it
    OPEN_ARRANGEMENT = "lopend_arrangement"  # the arrangement is still running


class ErasureOutcome(StrEnum):
    GRANTED = "toegewezen"
    REFUSED = "afgewezen"


class OutboxStatus(StrEnum):
    """Where a message in the outbox stands (`outbox.status`)."""

    PENDING = "wachtend"  # to be sent (again, after a failure)
    SENT = "verzonden"
    UNDELIVERABLE = "onbestelbaar"  # no address for the recipient: never sent
    LAPSED = "vervallen"  # no longer true for its case when it was to go out: never sent (the reason in last_error)


class DigestKind(StrEnum):
    """What one message to one recipient holds (`outbox.digest`; at most 8 characters)."""

    DAILY = "dag"  # what needs attention today
    WEEKLY = "week"  # the overview of the coming school week alone
    COMBINED = "dag_week"  # both, on the overview's day


class AccessAction(StrEnum):
    """What a line of the dossier's access log (NEN 7513) records: a login, a view, a change, an export."""

    LOGIN = "inloggen"
    LOGIN_FAILED = "inloggen_mislukt"
    LOCKED_OUT = "geblokkeerd"
    LOGOUT = "uitloggen"
    VIEW_WORKLIST = "werklijst_bekeken"
    VIEW_CASE = "casus_bekeken"
    REGISTER_PUPIL = "leerling_geregistreerd"
    PREVIEW_IMPORT = "import_voorvertoond"
    IMPORT_PUPILS = "leerlingen_geimporteerd"
    DESCRIBE_GOALS = "doelen_gewijzigd"
    EXPORT_PUPIL = "inzage_gedownload"
    VIEW_REPORT = "rapport_bekeken"
    VIEW_ACCESS_LOG = "toegangslog_bekeken"
    VIEW_GROUPS = "groepen_bekeken"  # the operator's page of group arrangements
    VIEW_API = "api_beschrijving_bekeken"  # the OpenAPI description of the dossier (operators only)
    CHANGE_GROUP = "groep_gewijzigd"  # a group arrangement created or changed there
    # the `oja pupil` commands on the server (oja/services/pupil_reads.py)
    FIND_PUPIL = "leerling_opgezocht"  # `oja pupil find`
    LIST_PUPILS = "leerlingenlijst_bekeken"  # `oja pupil list`
    EXPORT_PUPIL_SERVER = "inzage_geexporteerd"  # `oja pupil export`
    # through the gateway to Prefect (oja/dossier/gateway.py)
    STEP_STARTED = "stap_gestart"  # a run of a deployment created
    RUN_CHANGED = "run_gewijzigd"  # a run retried, cancelled or resumed
    PREFECT_CHANGED = "prefect_gewijzigd"  # an operator's change: a deployment, schedule, block, ...
    PREFECT_READ = "prefect_gelezen"  # logged only when refused
    # the family's own page (issue 26): the actor is the party (`ouder_1`, `leerling`) with the pupil's pseudonym
    INVITE_FAMILY = "gezin_uitgenodigd"  # a professional invited a parent or the pupil (or was refused)
    FAMILY_PASSWORD = "gezin_wachtwoord_ingesteld"  # the invitation's link used (or refused: used, expired)
    FAMILY_LOGIN = "gezin_ingelogd"
    FAMILY_LOGIN_FAILED = "gezin_inloggen_mislukt"
    FAMILY_LOCKED_OUT = "gezin_geblokkeerd"
    FAMILY_LOGOUT = "gezin_uitgelogd"
    FAMILY_VIEW = "gezin_casus_bekeken"  # the family's page of the case (or refused: no authority, closed by pupil)
    FAMILY_SWITCH = "gezin_ouders_inzage_gewijzigd"  # the pupil (16+) opened or closed the case to the parents
    FAMILY_PASSKEY_ADDED = "gezin_passkey_toegevoegd"  # a passkey added on the home page (or refused)
    FAMILY_PASSKEY_REMOVED = "gezin_passkey_verwijderd"
    # the plan page and the export (oja/dossier/pages_family_plan.py): the line names the party, never a person
    VIEW_FAMILY_PLAN = "gezin_plan_bekeken"
    EXPORT_FAMILY = "gezin_inzage_gedownload"
    FAMILY_OUTCOME = "gezin_afsluitvragen"  # the two outcome questions at closing seen, answered or refused
    VIEW_FAMILY_OPINION = "gezin_mening_bekeken"  # the family's page to give their view at a review
    GIVE_FAMILY_OPINION = "gezin_mening_gegeven"  # their view given or changed (or refused: closed, bad form)
    # the family's consent page (oja/dossier/pages_family_consent.py): viewed, a word sent to the consent step
    # (or refused: CSRF, no authority, not now), or Prefect not reached
    VIEW_FAMILY_CONSENT = "gezin_toestemming_bekeken"
    FAMILY_CONSENT = "gezin_toestemming_verstuurd"


class AccessOutcome(StrEnum):
    ALLOWED = "toegestaan"
    REFUSED = "geweigerd"
