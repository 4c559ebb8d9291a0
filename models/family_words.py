"""The words a pupil and the parents read on their own page (issue 26), in Dutch (about B1: short, common words)
and in English. Plain Python, keyed by the stored codes; `tests/unit/test_family_words.py` holds that every code of
the enums named below has its words in both languages.

The professionals' words (`models.words`) name a state or an action as the team speaks of it ("triage", "regie");
these say what it means for the family.
"""

from __future__ import annotations

LANGUAGES = ("nl", "en")

# models.lifecycle.CaseState
STATES: dict[str, dict[str, str]] = {
    "nl": {
        "wacht_op_triage": "De school bekijkt wat nodig is.",
        "planvorming": "Het plan wordt gemaakt.",
        "plan_opgesteld": "Het plan is klaar. We wachten op toestemming.",
        "toestemming_compleet": "Iedereen heeft toestemming gegeven. De hulp kan beginnen.",
        "actief": "De hulp loopt.",
        "geevalueerd": "Het plan is besproken. Er komt een besluit over hoe het verder gaat.",
        "geescaleerd": "De hulp gaat verder buiten school, bij gespecialiseerde zorg.",
        "gesloten": "De hulp is gestopt.",
    },
    "en": {
        "wacht_op_triage": "The school is looking at what is needed.",
        "planvorming": "The plan is being made.",
        "plan_opgesteld": "The plan is ready. We are waiting for consent.",
        "toestemming_compleet": "Everyone has given consent. The help can start.",
        "actief": "The help is going on.",
        "geevalueerd": "The plan has been reviewed. A decision on what comes next will follow.",
        "geescaleerd": "The help goes on outside school, with specialised care.",
        "gesloten": "The help has ended.",
    },
}

# the intensity ladder (docs/domain.md)
LEVELS: dict[str, dict[int, str]] = {
    "nl": {
        0: "de gewone hulp van de school",
        1: "lichte hulp op school, soms in een groepje",
        2: "hulp op school, alleen voor de leerling",
        3: "veel hulp op school, soms van meer hulpverleners",
        4: "gespecialiseerde zorg buiten school",
    },
    "en": {
        0: "the school's usual support",
        1: "light help at school, sometimes in a small group",
        2: "help at school, just for the pupil",
        3: "a lot of help at school, sometimes from more than one care worker",
        4: "specialised care outside school",
    },
}

# models.vocabulary.Domain
DOMAINS: dict[str, dict[str, str]] = {
    "nl": {
        "leren": "leren",
        "gedrag": "gedrag",
        "emotioneel": "gevoelens en zorgen",
        "thuissituatie": "thuis",
        "verzuim": "naar school gaan",
        "veiligheid": "veiligheid",
    },
    "en": {
        "leren": "learning",
        "gedrag": "behaviour",
        "emotioneel": "feelings and worries",
        "thuissituatie": "home",
        "verzuim": "going to school",
        "veiligheid": "safety",
    },
}

# models.vocabulary.Setting
SETTINGS: dict[str, dict[str, str]] = {
    "nl": {"individueel": "alleen met de leerling", "groep": "in een groepje met andere leerlingen"},
    "en": {"individueel": "one to one with the pupil", "groep": "in a small group with other pupils"},
}

# models.vocabulary.Role: the roles that can hold regie or deliver help
ROLES: dict[str, dict[str, str]] = {
    "nl": {
        "zorgcoordinator": "zorgcoördinator van de school (regelt de extra hulp op school)",
        "jeugdhulpverlener": "jeugdhulpverlener (geeft de hulp op school)",
        "schoolmaatschappelijk_werker": "schoolmaatschappelijk werker (helpt leerlingen en ouders op school)",
        "wijkteam": "medewerker van het wijkteam van de gemeente",
        "teamleider": "teamleider",
        "manager": "manager",
        "privacyfunctionaris": "privacyfunctionaris",
        "beheerder": "beheerder",
    },
    "en": {
        "zorgcoordinator": "the school's care coordinator (arranges extra help at school)",
        "jeugdhulpverlener": "youth care worker (gives the help at school)",
        "schoolmaatschappelijk_werker": "school social worker (helps pupils and parents at school)",
        "wijkteam": "member of the municipality's district team",
        "teamleider": "team lead",
        "manager": "manager",
        "privacyfunctionaris": "privacy officer",
        "beheerder": "operator",
    },
}

# models.vocabulary.DecisionKind and OtherDecision
DECISIONS: dict[str, dict[str, str]] = {
    "nl": {
        "voortzetten": "De hulp gaat door zoals gepland.",
        "opschalen": "Er komt meer hulp.",
        "afschalen": "Er komt minder hulp.",
        "afsluiten": "De hulp stopt.",
        "specialistische_zorg": "De leerling krijgt gespecialiseerde zorg buiten school.",
        "terugkeer": "De hulp gaat weer verder op school.",
    },
    "en": {
        "voortzetten": "The help goes on as planned.",
        "opschalen": "There will be more help.",
        "afschalen": "There will be less help.",
        "afsluiten": "The help stops.",
        "specialistische_zorg": "The pupil gets specialised care outside school.",
        "terugkeer": "The help continues at school again.",
    },
}

# models.vocabulary.EndReason, ChangeReason, ReturnReason, NoActionReason: why
REASONS: dict[str, dict[str, str]] = {
    "nl": {
        "volgens_plan": "de doelen zijn gehaald",
        "voortijdig_in_overleg": "we hebben samen afgesproken eerder te stoppen",
        "voortijdig_door_client": "de leerling of de ouders wilden stoppen",
        "voortijdig_door_aanbieder": "de hulpverlener is gestopt",
        "initiatief_gemeente": "de gemeente heeft dit besloten",
        "naar_andere_aanbieder": "een andere hulpverlener gaat verder",
        "naar_ander_domein": "de hulp gaat verder via een andere regeling",
        "naar_basisondersteuning": "de gewone hulp van de school is genoeg",
        "herbeoordeling_verlenging": "er is meer hulp nodig dan gedacht",
        "herbeoordeling_verkorting": "er is minder hulp nodig",
        "wisseling_aanbieder": "een andere hulpverlener neemt het over",
        "verwijzing_afgewezen": "de gemeente vond gespecialiseerde zorg niet nodig",
        "geen_zorgbehoefte": "er is geen extra hulp nodig",
        "al_hulp_elders": "de leerling krijgt al hulp ergens anders",
        "ouders_zien_af": "de ouders wilden geen hulp",
        "verhuisd": "de leerling is verhuisd",
        "anders": "een andere reden (vraag het aan de school)",
    },
    "en": {
        "volgens_plan": "the goals have been reached",
        "voortijdig_in_overleg": "we agreed together to stop early",
        "voortijdig_door_client": "the pupil or the parents wanted to stop",
        "voortijdig_door_aanbieder": "the care worker stopped",
        "initiatief_gemeente": "the municipality decided this",
        "naar_andere_aanbieder": "another care provider takes over",
        "naar_ander_domein": "the help goes on under another scheme",
        "naar_basisondersteuning": "the school's usual support is enough",
        "herbeoordeling_verlenging": "more help is needed than expected",
        "herbeoordeling_verkorting": "less help is needed",
        "wisseling_aanbieder": "another care provider takes over",
        "verwijzing_afgewezen": "the municipality found specialised care not needed",
        "geen_zorgbehoefte": "no extra help is needed",
        "al_hulp_elders": "the pupil already gets help elsewhere",
        "ouders_zien_af": "the parents did not want help",
        "verhuisd": "the pupil has moved",
        "anders": "another reason (ask the school)",
    },
}

# models.decisions.RecommendationRule: why the computer's advice said what it said
RULES: dict[str, dict[str, str]] = {
    "nl": {
        "veiligheid": "er waren zorgen over de veiligheid",
        "uitvoering": "de hulp kon niet gegeven worden zoals afgesproken",
        "vierpunt_onder": "de laatste metingen lagen onder wat we hoopten",
        "vierpunt_boven": "de laatste metingen lagen boven wat we hoopten",
        "geen_scores": "er waren nog geen scores van de doelen",
        "eerste_evaluatie": "het was nog te vroeg om te zien hoe het gaat",
        "op_koers": "het gaat zoals gehoopt of beter",
        "geen_vooruitgang": "het gaat nog niet beter",
        "gedeeltelijk": "het gaat op een deel van de doelen beter",
    },
    "en": {
        "veiligheid": "there were worries about safety",
        "uitvoering": "the help could not be given as agreed",
        "vierpunt_onder": "the latest measurements were below what we hoped",
        "vierpunt_boven": "the latest measurements were above what we hoped",
        "geen_scores": "there were no scores for the goals yet",
        "eerste_evaluatie": "it was too early to see how it is going",
        "op_koers": "it is going as hoped, or better",
        "geen_vooruitgang": "it is not going better yet",
        "gedeeltelijk": "some of the goals are going better",
    },
}

# models.vocabulary.OverrideReason: why the team chose something else than the advice
OVERRIDES: dict[str, dict[str, str]] = {
    "nl": {
        "professioneel_oordeel": "de hulpverleners vonden op grond van hun ervaring iets anders beter",
        "nieuwe_informatie": "er was nieuwe informatie",
        "wens_leerling_ouders": "de leerling of de ouders wilden het anders",
        "capaciteit": "er was op dat moment geen plek of tijd voor",
        "gegevens_onvolledig": "niet alle gegevens waren bekend",
    },
    "en": {
        "professioneel_oordeel": "the care workers, from their experience, thought something else was better",
        "nieuwe_informatie": "there was new information",
        "wens_leerling_ouders": "the pupil or the parents wanted it differently",
        "capaciteit": "there was no place or time for it at that moment",
        "gegevens_onvolledig": "not all information was known",
    },
}


# the GAS scale on the family's view (models.family_opinion): -2..+2 and "weet ik niet", in plain words
SCALE: dict[str, dict[str, str]] = {
    "nl": {
        "-2": "Veel slechter dan we hoopten",
        "-1": "Iets slechter dan we hoopten",
        "0": "Zoals we hoopten",
        "1": "Iets beter dan we hoopten",
        "2": "Veel beter dan we hoopten",
        "weet_ik_niet": "Weet ik niet",
    },
    "en": {
        "-2": "Much worse than we hoped",
        "-1": "A little worse than we hoped",
        "0": "As we hoped",
        "1": "A little better than we hoped",
        "2": "Much better than we hoped",
        "weet_ik_niet": "I don't know",
    },
}
SCALE_VALUES = ("2", "1", "0", "-1", "-2", "weet_ik_niet")  # the order on the page: best first


def word(table: dict[str, dict[str, str]], language: str, code: str | None) -> str:
    """The words for a code; an unknown one read as its code with spaces (never an error on the family's page)."""
    if not code:
        return ""
    return table.get(language, table["nl"]).get(code, code.replace("_", " "))


def level(language: str, number: int) -> str:
    return LEVELS.get(language, LEVELS["nl"]).get(number, str(number))


def party(language: str, viewer: str, party_code: str, parent_name: str | None = None) -> str:
    """Who a consent party is, seen from the one reading: "u", "de andere ouder", "uw kind"; a pupil reads their
    parents by name ("uw ouder Karin de Vries")."""
    nl = language != "en"
    if party_code == viewer:
        return "u" if nl else "you"
    if party_code == "leerling":
        return "uw kind" if nl else "your child"
    if viewer == "leerling":
        if parent_name:
            return f"uw ouder {parent_name}" if nl else f"your parent {parent_name}"
        return ("uw ouder" if nl else "your parent") + f" ({party_code[-1]})"
    return "de andere ouder" if nl else "the other parent"


class Words:
    """The words of one language for a template: `t.state(code)`, `t.level(2)`, `t.party(viewer, code, name)`."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "nl"

    def state(self, code: str | None) -> str:
        return word(STATES, self.language, code)

    def level(self, number: int) -> str:
        return level(self.language, number)

    def domain(self, code: str) -> str:
        return word(DOMAINS, self.language, code)

    def setting(self, code: str) -> str:
        return word(SETTINGS, self.language, code)

    def role(self, code: str) -> str:
        return word(ROLES, self.language, code)

    def decision(self, code: str) -> str:
        return word(DECISIONS, self.language, code)

    def reason(self, code: str | None) -> str:
        return word(REASONS, self.language, code)

    def rule(self, code: str | None) -> str:
        return word(RULES, self.language, code)

    def override(self, code: str | None) -> str:
        return word(OVERRIDES, self.language, code)

    def party(self, viewer: str, code: str, parent_name: str | None = None) -> str:
        return party(self.language, viewer, code, parent_name)

    def scale(self, value: str) -> str:
        return word(SCALE, self.language, value)

    def hours(self, value: float) -> str:
        """`2`, `1,5` (nl) or `1.5` (en): hours as people write them."""
        text = f"{value:g}"
        return text.replace(".", ",") if self.language == "nl" else text
