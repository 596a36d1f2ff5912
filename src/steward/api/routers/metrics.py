"""/metrics: the KPIs in Prometheus text format, public like /healthz (no auth)."""

from __future__ import annotations

import threading

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from steward.api.deps import database
from steward.api.edge import api_router
from steward.kpis.metrics import registry_for

router = api_router(tags=["metrics"])
_lock = threading.Lock()


def _registry(request: Request) -> CollectorRegistry:
    """One registry (and so one 30-second cache) per application."""
    state = request.app.state
    with _lock:
        registry = getattr(state, "kpi_metrics_registry", None)
        if registry is None:
            registry = registry_for(database(request),
                                    ttl=state.settings.metrics_cache_seconds)
            state.kpi_metrics_registry = registry
    return registry


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text exposition format"}})
def metrics(request: Request) -> Response:
    """Team, service and organisation KPIs (never per person); computed at most every 30 s
    (``STEWARD_METRICS_CACHE_SECONDS``)."""
    return Response(generate_latest(_registry(request)), media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
