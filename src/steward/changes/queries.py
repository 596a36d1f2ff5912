"""Reads of changes and deployments that return plain data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.catalog.models import Service
from steward.changes.use_cases.deployments import (
    Recorded,
    deployment_out,
    get_deployment,
    list_deployments,
)

# ---------------------------------------------------------------------------------------
# Deployments as the API answers them.
# ---------------------------------------------------------------------------------------


def recorded_deployments_out(session: Session,
                             recorded: Sequence[Recorded]) -> list[dict[str, Any]]:
    """Deployments just recorded, each as the API shows it with whether it is new."""
    names = dict(session.execute(select(Service.id, Service.name).where(
        Service.id.in_({r.deployment.service_id for r in recorded}))).all())
    return [{**deployment_out(session, r.deployment, names), "created": r.created}
            for r in recorded]


def deployment_listing(session: Session, *, service: str | None = None,
                       environment: str | None = None, status: str | None = None,
                       unauthorised: bool | None = None, limit: int = 100,
                       offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """One page of deployments (unfinished first, then latest finished) and how many match."""
    total, rows = list_deployments(session, service=service, environment=environment,
                                   status=status, unauthorised=unauthorised, limit=limit,
                                   offset=offset)
    return total, [deployment_out(session, d) for d in rows]


def deployment_detail(session: Session, deployment_id: int) -> dict[str, Any]:
    """One deployment with its commits; 404 when there is none."""
    return deployment_out(session, get_deployment(session, deployment_id), with_commits=True)
