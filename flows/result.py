"""What a lifecycle run shows on itself when it ends: what changed, what comes next and by when, and links.

A markdown artifact on the run (codes, references and dates only; never personal data), in Dutch:
the case's state and level after the step, the next deadline, the consents still missing and from whom,
the goals with the numbers the review form asks for, after a review the engine's recommendation with its
reasons, the referral's follow-up date, and links that open the next step's form with the case reference
filled in (the decision's form preset to the recommendation). A refusal gets one too, saying nothing was
recorded and what to correct.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from models.lifecycle import CaseState
from models.vocabulary import ReferralStatus
from models.words import action_word, level_word, parties, state_word
from notifications.render import long_date
from oja.deployments import DEPLOYMENTS
from oja.services.status import CaseStatus, ReferralLine, later_steps
from oja.services.worklist import Due

# a step by its name in the Deployments menu, without its number: "01 Signaal registreren" -> "Signaal registreren"
STEP_TITLES: dict[str, str] = {flow: name.split(" ", 1)[1] for flow, name in DEPLOYMENTS.items()}


def _day(value: object) -> str:
    if value is None:
        return "-"
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return f"{long_date(day, 'nl')} ({day.isoformat()})"


DUE_TEXT: dict[Due, str] = {
    Due.TRIAGE: "Triage",
    Due.PLAN: "Plan van aanpak",
    Due.CONSENT: "Toestemming compleet",
    Due.REVIEW: "Volgende evaluatie",
    Due.DECISION: "Besluit na de evaluatie",
    Due.REFERRAL: "Antwoord van het wijkteam op de verwijzing",
    Due.REFERRAL_CHECK: "Navragen bij het wijkteam of de leerling kan terugkeren",
    Due.PLANNED_END: "Geplande einddatum van het plan",
}


REFERRAL_STEPS = ("verwijzen-specialistische-zorg", "verwijzing-beantwoorden", "terugkeer-uit-specialistische-zorg")


def state_is_referral(status: CaseStatus) -> bool:
    return status.state == CaseState.ESCALATED.value


def _deadline(status: CaseStatus) -> str | None:
    """The next deadline in words: what, when, and whether it has passed (the worklist's own rules)."""
    row = status.row
    if status.state == CaseState.CLOSED:
        return "De casus is gesloten. Een nieuw signaal of heropenen start opnieuw met triage."
    if row is None:
        return None
    if row.due is None or row.due_on is None:
        if status.state == CaseState.CONSENTED:
            return "Toestemming is compleet: het arrangement kan starten."
        return None
    late = " — **te laat**" if row.overdue else ""
    return f"{DUE_TEXT[row.due]}: uiterlijk {_day(row.due_on)}{late}."


REFERRAL_STATUS_TEXT: dict[ReferralStatus, str] = {
    ReferralStatus.SENT: "verzonden, wacht op antwoord",
    ReferralStatus.ACCEPTED: "aanvaard",
    ReferralStatus.DECLINED: "afgewezen",
    ReferralStatus.RETURNED: "teruggekeerd naar school",
}


def _referral_lines(referral: ReferralLine) -> tuple[list[str], list[str]]:
    """The referral's row in the table and what it means next: who answers, or the check after an acceptance."""
    who = f"het wijkteam van {referral.municipality_code}"
    row = [f"| Verwijzing | **{REFERRAL_STATUS_TEXT[referral.status]}** ({who}) |"]
    team = f" ({', '.join(referral.district_team)})" if referral.district_team else ""
    if referral.status is ReferralStatus.SENT:
        return row, [
            f"- Het antwoord is aan {who}{team}: zij krijgen de verwijzing per e-mail en beantwoorden haar met"
            " **Antwoord wijkteam** (aanvaard of afgewezen)."
        ]
    if referral.status is ReferralStatus.ACCEPTED:
        check = f" uiterlijk {_day(referral.check_on)}" if referral.check_on else ""
        return row, [
            f"- De verwijzing is aanvaard: de leerling krijgt specialistische zorg. De regiehouder gaat{check}"
            f" navragen bij het wijkteam of de leerling kan terugkeren naar school (herinnering per e-mail).",
            "- Kan de leerling terug, zet dan de stap **Terugkeer** op een gekozen niveau; daarna volgt een nieuw"
            " plan.",
        ]
    if referral.status is ReferralStatus.DECLINED:
        return row, [f"- De verwijzing is afgewezen door {who}: de casus is terug op school en een nieuw plan volgt."]
    return row, []


def _start(status: CaseStatus) -> str | None:
    """When the arrangement starts: on the plan's start date or the first school day from it, so maybe later."""
    if status.activated_on is None or CaseState(status.state) is not CaseState.ACTIVE:
        return None
    if status.as_of is not None and status.activated_on > status.as_of:
        return (
            f"Het arrangement start op {_day(status.activated_on)}, niet vandaag: de startdatum van het plan, of de"
            " eerste schooldag daarna. De eerste evaluatie telt vanaf die dag."
        )
    return f"Het arrangement is gestart op {_day(status.activated_on)}."


def _not_needed(outcome: Mapping[str, object], status: CaseStatus) -> str | None:
    """A word on consent from a party the pupil's age does not ask for: kept as a note, not counted."""
    party = outcome.get("not_needed")
    if not party:
        return None
    who = "vanaf 16 jaar geeft de leerling alleen toestemming"
    if status.consent_needed and "leerling" not in status.consent_needed:
        who = "onder de 12 jaar geven de ouders met gezag toestemming"
    return (
        f"De toestemming van **{parties([party])}** is bij de leeftijd van de leerling niet nodig ({who}): als"
        " notitie vastgelegd, niet als toestemming; ze telt niet mee voor het plan."
    )


def summary(step: str, outcome: Mapping[str, object], status: CaseStatus) -> str:
    """One line for the run's own page (its state message): what changed, and where the whole result is."""
    start = ""
    if status.activated_on and status.as_of and status.activated_on > status.as_of and status.state == "actief":
        start = f" Het arrangement start op {status.activated_on.isoformat()}."
    if outcome.get("not_needed"):
        start += f" De toestemming van {parties([outcome['not_needed']])} is niet nodig en telt niet mee."
    return (
        f"{status.case_ref}: {action_word(str(outcome.get('action')))}, nu {state_word(status.state)}.{start}"
        f" Het resultaat met de volgende stap: tabblad Artifacts, '{result_title(step, status.case_ref)}'."
    )


def result_title(step: str, ref: str) -> str:
    """The description of a step's result artifact, as the run's Artifacts tab lists it."""
    return f"Resultaat {STEP_TITLES.get(step, step)} {ref}"


def result_markdown(step: str, outcome: Mapping[str, object], status: CaseStatus, links: Mapping[str, str]) -> str:
    """The run's result in Dutch: what changed, what comes next and by when, the next steps' forms."""
    title = STEP_TITLES.get(step, step)
    lines = [f"## {title}: {status.case_ref}", ""]
    if outcome.get("joined"):
        lines += ["Het signaal is toegevoegd aan de open casus van deze leerling (geen tweede intake).", ""]
    lines += [
        f"| Casus | {status.case_ref} |",
        "|---|---|",
        f"| Vastgelegd | {action_word(str(outcome.get('action')))} |",
        f"| Status nu | {state_word(status.state)} |",
        f"| Niveau | {level_word(status.level)} |",
        f"| School | {status.school_code} |",
        f"| Regiehouder | {status.regie_holder or '-'} |",
    ]
    if status.group_code:
        lines.append(f"| Groepsarrangement | {status.group_code} |")
    if status.planned_end_on:
        lines.append(f"| Geplande einddatum | {_day(status.planned_end_on)} |")
    referral_next: list[str] = []
    if status.referral is not None and (state_is_referral(status) or step in REFERRAL_STEPS):
        row, referral_next = _referral_lines(status.referral)
        lines += row
    rec = status.recommendation
    if rec is not None:
        level = f" naar niveau {rec.new_level}" if rec.new_level else ""
        lines += [
            "",
            f"### Aanbeveling: **{action_word(rec.kind.value)}**{level}",
            "",
            *[f"- {r}" for r in rec.reasons],
        ]
    lines += ["", "### Wat nu"]
    note = _not_needed(outcome, status)
    if note:
        lines.append(f"- {note}")
    start = _start(status)
    if start:
        lines.append(f"- {start}")
    deadline = _deadline(status)
    if deadline:
        lines.append(f"- {deadline}")
    lines += referral_next
    for flow, day in later_steps(status).items():  # offered from that day, not now: refused before it
        lines.append(f"- **{DEPLOYMENTS.get(flow, flow)}** kan vanaf {_day(day)}: dan start het arrangement.")
    state = CaseState(status.state)
    if state in (CaseState.PLAN_DRAFTED, CaseState.CONSENTED) and status.consent_needed:
        if status.consent_missing:
            lines.append(f"- Toestemming nog nodig van: **{', '.join(status.consent_missing)}**.")
        lines.append(f"- Toestemming nodig van (bij de leeftijd van vandaag): {', '.join(status.consent_needed)}.")
    if state is CaseState.REVIEWED:
        lines.append(
            "- Neem het besluit met **Besluit nemen** (de link hieronder): het formulier staat op de aanbeveling,"
            " versturen neemt die over. Een ander besluit vraagt een reden om af te wijken."
        )
        lines.append("- Is er op die dag nog geen besluit, dan krijgt de regiehouder een herinnering per e-mail.")
    if status.goals and state in (CaseState.PLAN_DRAFTED, CaseState.CONSENTED, CaseState.ACTIVE):
        lines += [
            "",
            "Doelen (de nummers vraagt het formulier Evaluatie vastleggen, bij GAS per doel):",
            "",
            "| Doel nr. | Domein | Gemeten met | Beginsituatie | Streefwaarde |",
            "|---|---|---|---|---|",
            *[f"| {g.number} | {g.domain} | {g.measure} | {g.baseline:g} | {g.target:g} |" for g in status.goals],
        ]
    if links:
        lines += ["", "### Volgende stap", ""]
        lines += [f"- [{STEP_TITLES.get(flow, flow)}]({url})" for flow, url in links.items()]
    return "\n".join(lines)


def refusal_markdown(step: str, message: str, case_ref: str | None) -> str:
    """A refused step: what was wrong, and that nothing was recorded."""
    title = STEP_TITLES.get(step, step)
    lines = [f"## {title}: niet vastgelegd" + (f" ({case_ref})" if case_ref else ""), ""]
    lines += [f"- {line}" for line in message.splitlines() if line.strip()]
    lines += ["", "Er is niets gewijzigd. Verbeter het formulier en start de stap opnieuw."]
    return "\n".join(lines)
