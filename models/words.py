"""The Dutch words for the codes a person reads: a case's state, an action, a level, a consent party.

The engine stores codes (`wacht_op_triage`, `arrangement_starten`, `ouder_1`); a result on a run, a refusal
and the dossier's timeline show these words instead. Plain Python, no imports from the rest of the engine
(`models.errors` uses it), so each table is keyed by the code's value; `tests/unit/test_words.py` holds that
every state, action and audit action has its word.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# models.lifecycle.CaseState
STATES: dict[str, str] = {
    "wacht_op_triage": "wacht op triage",
    "planvorming": "plan wordt opgesteld",
    "plan_opgesteld": "plan opgesteld, toestemming gevraagd",
    "toestemming_compleet": "toestemming compleet, klaar om te starten",
    "actief": "arrangement loopt",
    "geevalueerd": "geëvalueerd, besluit nodig",
    "geescaleerd": "verwezen naar specialistische zorg",
    "gesloten": "gesloten",
}

# models.lifecycle.AuditAction (every Action too), and the names the use cases check access by
ACTIONS: dict[str, str] = {
    "signaal_registreren": "signaal registreren",
    "signaal_toevoegen": "signaal toevoegen aan de open casus",
    "triage_basis": "triage: basisondersteuning van de school",
    "triage_oja": "triage: arrangement in school",
    "triage_specialistisch": "triage: verwijzen naar specialistische zorg",
    "triage_geen_actie": "triage: geen actie",
    "plan_opstellen": "plan opstellen",
    "toestemming_vastleggen": "toestemming vastleggen",
    "toestemming_afronden": "toestemming compleet",
    "toestemming_intrekken": "toestemming intrekken (het arrangement pauzeert)",
    "toestemming_niet_nodig": "notitie: toestemming niet nodig bij deze leeftijd",
    "arrangement_starten": "arrangement starten",
    "evaluatie_vastleggen": "evaluatie vastleggen",
    "meting_vastleggen": "meting vastleggen",
    "voortzetten": "voortzetten",
    "opschalen": "opschalen",
    "afschalen": "afschalen",
    "afsluiten": "afsluiten",
    "verwijzen": "verwijzen naar specialistische zorg",
    "terugkeren": "terugkeren naar school",
    "heropenen": "heropenen",
    "verwijzing_aanvaard": "verwijzing aanvaard",
    "toegang_geweigerd": "toegang geweigerd",
    "termijn_verschoven": "termijn verschoven",
    "dossier_vernietigd": "dossier vernietigd",
    "vernietiging_verzocht": "verzoek om vernietiging",
    "vernietiging_toegewezen": "vernietiging toegewezen",
    "vernietiging_afgewezen": "vernietiging afgewezen",
    "doelen_beschreven": "doelen in woorden beschreven",
    # the actions `load_case(..., action=...)` checks access for
    "register_signal": "signaal registreren",
    "triage": "triage",
    "draft_plan": "plan opstellen",
    "record_consent": "toestemming vastleggen",
    "activate": "arrangement starten",
    "record_review": "evaluatie vastleggen",
    "record_measurement": "meting vastleggen",
    "recommend": "aanbeveling geven",
    "decide": "besluit nemen",
    "refer": "verwijzen naar specialistische zorg",
    "respond_to_referral": "verwijzing beantwoorden",
    "return_from_specialised": "terugkeren naar school",
    "reopen": "heropenen",
    "request_erasure": "verzoek om vernietiging registreren",
    "decide_erasure": "besluit over vernietiging",
    "my_cases": "mijn casussen bekijken",
    "case_view": "casus bekijken",
    "pupil_view": "leerling bekijken",
    "describe_goals": "doelen in woorden beschrijven",
    "invite_family": "ouders of leerling uitnodigen voor hun eigen pagina",
    "export_pupil": "inzage downloaden",
}

# the intensity ladder (docs/domain.md)
LEVELS: dict[int, str] = {
    0: "basisondersteuning van de school",
    1: "licht arrangement of groep in school",
    2: "individueel arrangement in school",
    3: "intensief arrangement in school",
    4: "specialistische zorg buiten school",
}

# models.vocabulary.ConsentParty
PARTIES: dict[str, str] = {"leerling": "leerling", "ouder_1": "ouder 1", "ouder_2": "ouder 2"}

# models.gas.INFORMANTS: whose GAS scores a T-score is of
INFORMANTS: dict[str, str] = {"professional": "professional", "pupil": "leerling", "parents": "ouders"}


def state_word(code: str) -> str:
    return STATES.get(code, code.replace("_", " "))


def action_word(code: str) -> str:
    return ACTIONS.get(code, code.replace("_", " "))


def level_word(level: int) -> str:
    """`2 (individueel arrangement in school)`: the number the forms ask for, and what it means."""
    return f"{level} ({LEVELS[level]})" if level in LEVELS else str(level)


def parties(codes: object) -> str:
    """`ouder 1, leerling` from codes (a sequence, or one string with commas)."""
    items = codes.split(",") if isinstance(codes, str) else list(codes) if isinstance(codes, (list, tuple)) else []
    return ", ".join(PARTIES.get(str(c).strip(), str(c).strip().replace("_", " ")) for c in items if str(c).strip())


_REASONS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"\b(leerling|ouder_[12])=granted\b"), r"\1: toestemming gegeven"),
    (re.compile(r"\b(leerling|ouder_[12])=refused\b"), r"\1: toestemming geweigerd"),
    (re.compile(r"\bcomplete: ([a-z_0-9,]+)"), lambda m: f"compleet: {parties(m.group(1))}"),
    (re.compile(r"\bplan v(\d+)\b"), r"plan versie \1"),
    (re.compile(r"\bsource=([a-z_]+);urgency=([a-z_]+)"), r"bron \1, urgentie \2"),
    (re.compile(r"^level (\d)\b"), r"niveau \1"),
    (re.compile(r"^referral\b"), "verwijzing"),
    (re.compile(r"^safety$"), "zorg over veiligheid"),
    (re.compile(r"^goal (\d+)$"), r"doel \1"),
)


def reason_words(reason: str | None) -> str:
    """An audit record's reason as a person reads it: `ouder_1=granted plan v1` is `ouder 1: toestemming gegeven,
    plan versie 1`; the codes in it as words (`ouder_1` is `ouder 1`). Earlier records read the same way."""
    text = reason or ""
    head = re.match(r"^([a-z_]+): ", text)  # a refusal: `draft_plan: alleen casussen van school 10HV`
    if head and head.group(1) in ACTIONS:
        text = f"{action_word(head.group(1))}: {text[head.end() :]}"
    for pattern, words in _REASONS:
        text = pattern.sub(words, text)
    text = re.sub(r"(: toestemming (?:gegeven|geweigerd)) (plan versie)", r"\1, \2", text)
    return re.sub(r"\b(ouder)_([12])\b", r"\1 \2", text).replace("_", " ")
