"""A late sweep is loud: a Prefect automation tells the operators when no worker picked it up.

A failed or crashed sweep alerts the operators from the run itself (`flows/sweep.py`). A sweep that
never starts (no worker, the pool paused) cannot tell anyone, so the Prefect *server* watches for it:
when a run of the sweep or dispatch deployment becomes Late, the server sends a notification through
a notification block holding the operators' Apprise URL (`OJA_OPERATOR_URLS`). The server does this
itself, without a worker, which is the point.
"""

from __future__ import annotations

from prefect.automations import Automation, EventTrigger, Posture, SendNotification
from prefect.blocks.notifications import SlackWebhook
from prefect.client.orchestration import get_client

from models.errors import InvalidInput
from oja.config import Settings

WATCHED = ("dagelijkse-herinneringen", "berichten-versturen")
AUTOMATION_NAME = "oja-herinneringsronde-te-laat"
BLOCK_PREFIX = "oja-operator"


def _deployment_ids(flow_names: tuple[str, ...]) -> list[str]:
    """The deployments of these flows (prefect.yaml names every deployment `oja`: the flow tells them apart)."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        deployments = client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=list(flow_names))))
    return [str(d.id) for d in deployments]


def late_sweep_automation(settings: Settings) -> Automation | None:
    """Create (or replace) the automation; None when no operator URL is configured or nothing is deployed."""
    import apprise

    if not settings.operator_urls:
        return None
    ids = _deployment_ids(WATCHED)
    if not ids:
        return None
    actions = []
    for n, url in enumerate(settings.operator_urls):
        if not apprise.Apprise().add(url):
            raise InvalidInput("operator_urls", "not a valid Apprise URL")
        # SlackWebhook is Prefect's block that hands its URL to Apprise as it is: any Apprise URL works.
        block_id = SlackWebhook(url=url).save(f"{BLOCK_PREFIX}-{n}", overwrite=True)
        actions.append(
            SendNotification(
                block_document_id=block_id,
                subject="OJA: {{ flow_run.name }} is te laat",
                body=(
                    "De geplande run {{ flow_run.name }} van {{ deployment.name }} is niet op tijd gestart "
                    "(status Late): draait er een worker op de work pool? Herinneringen blijven staan tot de "
                    "ronde gedraaid heeft."
                ),
            )
        )
    with get_client(sync_client=True) as client:
        for existing in client.read_automations_by_name(name=AUTOMATION_NAME):
            client.delete_automation(existing.id)
    return Automation(
        name=AUTOMATION_NAME,
        description="Meldt de beheerders wanneer de herinneringsronde of het versturen niet op tijd start.",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Late"},
            match_related={"prefect.resource.id": [f"prefect.deployment.{i}" for i in ids]},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=actions,
    ).create()
