"""Scheduled work that does not happen is loud: Prefect automations tell the operators.

A failed or crashed sweep alerts the operators from the run itself (`flows/sweep.py`). Two things
cannot be told by a run, because there is no run, so the Prefect *server* watches for them and sends
a notification through a notification block holding the operators' Apprise URL (`OJA_OPERATOR_URLS`),
without any worker:

- `Beheerders waarschuwen: herinneringsronde te laat` (reactive): a run of the sweep or dispatch deployment
  became Late, so it was scheduled but no worker picked it up;
- `Beheerders waarschuwen: geen herinneringsronde voltooid` (proactive): no run of the daily sweep completed
  in 26 hours, whatever the reason: no worker, a broken scheduler that never created the run, a paused
  deployment or schedule, or a sweep that fails every day. It keeps telling every 26 hours until a sweep
  completes.

The UI shows each by its name and its notification as `Send a e-mail aan beheerders using beheerders-e-mail-1`
(the block type and the block, `oja/adapters/operator_blocks.py`). Installing replaces the alerts of an
earlier version (`FORMER_NAMES`, and their `oja-operator-N` Slack-webhook blocks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Coroutine
from typing import Any, TypeVar
from uuid import UUID

from prefect.automations import Automation, EventTrigger, Posture, SendNotification
from prefect.blocks.notifications import SlackWebhook
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.exceptions import ObjectNotFound

from models.errors import InvalidInput
from oja.adapters.operator_blocks import OperatorMail, OperatorMessage, is_mail
from oja.config import Settings
from oja.deployments import deployment_name

SWEEP_FLOW = "dagelijkse-herinneringen"
WATCHED = (SWEEP_FLOW, "berichten-versturen")
AUTOMATION_NAME = "Beheerders waarschuwen: herinneringsronde te laat"
SILENT_AUTOMATION_NAME = "Beheerders waarschuwen: geen herinneringsronde voltooid"
SILENCE = dt.timedelta(hours=26)  # a daily sweep plus two hours of slack
BLOCK_PREFIX = "beheerders"  # beheerders-e-mail-1, beheerders-bericht-2: one block per operator URL
# what an earlier version installed (before issue 25): removed when the alerts are installed
FORMER_NAMES = ("oja-herinneringsronde-te-laat", "oja-herinneringsronde-stil")
FORMER_BLOCK_PREFIX = "oja-operator"  # Slack-webhook blocks, oja-operator-0, -1, ...

_T = TypeVar("_T")


def _done(result: _T | Coroutine[Any, Any, _T]) -> _T:
    """The result of a Prefect call that dispatches to its async twin inside an event loop (`async_dispatch`):
    called outside one, as here, it is the result itself."""
    if isinstance(result, Coroutine):
        result.close()
        raise RuntimeError("the operator alerts are installed outside an event loop")
    return result


def _deployment_ids(flow_names: tuple[str, ...]) -> list[str]:
    """Every deployment of these flows (by flow, not by name: one left by a rename is watched too)."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        deployments = client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=list(flow_names))))
    return [str(d.id) for d in deployments]


def _operator_blocks(settings: Settings) -> list[UUID]:
    """One notification block per operator URL (saved once, shared by every automation)."""
    import apprise

    block_ids: list[UUID] = []
    for n, url in enumerate(settings.operator_urls, start=1):
        if not apprise.Apprise().add(url):
            raise InvalidInput("operator_urls", "moet een geldige Apprise-URL zijn")
        # both hand their URL to Apprise as it is; the block's type and name say what it sends
        block = OperatorMail(url=url) if is_mail(url) else OperatorMessage(url=url)
        kind = "e-mail" if is_mail(url) else "bericht"
        block_ids.append(_done(block.save(f"{BLOCK_PREFIX}-{kind}-{n}", overwrite=True)))
    return block_ids


def _remove_former(client: SyncPrefectClient) -> None:
    """The alerts of an earlier version and their Slack-webhook blocks: the new ones replace them."""
    for name in FORMER_NAMES:
        for existing in client.read_automations_by_name(name=name):
            client.delete_automation(existing.id)
    slug = SlackWebhook.get_block_type_slug()
    for n in range(10):
        try:
            old = client.read_block_document_by_name(f"{FORMER_BLOCK_PREFIX}-{n}", block_type_slug=slug)
        except ObjectNotFound:
            break
        client.delete_block_document(old.id)


def _replace(automation: Automation) -> Automation:
    """Create the automation, replacing any of the same name: installing twice never doubles an alert."""
    with get_client(sync_client=True) as client:
        _remove_former(client)
        for existing in client.read_automations_by_name(name=automation.name):
            client.delete_automation(existing.id)
    return _done(automation.create())


def _hours(within: dt.timedelta) -> str:
    hours = within.total_seconds() / 3600
    return f"{hours:g} uur" if hours >= 1 else f"{within.total_seconds():g} seconden"


def _install(
    settings: Settings,
    flows: tuple[str, ...],
    name: str,
    description: str,
    trigger: EventTrigger,
    subject: str,
    body: str,
) -> Automation | None:
    """Create (or replace) one alert on the deployments of `flows`, one notification per operator URL.

    None when no operator URL is configured or nothing is deployed.
    """
    if not settings.operator_urls:
        return None
    ids = _deployment_ids(flows)
    if not ids:
        return None
    trigger.match_related = {"prefect.resource.id": [f"prefect.deployment.{i}" for i in ids]}
    actions = [
        SendNotification(block_document_id=block_id, subject=subject, body=body)
        for block_id in _operator_blocks(settings)
    ]
    return _replace(Automation(name=name, description=description, trigger=trigger, actions=actions))


def late_sweep_automation(settings: Settings) -> Automation | None:
    """The reactive alert: a run of the sweep or the dispatch became Late (no worker picked it up)."""
    return _install(
        settings,
        WATCHED,
        AUTOMATION_NAME,
        "Waarschuwt de beheerders per e-mail (OJA_OPERATOR_URLS) wanneer de herinneringsronde of het versturen "
        "niet op tijd start.",
        EventTrigger(expect={"prefect.flow-run.Late"}, posture=Posture.Reactive, threshold=1),
        subject="OJA: {{ flow_run.name }} is te laat",
        body=(
            "De geplande run {{ flow_run.name }} van {{ deployment.name }} is niet op tijd gestart "
            "(status Late): draait er een worker op de work pool? Herinneringen blijven staan tot de "
            "ronde gedraaid heeft."
        ),
    )


def silent_sweep_automation(settings: Settings, within: dt.timedelta = SILENCE) -> Automation | None:
    """The proactive alert: no run of the daily sweep completed `within` (26 hours).

    The window starts when the automation is installed (`oja start` installs it at every start), and
    the alert repeats every window until a sweep completes.
    """
    silence = _hours(within)
    return _install(
        settings,
        (SWEEP_FLOW,),
        SILENT_AUTOMATION_NAME,
        f"Waarschuwt de beheerders per e-mail (OJA_OPERATOR_URLS) wanneer {silence} lang geen herinneringsronde "
        "voltooid is.",
        EventTrigger(expect={"prefect.flow-run.Completed"}, posture=Posture.Proactive, threshold=1, within=within),
        subject=f"OJA: al {silence} geen herinneringsronde voltooid",
        body=(
            f"In de laatste {silence} is geen run van de dagelijkse herinneringsronde (dagelijkse-herinneringen) "
            "voltooid. Er gaan dus geen herinneringen uit. Kijk in de Prefect UI: draait er een worker op "
            "de work pool 'oja', staat de deployment of haar schema op pauze, zijn er runs Late of Failed, "
            f"en maakt de scheduler nog runs aan (Deployments -> {deployment_name(SWEEP_FLOW)} -> Upcoming)? "
            f"Dit bericht komt elke {silence} terug tot een ronde voltooid is."
        ),
    )


def install_alerts(settings: Settings) -> list[Automation]:
    """Both alerts, as `oja alerts` and `oja start` install them; empty when there is nothing to install."""
    return [a for a in (late_sweep_automation(settings), silent_sweep_automation(settings)) if a is not None]
