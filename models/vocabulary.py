"""Code lists. Values are Dutch codes, because they are what a coordinator picks in the Prefect UI."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    COORDINATOR = "zorgcoordinator"  # school care coordinator; registers signals, often holds regie
    YOUTH_WORKER = "jeugdhulpverlener"  # from a provider; delivers the arrangement in school
    SCHOOL_SOCIAL_WORKER = "schoolmaatschappelijk_werker"
    DISTRICT_TEAM = "wijkteam"  # the municipality's gate to specialised care
    TEAM_LEAD = "teamleider"
    MANAGER = "manager"


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
    CONTINUE = "voortzetten"
    SCALE_UP = "opschalen"
    SCALE_DOWN = "afschalen"
    CLOSE = "afsluiten"
    ESCALATE = "specialistische_zorg"


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
