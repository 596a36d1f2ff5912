"""Deployment webhooks recorded once per delivery.

Senders redeliver (a timeout, a retry button, a replayed hook): a delivery
already processed changes nothing and is answered as the first one was, from
the answer stored with it. A finished CI workflow run that does not deploy is
not recorded at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import Integration
from steward.auth.use_cases.integrations import integration_actor
from steward.changes.commands import RecordDeployment
from steward.changes.deployment_routing import workflow_ignored
from steward.changes.models import WebhookDelivery
from steward.changes.use_cases.deployments import deployment_out, record_deployment

DELIVERY_LENGTH = 200  # webhook_deliveries.delivery_id


@dataclass(frozen=True)
class NotDeployed:
    """A workflow run that deploys nothing: why it was not recorded."""

    reason: str


def record_delivery(session: Session, integration: Integration, cmd: RecordDeployment, *,
                    source: str, delivery: str | None) -> dict[str, Any] | NotDeployed:
    """Record the deployment as the integration, once per ``(source, delivery)``; a
    redelivery answers what the first one did, marked ``duplicate``."""
    if delivery and len(delivery) > DELIVERY_LENGTH:  # an id longer than its column
        delivery = "sha256:" + hashlib.sha256(delivery.encode()).hexdigest()
    if delivery:
        seen = session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.source == source, WebhookDelivery.delivery_id == delivery))
        if seen is not None:
            return {**seen.result, "duplicate": True}
    not_deployed = workflow_ignored(session, cmd)
    if not_deployed is not None:
        return NotDeployed(not_deployed)
    actor = integration_actor(session, integration)
    recorded = record_deployment(session, actor, cmd, integration=integration)
    result = {"status": "recorded", "deployment": deployment_out(session, recorded.deployment),
              "created": recorded.created}
    if delivery:
        session.add(WebhookDelivery(source=source, delivery_id=delivery,
                                    result=orjson.loads(orjson.dumps(result))))
        session.flush()
    return result
