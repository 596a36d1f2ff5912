"""A deployment command's own values, checked (or fitted to their columns) before it is
recorded, whatever its source."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

from steward.auth.actor import Actor
from steward.catalog.models import Service
from steward.changes.commands import DEPLOYMENT_STATUSES, RecordDeployment
from steward.errors import ValidationError
from steward.timeutil import utcnow

# Sizes of the deployment's columns: an environment or version identifies the deployment
# (rollbacks find theirs by version), so a longer one is refused, naming it; a URL or an
# author only describes it, and is cut rather than losing the event; a source's id longer
# than its column is kept as its digest, the same for every event of that deployment.
ENVIRONMENT_LENGTH, VERSION_LENGTH, URL_LENGTH, AUTHOR_LENGTH = 100, 200, 2000, 200
EXTERNAL_ID_LENGTH = 250  # of 300: room for "@environment" when one id spans several


def check_command(actor: Actor, service: Service, cmd: RecordDeployment) -> None:
    if cmd.status not in DEPLOYMENT_STATUSES:
        raise ValidationError(f"status: must be one of {', '.join(DEPLOYMENT_STATUSES)}",
                              field="status")
    if not cmd.environment.strip():
        raise ValidationError("environment: is required", field="environment")
    for field, value, limit in (("environment", cmd.environment.strip(), ENVIRONMENT_LENGTH),
                                ("version", cmd.version or "", VERSION_LENGTH),
                                ("rollback_of_version", cmd.rollback_of_version or "",
                                 VERSION_LENGTH)):
        if len(value) > limit:
            raise ValidationError(f"{field}: at most {limit} characters ({len(value)} sent)",
                                  field=field)
    actor.require_team_write(service.owner_team_id, f"record deployments of {service.name}")
    if cmd.started_at and cmd.finished_at and cmd.finished_at < cmd.started_at:
        raise ValidationError("finished_at: is before started_at", field="finished_at")
    if cmd.finished_at and cmd.finished_at > utcnow() + timedelta(minutes=5):
        raise ValidationError("finished_at: is in the future", field="finished_at")


def fitted(cmd: RecordDeployment) -> RecordDeployment:
    """The command with its values fitted to the columns (see ``check_command``)."""
    url, author, external_id = cmd.url or "", cmd.author or "", cmd.external_id or ""
    if (len(url) <= URL_LENGTH and len(author) <= AUTHOR_LENGTH
            and len(external_id) <= EXTERNAL_ID_LENGTH):
        return cmd
    if len(external_id) > EXTERNAL_ID_LENGTH:
        external_id = "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()
    return replace(cmd, url=url[:URL_LENGTH] or None, author=author[:AUTHOR_LENGTH] or None,
                   external_id=external_id or None)
