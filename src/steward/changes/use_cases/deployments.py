"""Recording deployments from any source, and what they do to their change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from steward import config
from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import Integration
from steward.catalog.models import Service
from steward.changes.commands import RecordDeployment
from steward.changes.deployment_checks import check_command, fitted
from steward.changes.deployment_routing import route_deployment, service_for
from steward.changes.models import (
    AWAITING_APPROVAL,
    Change,
    ChangeService,
    Deployment,
    DeploymentCommit,
)
from steward.changes.schemas import ChangeCreate
from steward.changes.use_cases.lifecycle import create_change, follow_deployment
from steward.errors import NotFound, ValidationError
from steward.timeutil import isoformat_z, utcnow

AUTHORIZED_STATES = ("scheduled", "implement")


def production_environments() -> frozenset[str]:
    return config.settings().production_environments


def is_production(environment: str) -> bool:
    return environment.lower() in production_environments()


@dataclass
class Recorded:
    deployment: Deployment
    created: bool
    change: Change | None



def deployment_snapshot(dep: Deployment) -> dict[str, Any]:
    return {"id": dep.id, "service_id": dep.service_id, "environment": dep.environment,
            "version": dep.version, "status": dep.status, "started_at": dep.started_at,
            "finished_at": dep.finished_at, "source": dep.source, "external_id": dep.external_id,
            "change_id": dep.change_id, "unauthorised": dep.unauthorised,
            "batch_size": dep.batch_size, "rollback_of_id": dep.rollback_of_id,
            "fixes_incident_id": dep.fixes_incident_id}


def record_deployment(session: Session, actor: Actor, cmd: RecordDeployment, *,
                      integration: Integration | None = None) -> Recorded:
    """Create or update (same source and external id) a deployment; link and move its change.

    ``integration``: the key the event came with, which routes it (see
    :func:`route_deployment`)."""
    service, cmd = route_deployment(session, integration, cmd)
    check_command(actor, service, cmd)
    cmd = fitted(cmd)
    environment = cmd.environment.strip()

    existing = _existing(session, cmd, environment)
    before = deployment_snapshot(existing) if existing else None
    deployment = existing or Deployment(service_id=service.id, environment=environment,
                                        source=cmd.source,
                                        external_id=_external_id(session, cmd, environment))
    if existing is not None and existing.service_id != service.id:
        raise ValidationError("service: this deployment was recorded for another service",
                              field="service")
    if existing is not None and existing.status in ("succeeded", "failed", "rolled_back") \
            and cmd.status == "in_progress":
        # A late "in progress" event never reopens a finished deployment.
        return Recorded(existing, False, _change_of(session, existing))
    deployment.status = cmd.status
    deployment.version = cmd.version or deployment.version or ""
    deployment.started_at = cmd.started_at or deployment.started_at
    if cmd.status != "in_progress":
        deployment.finished_at = cmd.finished_at or deployment.finished_at or utcnow()
    deployment.url = cmd.url or deployment.url or ""
    deployment.description = cmd.description or deployment.description or ""
    deployment.author = cmd.author or deployment.author or ""
    if cmd.fixes_incident is not None:
        deployment.fixes_incident_id = cmd.fixes_incident
    if existing is None:
        session.add(deployment)
    session.flush()
    target = _rollback_target(session, service, cmd, deployment)
    if target is not None and deployment.rollback_of_id != target.id:
        deployment.rollback_of_id = target.id
        _mark_rolled_back(session, actor, target)
    _add_commits(session, deployment, cmd)

    change = _link_change(session, deployment, service, cmd)
    opened_now = False
    if change is None and existing is None and cmd.status == "in_progress" \
            and is_production(environment):
        change, opened_now = _open_change_for(session, actor, deployment, service, cmd), True
    deployment.unauthorised = _unauthorised(deployment, change, opened_for_it=opened_now or (
        change is not None and change.external_key is not None and cmd.external_id is not None
        and change.external_key == f"{cmd.source}:{cmd.external_id}"))
    session.flush()
    after = deployment_snapshot(deployment)
    if after != before:
        audit.record(session, actor, "deployment.record" if existing is None
                     else "deployment.update", "deployment", deployment.id,
                     before=before, after=after)
    if change is not None:
        follow_deployment(session, actor, change, deployment)
    return Recorded(deployment, existing is None, change)


def _open_change_for(session: Session, actor: Actor, deployment: Deployment,
                     service: Service, cmd: RecordDeployment) -> Change:
    """A pipeline announced a production deployment with no change: record one now.

    The approval policy decides as for any change; when it approves at once
    (a low-risk change), the deployment goes ahead authorised.
    """
    title = (cmd.description or f"Deploy {service.name} {deployment.version}".strip())[:300]
    change = create_change(session, actor, ChangeCreate(
        title=title, services=[service.name], environment=deployment.environment,
        batch_size=len(cmd.commits) or None, links=dict(cmd.links),
        external_key=f"{cmd.source}:{cmd.external_id}" if cmd.external_id else None),
        source=cmd.source)
    deployment.change_id = change.id
    return change


def _unauthorised(deployment: Deployment, change: Change | None, *, opened_for_it: bool) -> bool:
    """Whether a production deployment ran without an approved change.

    One still in progress on a change that waits for approval is not judged yet
    (its pipeline may be waiting at the gate); a change opened for this very
    deployment must have been approved before the deployment began.
    """
    if not is_production(deployment.environment):
        return False
    if change is None:
        return True
    if deployment.status == "in_progress" and change.state in AWAITING_APPROVAL:
        return False
    if opened_for_it:
        return not _authorised_before(change, deployment)
    return change.authorized_at is None


def _existing(session: Session, cmd: RecordDeployment, environment: str) -> Deployment | None:
    """The deployment an event updates: same source and external id, same environment.

    A source that reuses one id for several environments (a job deploying to
    staging, then production) gets one record per environment, so an event of one
    never rewrites the other's facts (its environment, its unauthorised flag).
    """
    if not cmd.external_id:
        return None
    found = session.scalar(select(Deployment).where(
        Deployment.source == cmd.source, Deployment.external_id == cmd.external_id))
    if found is None or found.environment.lower() == environment.lower():
        return found
    return session.scalar(select(Deployment).where(
        Deployment.source == cmd.source,
        Deployment.external_id == _per_environment(cmd.external_id, environment)))


def _external_id(session: Session, cmd: RecordDeployment, environment: str) -> str | None:
    """A new deployment's external id; qualified by environment when another has the id."""
    if not cmd.external_id:
        return None
    taken = session.scalar(select(Deployment.id).where(
        Deployment.source == cmd.source, Deployment.external_id == cmd.external_id))
    return cmd.external_id if taken is None else _per_environment(cmd.external_id, environment)


def _per_environment(external_id: str, environment: str) -> str:
    return f"{external_id}@{environment.lower()}"[:300]


def _authorised_before(change: Change | None, deployment: Deployment) -> bool:
    """Approved before the deployment started (a change approved afterwards does not count)."""
    if change is None or change.authorized_at is None:
        return False
    began = deployment.started_at or deployment.finished_at
    return began is None or change.authorized_at <= began + timedelta(minutes=5)


def record_batch(session: Session, actor: Actor,
                 commands: list[RecordDeployment]) -> list[Recorded]:
    """Many deployments in one transaction, as fast as plain inserts allow.

    Deployments that update an earlier event, roll something back, or name a
    change go through :func:`record_deployment` one by one; the rest are
    validated the same way and written in bulk, with one audit insert.
    """
    simple = [c for c in commands if not (c.external_id or c.change_id or c.rollback_of
                                          or c.rollback_of_version or c.is_rollback
                                          or c.status == "in_progress")]
    if len(simple) < 2:
        return [record_deployment(session, actor, c) for c in commands]
    services = {s.name: s for s in session.scalars(select(Service).where(
        Service.name.in_({c.service for c in simple if c.service})))}
    open_changes = _authorised_changes(session, [s.id for s in services.values()])
    results: list[Recorded] = []
    changes: list[audit.Change] = []
    pending: list[tuple[Deployment, RecordDeployment, Change | None]] = []
    now = utcnow()
    for cmd in commands:
        if cmd not in simple:
            results.append(record_deployment(session, actor, cmd))
            continue
        service = services.get(cmd.service or "") or service_for(session, cmd)
        check_command(actor, service, cmd)
        cmd = fitted(cmd)
        change = open_changes.get((service.id, cmd.environment.strip().lower()))
        dep = Deployment(service_id=service.id, environment=cmd.environment.strip(),
                         source=cmd.source, status=cmd.status, version=cmd.version or "",
                         started_at=cmd.started_at,
                         finished_at=None if cmd.status == "in_progress"
                         else cmd.finished_at or now,
                         url=cmd.url or "", description=cmd.description, author=cmd.author or "",
                         fixes_incident_id=cmd.fixes_incident,
                         change_id=change.id if change else None,
                         batch_size=len({c.sha.strip() for c in cmd.commits if c.sha.strip()}))
        dep.unauthorised = is_production(dep.environment) and (
            change is None or change.authorized_at is None)
        session.add(dep)
        pending.append((dep, cmd, change))
        results.append(Recorded(dep, True, change))
    session.flush()
    commits = []
    for dep, cmd, _change in pending:
        seen: set[str] = set()
        for commit in cmd.commits:
            sha = commit.sha.strip()
            if sha and sha not in seen:
                seen.add(sha)
                commits.append({"deployment_id": dep.id, "sha": sha,
                                "committed_at": commit.committed_at,
                                "message": commit.message[:2000]})
        changes.append(audit.Change("deployment.record", "deployment", dep.id,
                                    after=deployment_snapshot(dep)))
    if commits:
        session.execute(insert(DeploymentCommit.__table__), commits)
    audit.record_many(session, actor, changes)
    for dep, _cmd, change in pending:
        if change is not None:
            follow_deployment(session, actor, change, dep)
    return results


def _authorised_changes(session: Session,
                        service_ids: list[int]) -> dict[tuple[int, str], Change]:
    """The most recent authorised, open change per (service, environment)."""
    found: dict[tuple[int, str], Change] = {}
    if not service_ids:
        return found
    rows = session.execute(
        select(ChangeService.service_id, Change)
        .join(Change, Change.id == ChangeService.change_id)
        .where(ChangeService.service_id.in_(service_ids), Change.state.in_(AUTHORIZED_STATES))
        .order_by(Change.authorized_at, Change.id)).all()
    for service_id, change in rows:
        found[(service_id, change.environment.lower())] = change
    return found


def _rollback_target(session: Session, service: Service, cmd: RecordDeployment,
                     deployment: Deployment) -> Deployment | None:
    """The deployment this one rolls back, if it is a rollback."""
    same_service = (Deployment.service_id == service.id, Deployment.id != deployment.id)
    if cmd.rollback_of is not None:
        target = session.get(Deployment, cmd.rollback_of)
        if target is None or target.service_id != service.id:
            raise ValidationError(f"rollback_of: deployment {cmd.rollback_of} of "
                                  f"{service.name} does not exist", field="rollback_of")
        return target
    if cmd.rollback_of_version:
        return session.scalar(select(Deployment).where(
            *same_service, Deployment.version == cmd.rollback_of_version)
            .order_by(Deployment.id.desc()).limit(1))
    if cmd.is_rollback:
        return session.scalar(select(Deployment).where(
            *same_service, Deployment.environment == deployment.environment,
            Deployment.status == "succeeded", Deployment.id < deployment.id)
            .order_by(Deployment.id.desc()).limit(1))
    return None


def _mark_rolled_back(session: Session, actor: Actor, target: Deployment) -> None:
    """A deployment that was rolled back failed, and so did its change."""
    if target.status == "rolled_back":
        return
    before = deployment_snapshot(target)
    target.status = "rolled_back"
    session.flush()
    audit.record(session, actor, "deployment.rolled_back", "deployment", target.id,
                 before=before, after=deployment_snapshot(target))
    change = _change_of(session, target)
    if change is not None and change.state == "closed" and change.outcome != "rolled_back":
        change.outcome = "rolled_back"
        session.flush()
        audit.record(session, actor, "change.outcome", "change", change.id,
                     before={"outcome": "successful"}, after={"outcome": "rolled_back"})


def _add_commits(session: Session, deployment: Deployment, cmd: RecordDeployment) -> None:
    if not cmd.commits:
        return
    known = set(session.scalars(select(DeploymentCommit.sha).where(
        DeploymentCommit.deployment_id == deployment.id)))
    for commit in cmd.commits:
        sha = commit.sha.strip()
        if not sha or sha in known:
            continue
        known.add(sha)
        session.add(DeploymentCommit(deployment_id=deployment.id, sha=sha,
                                     committed_at=commit.committed_at,
                                     message=commit.message[:2000]))
    deployment.batch_size = len(known)


def _change_of(session: Session, deployment: Deployment) -> Change | None:
    return session.get(Change, deployment.change_id) if deployment.change_id else None


def _link_change(session: Session, deployment: Deployment, service: Service,
                 cmd: RecordDeployment) -> Change | None:
    if cmd.change_id is not None:
        change = session.get(Change, cmd.change_id)
        if change is None:
            raise ValidationError(f"change_id: change {cmd.change_id} does not exist",
                                  field="change_id")
        covers = session.scalar(select(ChangeService.service_id).where(
            ChangeService.change_id == change.id, ChangeService.service_id == service.id))
        if covers is None:
            raise ValidationError(f"change_id: CHG-{change.id} does not cover {service.name}",
                                  field="change_id")
        deployment.change_id = change.id
        return change
    if deployment.change_id is not None:
        return session.get(Change, deployment.change_id)
    # The most recent authorised change open for this service and environment.
    change = session.scalar(
        select(Change).join(ChangeService, ChangeService.change_id == Change.id)
        .where(ChangeService.service_id == service.id,
               func.lower(Change.environment) == deployment.environment.lower(),
               Change.state.in_(AUTHORIZED_STATES))
        .order_by(Change.authorized_at.desc(), Change.id.desc()).limit(1))
    if change is not None:
        deployment.change_id = change.id
    return change


def get_deployment(session: Session, deployment_id: int) -> Deployment:
    dep = session.get(Deployment, deployment_id)
    if dep is None:
        raise NotFound(f"deployment {deployment_id} does not exist", field="id")
    return dep


def deployment_out(session: Session, dep: Deployment, names: dict[int, str] | None = None,
                   *, with_commits: bool = False) -> dict[str, Any]:
    name = (names or {}).get(dep.service_id) or session.scalar(
        select(Service.name).where(Service.id == dep.service_id))
    out: dict[str, Any] = {
        "id": dep.id, "service": name, "environment": dep.environment, "version": dep.version,
        "status": dep.status, "started_at": isoformat_z(dep.started_at),
        "finished_at": isoformat_z(dep.finished_at), "source": dep.source,
        "external_id": dep.external_id, "url": dep.url, "description": dep.description,
        "change_id": dep.change_id, "unauthorised": dep.unauthorised,
        "batch_size": dep.batch_size, "rollback_of": dep.rollback_of_id,
        "fixes_incident": dep.fixes_incident_id,
    }
    if with_commits:
        out["commits"] = [
            {"sha": c.sha, "committed_at": isoformat_z(c.committed_at), "message": c.message}
            for c in session.scalars(select(DeploymentCommit).where(
                DeploymentCommit.deployment_id == dep.id).order_by(DeploymentCommit.id))]
    return out


def list_deployments(session: Session, *, service: str | None = None, team_id: int | None = None,
                     environment: str | None = None, status: str | None = None,
                     unauthorised: bool | None = None, limit: int = 100,
                     offset: int = 0) -> tuple[int, list[Deployment]]:
    query = select(Deployment)
    if service:
        query = query.join(Service, Service.id == Deployment.service_id).where(
            Service.name == service)
    elif team_id is not None:
        query = query.join(Service, Service.id == Deployment.service_id).where(
            Service.owner_team_id == team_id)
    if environment:
        query = query.where(Deployment.environment == environment)
    if status:
        query = query.where(Deployment.status == status)
    if unauthorised is not None:
        query = query.where(Deployment.unauthorised.is_(unauthorised))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(
        Deployment.finished_at.desc().nulls_first(), Deployment.id.desc())
        .limit(limit).offset(offset)).all()
    return total, list(rows)
