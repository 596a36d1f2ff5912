"""Where a deployment stands in its service's history, by the rules DORA uses.

``steward.kpis.dora`` counts a deployment as shipped when its status is
``succeeded`` or ``rolled_back`` (it reached the environment; undoing it later
does not unship it), orders deployments by finish time, and treats every
production environment name (``STEWARD_PRODUCTION_ENVIRONMENTS``) as one
production. Lead time for changes is made of every (shipped production
deployment, commit it names) pair. These queries answer the same questions one
deployment or one commit at a time, for lineage views and for comparing
Steward's answers with other tools'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.changes.models import Deployment, DeploymentCommit
from steward.changes.use_cases.deployments import is_production, production_environments
from steward.kpis.dora import SHIPPED
from steward.timeutil import as_utc


def _same_environment(environment: str) -> Any:
    """Every production name is one production; other environments match by name."""
    if is_production(environment):
        return func.lower(Deployment.environment).in_(sorted(production_environments()))
    return func.lower(Deployment.environment) == environment.strip().lower()


def previous_successful(session: Session, deployment: Deployment) -> Deployment | None:
    """The last shipped deployment of the same service and environment before this one.

    "Before" means finished strictly earlier (a deployment still running is
    after everything that finished). This is where "the commits since the
    previous successful production deployment" are counted from. The answer
    does not depend on this deployment's own status: a failed attempt still
    started from what production was running.
    """
    query = (select(Deployment)
             .where(Deployment.service_id == deployment.service_id,
                    Deployment.id != deployment.id,
                    _same_environment(deployment.environment),
                    Deployment.status.in_(SHIPPED),
                    Deployment.finished_at.is_not(None))
             .order_by(Deployment.finished_at.desc(), Deployment.id.desc())
             .limit(1))
    if deployment.finished_at is not None:
        query = query.where(Deployment.finished_at < deployment.finished_at)
    return session.scalar(query)


@dataclass(frozen=True)
class Shipment:
    """One shipped production deployment that names a commit, and what it adds to lead time."""

    deployment: Deployment
    lead_time: timedelta | None  # None: the commit time is unknown, or not before the finish


def shipments(session: Session, sha: str, service_id: int | None = None) -> list[Shipment]:
    """Every shipped production deployment that names commit ``sha``, first finished first.

    These are the (deployment, commit) pairs lead time for changes is made
    of: each pair with a positive lead time is one value of the median. A
    commit named by two deployments counts twice (docs/kpis.md: name each
    commit once). With ``service_id``, only that service's deployments.
    """
    query = (select(Deployment, DeploymentCommit.committed_at)
             .join(DeploymentCommit, DeploymentCommit.deployment_id == Deployment.id)
             .where(DeploymentCommit.sha == sha.strip(),
                    func.lower(Deployment.environment).in_(sorted(production_environments())),
                    Deployment.status.in_(SHIPPED),
                    Deployment.finished_at.is_not(None))
             .order_by(Deployment.finished_at, Deployment.id))
    if service_id is not None:
        query = query.where(Deployment.service_id == service_id)
    found = []
    for deployment, committed in session.execute(query):
        elapsed = None
        # The query only finds finished deployments; the check tells the type checker.
        if committed is not None and deployment.finished_at is not None:
            elapsed = as_utc(deployment.finished_at) - as_utc(committed)
        found.append(Shipment(deployment, elapsed if elapsed and elapsed > timedelta(0)
                              else None))
    return found
