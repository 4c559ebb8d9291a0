"""The words of the two outcome questions at closing (`models.closing`), in plain Dutch (B1) and English, for the
pupil ("je") and a parent ("u"). Keyed by the stored codes; `tests/unit/test_closing_rules.py` holds that every
code has its words in both languages. The choice of wording and scale, and its source: docs/domain.md."""

from __future__ import annotations

from models.closing import SATISFACTION_FIELD, WITHOUT_HELP_FIELD, Satisfaction, WithoutHelp

QUESTIONS: dict[str, dict[str, dict[str, str]]] = {
    "nl": {
        "ouder": {
            SATISFACTION_FIELD: "Hoe tevreden bent u over de hulp en over wat die heeft opgeleverd?",
            WITHOUT_HELP_FIELD: "Kunnen u en uw kind nu verder zonder deze hulp?",
        },
        "leerling": {
            SATISFACTION_FIELD: "Hoe tevreden ben je over de hulp en over wat die heeft opgeleverd?",
            WITHOUT_HELP_FIELD: "Kun je nu verder zonder deze hulp?",
        },
    },
    "en": {
        "ouder": {
            SATISFACTION_FIELD: "How satisfied are you with the help and with what it achieved?",
            WITHOUT_HELP_FIELD: "Can you and your child now go on without this help?",
        },
        "leerling": {
            SATISFACTION_FIELD: "How satisfied are you with the help and with what it achieved?",
            WITHOUT_HELP_FIELD: "Can you now go on without this help?",
        },
    },
}

ANSWERS: dict[str, dict[str, dict[str, str]]] = {
    "nl": {
        SATISFACTION_FIELD: {
            Satisfaction.VERY_SATISFIED: "Heel tevreden",
            Satisfaction.SATISFIED: "Tevreden",
            Satisfaction.NEUTRAL: "Niet tevreden en niet ontevreden",
            Satisfaction.DISSATISFIED: "Ontevreden",
            Satisfaction.VERY_DISSATISFIED: "Heel ontevreden",
        },
        WITHOUT_HELP_FIELD: {
            WithoutHelp.YES: "Ja",
            WithoutHelp.PARTLY: "Voor een deel",
            WithoutHelp.NO: "Nee, we hebben nog hulp nodig",
            WithoutHelp.UNSURE: "Dat weet ik nog niet",
        },
    },
    "en": {
        SATISFACTION_FIELD: {
            Satisfaction.VERY_SATISFIED: "Very satisfied",
            Satisfaction.SATISFIED: "Satisfied",
            Satisfaction.NEUTRAL: "Neither satisfied nor dissatisfied",
            Satisfaction.DISSATISFIED: "Dissatisfied",
            Satisfaction.VERY_DISSATISFIED: "Very dissatisfied",
        },
        WITHOUT_HELP_FIELD: {
            WithoutHelp.YES: "Yes",
            WithoutHelp.PARTLY: "Partly",
            WithoutHelp.NO: "No, we still need help",
            WithoutHelp.UNSURE: "I don't know yet",
        },
    },
}

# what a wrong field says on the English page (the Dutch page shows the rule of `models.closing` itself)
ERRORS_EN = {
    SATISFACTION_FIELD: "Choose how satisfied you are.",
    WITHOUT_HELP_FIELD: "Choose whether you can go on without this help.",
}


def reader(party: str) -> str:
    """`leerling` (je) or `ouder` (u)."""
    return "leerling" if party == "leerling" else "ouder"


def question(taal: str, party: str, field: str) -> str:
    return QUESTIONS[taal][reader(party)][field]


def choices(taal: str, field: str) -> list[tuple[str, str]]:
    """(code, words) of a question's answers, in the scale's order."""
    return [(str(code), words) for code, words in ANSWERS[taal][field].items()]
