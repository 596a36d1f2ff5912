"""The FastAPI application: API, ingest and web UI on one server."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from steward import __version__
from steward.api.deps import SESSION_COOKIE
from steward.api.errors import install_error_handlers
from steward.api.headers import SecurityHeaders, check_hsts
from steward.api.limits import BodySizeLimit
from steward.api.openapi import install_openapi
from steward.api.routers import (
    alerts_ingest,
    audit,
    catalog,
    changes,
    deployments,
    incidents,
    ingest,
    kpis,
    slos,
    users,
)
from steward.api.throttle import CredentialThrottle, Throttles
from steward.config import Settings, load_settings
from steward.db import Database
from steward.shapes import HealthOut


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or load_settings()
    db = database or Database(settings)
    app = FastAPI(
        title="Steward",
        version=__version__,
        description="IT service management for DevOps product teams.",
        # Operation ids (and so generated clients' function names) are the routes' names.
        generate_unique_id_function=lambda route: route.name,
    )
    check_hsts(settings.hsts)
    app.state.db = db
    app.state.settings = settings
    app.state.throttles = Throttles(ingest=settings.rate_limit_ingest,
                                    api=settings.rate_limit_api,
                                    storage_uri=settings.rate_limit_storage)
    install_error_handlers(app)

    @app.get("/healthz", tags=["health"], response_model=HealthOut)
    def healthz() -> dict[str, Any]:
        from sqlalchemy import text

        with db.read_session() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    # Requests per API token or web session, counted before routing (not ingest: the
    # ingest endpoints count per integration key themselves).
    app.add_middleware(CredentialThrottle, session_cookie=SESSION_COOKIE)
    # First: routes are matched in order, and alert ingestion is the hot path
    # (thousands of requests a second); no other router shares its paths and methods.
    app.include_router(alerts_ingest.router)
    app.add_middleware(alerts_ingest.FastAlerts)  # its hot route, ahead of the routing
    app.include_router(catalog.router)
    app.include_router(users.router)
    app.include_router(audit.router)
    app.include_router(changes.router)
    app.include_router(deployments.router)
    app.include_router(ingest.router)
    app.include_router(incidents.router)
    app.include_router(slos.router)
    slos.install_evaluator(app)
    app.include_router(kpis.router)
    from steward.api.routers import imports  # ServiceNow incident history

    app.include_router(imports.router)

    from steward.web.routes import install_web

    install_web(app)
    from steward.api.routers import goals, kpi_export, metrics  # shared goals, exports, /metrics

    app.include_router(goals.router)
    app.include_router(kpi_export.router)
    app.include_router(metrics.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_openapi(app)
    app.add_middleware(SecurityHeaders, hsts=settings.hsts)  # outermost: on every answer
    return app
