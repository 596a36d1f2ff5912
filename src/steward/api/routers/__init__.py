"""Every API router, in the order the application registers them.

Routes are matched in registration order: the health check, then alert
ingestion (the hot path, thousands of requests a second; no other router
shares its paths and methods). The order is also the order of the OpenAPI
document's paths.
"""

from __future__ import annotations

from fastapi import APIRouter

from steward.api.routers import (
    alerts_ingest,
    audit,
    catalog,
    changes,
    deployments,
    goals,
    health,
    imports,
    incidents,
    ingest,
    integrations,
    kpi_export,
    kpis,
    live_health,
    metrics,
    notifications,
    oncall,
    overview,
    postmortems,
    slos,
    status_components,
    status_updates,
    statuspage,
    timers,
    users,
)

API_ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    alerts_ingest.router,
    catalog.router,
    live_health.router,  # every service's live health
    overview.router,  # what is on fire now: the home page's data
    users.router,
    audit.router,
    changes.router,
    deployments.router,
    integrations.router,
    ingest.router,
    # Before incidents: its POST /incidents/{id}/{action} would take .../updates.
    status_updates.router,  # public incident updates, publishing policies, subscribing
    incidents.router,
    oncall.router,  # schedules, overrides, escalation policies, who is on call
    slos.router,
    postmortems.router,  # the blameless-language check
    notifications.router,  # contact methods, rules, subscriptions, delivery log
    kpis.router,
    imports.router,  # ServiceNow incident history
    goals.router,  # shared goals
    kpi_export.router,
    status_components.router,  # what the public status page publishes (admins)
    timers.router,  # background work (admins)
    metrics.router,  # /metrics, Prometheus text
    statuspage.router,  # /api/v2/*.json: the public status page, Statuspage's shapes
)
