"""Reads of SLOs for pages: each SLO with its service, status now and budget burn-down.

Plain data only, so a page can render after its session is closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.catalog.models import Service, Team
from steward.slos.models import Slo
from steward.slos.service import get_slo, list_slos
from steward.slos.status import SloStatus, burndown, moment, status_of


@dataclass(frozen=True)
class SloSummary:
    """An SLO and the service (with its owning team) it is for."""

    id: int
    name: str
    description: str
    objective: float
    window_days: int
    sli: str  # "impact" or "counts"
    service: str
    team: str | None
    owner_team_id: int | None


@dataclass(frozen=True)
class SloReading:
    """An SLO's status at a moment and, when asked for, its budget burn-down up to then
    (dicts with ``at`` and ``budget_left``)."""

    slo: SloSummary
    status: SloStatus
    burndown: list[dict[str, Any]] | None = None


def _owners(session: Session,
            ids: Sequence[int]) -> dict[int, tuple[str, int | None, str | None]]:
    """Service id -> (service name, owning team id, owning team name)."""
    if not ids:
        return {}
    rows = session.execute(
        select(Service.id, Service.name, Service.owner_team_id, Team.name)
        .join(Team, Team.id == Service.owner_team_id, isouter=True)
        .where(Service.id.in_(set(ids))))
    return {sid: (name, team_id, team) for sid, name, team_id, team in rows}


def _summary(slo: Slo, owner: tuple[str, int | None, str | None] | None) -> SloSummary:
    service, team_id, team = owner or ("", None, None)
    return SloSummary(id=slo.id, name=slo.name, description=slo.description,
                      objective=slo.objective, window_days=slo.window_days, sli=slo.sli,
                      service=service, team=team, owner_team_id=team_id)


def slo_readings(session: Session, *, team: str | None = None, service: str | None = None,
                 at: datetime | None = None, burndowns: int | None = None) -> list[SloReading]:
    """The SLOs of a team or a service (or all), by service and name, each with its status
    at ``at`` (default now); the first ``burndowns`` of them (all when None) with their
    burn-down too. A ValidationError names an unknown team."""
    at = moment(at)
    slos = list_slos(session, team=team, service=service)
    owners = _owners(session, [slo.service_id for slo in slos])
    return [SloReading(slo=_summary(slo, owners.get(slo.service_id)),
                       status=status_of(session, slo, at),
                       burndown=(burndown(session, slo, at)
                                 if burndowns is None or i < burndowns else None))
            for i, slo in enumerate(slos)]


def slo_reading(session: Session, slo_id: int, *, at: datetime | None = None) -> SloReading:
    """One SLO with its status and burn-down; NotFound (field ``id``) when there is none."""
    at = moment(at)
    slo = get_slo(session, slo_id)
    owner = _owners(session, [slo.service_id]).get(slo.service_id)
    return SloReading(slo=_summary(slo, owner), status=status_of(session, slo, at),
                      burndown=burndown(session, slo, at))
