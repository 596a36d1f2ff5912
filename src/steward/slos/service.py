"""SLO use cases: define, change and remove SLOs, store SLI reports, read status.

Admins and members of the owning team write; everyone signed in reads. Every
mutation appends its audit entry in the caller's transaction. Importing this
module registers the error-budget fact that change risk and policy use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.catalog.models import Service, Team
from steward.errors import Conflict, NotFound, PermissionDenied, ValidationError
from steward.slos import burn_alerts as slo_alerts
from steward.slos.models import SliReport, Slo
from steward.slos.schemas import MAX_REPORTS, SliReportIn, SloCreate, SloUpdate
from steward.slos.status import SloStatus, status_of
from steward.timeutil import as_utc, isoformat_z, utcnow

# Reports may end this far after the server's clock (clients' clocks drift a little).
CLOCK_SKEW = timedelta(minutes=1)


def snapshot(slo: Slo) -> dict[str, Any]:
    return {"service_id": slo.service_id, "name": slo.name, "description": slo.description,
            "objective": slo.objective, "window_days": slo.window_days, "sli": slo.sli}


def get_slo(session: Session, slo_id: int) -> Slo:
    slo = session.get(Slo, slo_id)
    if slo is None:
        raise NotFound(f"SLO {slo_id} does not exist", field="id")
    return slo


def _service(session: Session, name: str) -> Service:
    service = session.scalar(select(Service).where(Service.name == name))
    if service is None:
        raise NotFound(f"service {name!r} does not exist", field="service")
    return service


def _name_free(session: Session, service_id: int, name: str, slo_id: int | None = None) -> None:
    taken = session.scalar(select(Slo.id).where(Slo.service_id == service_id, Slo.name == name))
    if taken is not None and taken != slo_id:
        raise Conflict(f"name: this service already has an SLO named {name!r}", field="name")


def create_slo(session: Session, actor: Actor, service_name: str, data: SloCreate) -> Slo:
    service = _service(session, service_name)
    actor.require_team_write(service.owner_team_id, "define SLOs for this service")
    _name_free(session, service.id, data.name)
    slo = Slo(service_id=service.id, name=data.name, description=data.description,
              objective=data.objective, window_days=data.window_days, sli=data.sli)
    session.add(slo)
    session.flush()
    audit.record(session, actor, "slo.create", "slo", slo.id,
                 after={**snapshot(slo), "service": service.name})
    return slo


def update_slo(session: Session, actor: Actor, slo_id: int, data: SloUpdate) -> Slo:
    slo = get_slo(session, slo_id)
    service = session.get(Service, slo.service_id)
    actor.require_team_write(service.owner_team_id if service else None, "change this SLO")
    changes = data.model_dump(exclude_none=True)
    if "name" in changes:
        _name_free(session, slo.service_id, changes["name"], slo.id)
    before = snapshot(slo)
    for key, value in changes.items():
        setattr(slo, key, value)
    if snapshot(slo) == before:
        return slo
    slo.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "slo.update", "slo", slo.id, before=before, after=snapshot(slo))
    slo_alerts.lock_evaluation(session, wait=True)
    slo_alerts.evaluate_slo(session, slo)
    return slo


def delete_slo(session: Session, actor: Actor, slo_id: int) -> None:
    slo = get_slo(session, slo_id)
    service = session.get(Service, slo.service_id)
    actor.require_team_write(service.owner_team_id if service else None, "delete this SLO")
    slo_alerts.lock_evaluation(session, wait=True)
    slo_alerts.clear_alerts(session, slo)
    before = snapshot(slo)
    session.delete(slo)
    session.flush()
    audit.record(session, actor, "slo.delete", "slo", slo_id, before=before)


def list_slos(session: Session, *, team: str | None = None,
              service: str | None = None) -> list[Slo]:
    query = select(Slo).join(Service, Service.id == Slo.service_id)
    if team:
        team_id = session.scalar(select(Team.id).where(Team.name == team))
        if team_id is None:
            raise ValidationError(f"team: team {team!r} does not exist", field="team")
        query = query.where(Service.owner_team_id == team_id)
    if service:
        query = query.where(Service.name == service)
    return list(session.scalars(query.order_by(Service.name, Slo.name)))


def add_reports(session: Session, actor: Actor, slo_id: int, reports: Sequence[SliReportIn],
                *, integration_service_id: int | None = None,
                field: str = "reports") -> list[SliReport]:
    """Store good/total counts of a counts SLO, then evaluate its burn alerts.

    ``integration_service_id``: the service an integration key is bound to,
    which may only report for that service's SLOs.
    """
    slo = get_slo(session, slo_id)
    service = session.get(Service, slo.service_id)
    actor.require_team_write(service.owner_team_id if service else None,
                             "report SLI counts for this SLO")
    if integration_service_id is not None and integration_service_id != slo.service_id:
        raise PermissionDenied("this integration key reports for another service")
    if slo.sli != "counts":
        raise Conflict(f"sli: SLO {slo.id} measures incident impact; only a counts SLO "
                       f"takes reports", field="sli")
    if not reports:
        raise ValidationError(f"{field}: give at least one report", field=field)
    if len(reports) > MAX_REPORTS:
        raise ValidationError(f"{field}: at most {MAX_REPORTS} reports at once", field=field)
    latest = utcnow() + CLOCK_SKEW
    rows = []
    for i, report in enumerate(reports):
        where = f"{field}[{i}]." if len(reports) > 1 else ""
        start, end = as_utc(report.start), as_utc(report.end)
        if end <= start:
            raise ValidationError(f"{where}end: must be after start", field=f"{where}end")
        if end > latest:
            raise ValidationError(f"{where}end: is in the future", field=f"{where}end")
        if report.good > report.total:
            raise ValidationError(f"{where}good: cannot exceed total ({report.good} > "
                                  f"{report.total})", field=f"{where}good")
        rows.append(SliReport(slo_id=slo.id, start=start, end=end, good=report.good,
                              total=report.total))
    session.add_all(rows)
    session.flush()
    audit.record(session, actor, "slo.report", "slo", slo.id, after={
        "reports": len(rows), "good": sum(r.good for r in rows),
        "total": sum(r.total for r in rows), "start": min(r.start for r in rows),
        "end": max(r.end for r in rows)})
    slo_alerts.lock_evaluation(session, wait=True)
    slo_alerts.evaluate_slo(session, slo)
    return rows


def slo_out(session: Session, slo: Slo, status: SloStatus | None = None,
            names: dict[int, tuple[str, str | None]] | None = None) -> dict[str, Any]:
    if names is None or slo.service_id not in names:
        names = service_names(session, [slo.service_id])
    service, team = names.get(slo.service_id, ("", None))
    status = status or status_of(session, slo)
    return {"id": slo.id, "service": service, "team": team, "name": slo.name,
            "description": slo.description, "objective": slo.objective,
            "window_days": slo.window_days, "sli": slo.sli,
            "created_at": isoformat_z(slo.created_at), "updated_at": isoformat_z(slo.updated_at),
            "status": status.out()}


def service_names(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    """Service id -> (service name, owning team name)."""
    if not ids:
        return {}
    rows = session.execute(select(Service.id, Service.name, Team.name).join(
        Team, Team.id == Service.owner_team_id, isouter=True).where(Service.id.in_(set(ids))))
    return {sid: (name, team) for sid, name, team in rows}


def error_budget_left(session: Session, service_ids: Sequence[int],
                      at: datetime | None = None) -> float | None:
    """The smallest budget-left fraction among these services' SLOs; None without SLOs.

    Change risk takes a fraction in [0, 1], so an overspent budget reads 0 (spent).
    """
    if not service_ids:
        return None
    slos = session.scalars(select(Slo).where(Slo.service_id.in_(list(service_ids)))).all()
    if not slos:
        return None
    return max(min(status_of(session, slo, at).budget.left for slo in slos), 0.0)


def count_slos(session: Session) -> int:
    return int(session.scalar(select(func.count(Slo.id))) or 0)


def services_with_slos(session: Session) -> set[int]:
    """Services with an SLO: monitored, for live health."""
    return set(session.scalars(select(Slo.service_id).distinct()))


def _register_hooks() -> None:
    from steward.changes import hooks
    from steward.incidents import health_queries

    hooks.register_error_budget(error_budget_left)
    health_queries.register_monitor(services_with_slos)


_register_hooks()
