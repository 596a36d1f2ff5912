"""DORA, ITSM and on-call KPIs under /api/v1/kpis (per team, per service, organisation)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from steward.api.deps import CurrentActor, TimeText, database, time_query
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.kpis import dora_queries as dora
from steward.kpis import itsm, oncall
from steward.kpis.schemas import DoraOut, ItsmOut, OncallKpisOut
from steward.kpis.sql import MAX_DAYS
from steward.timeutil import parse_timestamp

router = api_router(prefix="/api/v1/kpis", tags=["kpis"],
                   responses=error_responses(401, 404, 422))
Days = Annotated[int, Query(ge=1, le=MAX_DAYS, description="window length in days")]
End = Annotated[TimeText | None, time_query("window end, ISO-8601 (default: now)")]
Name = Annotated[str | None, Query(max_length=200)]


@router.get("/dora", response_model=DoraOut)
def get_dora(request: Request, _actor: CurrentActor, team: Name = None, service: Name = None,
             days: Days = 28, end: End = None) -> dict[str, Any]:
    """Deployment frequency, lead time, change failure rate, recovery time, rework, tiers."""
    with database(request).read_session() as session:
        return dora.dora_kpis(session, team=team, service=service, days=days,
                              end=parse_timestamp(end, field="end") if end is not None else None)


@router.get("/itsm", response_model=ItsmOut)
def get_itsm(request: Request, _actor: CurrentActor, team: Name = None, service: Name = None,
             days: Days = 90, end: End = None) -> dict[str, Any]:
    """MTTA, MTTR and SLA compliance by priority, reopen rate, change and problem figures."""
    with database(request).read_session() as session:
        return itsm.itsm_kpis(session, team=team, service=service, days=days,
                              end=parse_timestamp(end, field="end") if end is not None else None)


@router.get("/oncall", response_model=OncallKpisOut)
def get_oncall(request: Request, _actor: CurrentActor, team: Name = None, days: Days = 28,
               end: End = None) -> dict[str, Any]:
    """The load on each team's on-call (or one team's): pages per on-call shift, pages
    out of hours, time to acknowledge by escalation level. Never per person."""
    with database(request).read_session() as session:
        return oncall.oncall_kpis(session, team=team, days=days,
                                  end=parse_timestamp(end, field="end") if end is not None
                                  else None)
