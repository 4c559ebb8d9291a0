"""What an erasure step (13, 14) shows on its run when it ends: what changed and what comes next, in Dutch.

The same kind of result as every lifecycle step (`flows.result`), for a request that refers to the pupil by
pseudonym only: the request and pupil references, codes and dates, never personal data.
"""

from __future__ import annotations

from collections.abc import Mapping

from flows.result import STEP_TITLES, _day
from models.vocabulary import ErasureOutcome
from models.words import PARTIES

REQUEST_STEP = "verzoek-vernietiging-registreren"
DECIDE_STEP = "verzoek-vernietiging-beslissen"


def erasure_markdown(step: str, result: Mapping[str, object], links: Mapping[str, str]) -> str:
    """The request after the step: who asked, by when it is decided, the decision, and what comes next."""
    ref = str(result["request_ref"])
    outcome = result.get("outcome")
    lines = [f"## {STEP_TITLES.get(step, step)}: {ref}", ""]
    lines += [
        f"| Verzoek | {ref} |",
        "|---|---|",
        f"| Leerling | {result.get('pupil_ref')} |",
        f"| Gevraagd door | {PARTIES.get(str(result.get('requested_by')), result.get('requested_by') or '-')} |",
        f"| Beslissen uiterlijk | {_day(result.get('due_on'))} |",
        f"| Besluit | {outcome or 'nog te nemen'} |",
    ]
    reason = result.get("refusal_reason")
    if reason:
        lines.append(f"| Reden van afwijzing | {str(reason).replace('_', ' ')} |")
    lines += ["", "### Wat nu"]
    if outcome is None:
        lines += [
            f"- Beslis over het verzoek uiterlijk {_day(result.get('due_on'))} met **Besluit vernietiging**"
            " (de link hieronder): toewijzen, of afwijzen met een reden uit de wet.",
            "- Voor die dag krijgen de zorgcoördinatoren van de school een herinnering per e-mail; is de termijn"
            " voorbij, dan ook de teamleiders.",
        ]
    elif outcome == ErasureOutcome.GRANTED.value:
        lines += [
            "- Het dossier van de leerling is vernietigd: naam, BSN, geboortedatum, ouders en doelteksten zijn"
            " gewist. Alleen de referenties en het auditspoor blijven.",
            "- Laat de verzoeker schriftelijk weten dat het dossier is vernietigd. Er is geen stap meer mogelijk.",
        ]
    else:
        lines += [
            "- Het dossier blijft bewaard tot het einde van de bewaartermijn.",
            "- Laat de verzoeker schriftelijk weten dat het verzoek is afgewezen, met de reden.",
        ]
    if links:
        lines += ["", "### Volgende stap", ""]
        lines += [f"- [{STEP_TITLES.get(flow, flow)}]({url})" for flow, url in links.items()]
    return "\n".join(lines)


def erasure_summary(result: Mapping[str, object]) -> str:
    """The run's state message: what changed, and where the result is."""
    ref = str(result["request_ref"])
    outcome = result.get("outcome")
    if outcome is None:
        due = result.get("due_on")
        what = f"verzoek om vernietiging geregistreerd, te beslissen uiterlijk {due}"
    else:
        what = f"verzoek om vernietiging {outcome}"
    return f"{ref}: {what}. Het resultaat met de volgende stap: tabblad Artifacts, '{erasure_title(ref)}'."


def erasure_title(ref: str) -> str:
    return f"Resultaat verzoek vernietiging {ref}"
