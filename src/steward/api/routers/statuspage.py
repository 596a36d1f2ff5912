"""/api/v2/*.json: the public status page in Atlassian Statuspage's public API shapes.

Public like ``/status`` (no credentials), readable from any origin (status widgets run
on other sites), and computed at most once per process every couple of seconds: each
answer's bytes are kept (``steward.status.cache``) and clients may keep them 10 s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import Request, Response

from steward.api.deps import database
from steward.api.edge import api_router
from steward.notify.links import public_base
from steward.shapes import Out
from steward.status import statuspage
from steward.status import statuspage_schemas as sp
from steward.status.cache import cache_of
from steward.status.current import current_page

router = api_router(prefix="/api/v2", tags=["status page"])
HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=10"}


def _doc(model: type[Out]) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model, "description": "as Atlassian Statuspage's public API answers"}}


def public_url(request: Request) -> str:
    """``STEWARD_PUBLIC_URL`` (never the request's Host header: the answer is shared)."""
    return public_base(request.app.state.settings.public_url)


def _answer(request: Request, key: str,
            shape: Callable[[dict[str, Any], str], dict[str, Any]]) -> Response:
    cache = cache_of(request.app.state)

    def compute() -> bytes:
        data = current_page(database(request), cache)
        return orjson.dumps(shape(data, public_url(request)))
    return Response(cache.get(f"api:{key}", compute), media_type="application/json",
                    headers=HEADERS)


@router.get("/summary.json", response_class=Response, responses=_doc(sp.StatuspageSummaryOut))
def summary(request: Request) -> Response:
    """The page's status indicator, components, unresolved incidents, and upcoming or
    in-progress scheduled maintenance."""
    return _answer(request, "summary", statuspage.summary_json)


@router.get("/status.json", response_class=Response, responses=_doc(sp.StatuspageStatusOut))
def status(request: Request) -> Response:
    """The page's status indicator (none, minor, major, critical, maintenance) and its
    description."""
    return _answer(request, "status", statuspage.status_json)


@router.get("/components.json", response_class=Response, responses=_doc(sp.StatuspageComponentsOut))
def components(request: Request) -> Response:
    """Every published component with its status."""
    return _answer(request, "components", statuspage.components_json)


@router.get("/incidents.json", response_class=Response, responses=_doc(sp.StatuspageIncidentsOut))
def incidents(request: Request) -> Response:
    """The 50 most recent public incidents, with their updates."""
    return _answer(request, "incidents", statuspage.incidents_json)


@router.get("/incidents/unresolved.json", response_class=Response,
            responses=_doc(sp.StatuspageIncidentsOut))
def unresolved_incidents(request: Request) -> Response:
    """Public incidents not yet resolved."""
    return _answer(request, "unresolved",
                   lambda data, url: statuspage.incidents_json(data, url, unresolved=True))


@router.get("/scheduled-maintenances.json", response_class=Response,
            responses=_doc(sp.StatuspageMaintenancesOut))
def scheduled_maintenances(request: Request) -> Response:
    """Maintenance from the change calendar: scheduled, in progress, verifying, and
    completed in the last 7 days."""
    return _answer(request, "maintenances", statuspage.maintenances_json)


@router.get("/scheduled-maintenances/upcoming.json", response_class=Response,
            responses=_doc(sp.StatuspageMaintenancesOut))
def upcoming_maintenances(request: Request) -> Response:
    """Maintenance scheduled and not yet started."""
    return _answer(request, "upcoming",
                   lambda data, url: statuspage.maintenances_json(data, url, "upcoming"))


@router.get("/scheduled-maintenances/active.json", response_class=Response,
            responses=_doc(sp.StatuspageMaintenancesOut))
def active_maintenances(request: Request) -> Response:
    """Maintenance in progress or being verified."""
    return _answer(request, "active",
                   lambda data, url: statuspage.maintenances_json(data, url, "active"))
