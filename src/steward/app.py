"""The application: API, ingest and web UI on one server, composed here and nowhere else.

``steward serve`` has uvicorn call :func:`create_app` in each server process;
tests and benchmarks call it with a database of their own.
"""

from __future__ import annotations

from fastapi import FastAPI

from steward import __version__
from steward import models as _models  # noqa: F401  (every table; the domains' event

# listeners and timer handlers register as it loads: escalation, notifications)
from steward.api.errors import install_error_handlers
from steward.api.headers import SecurityHeaders, check_hsts
from steward.api.limits import BodySizeLimit
from steward.api.openapi import install_openapi
from steward.api.routers import API_ROUTERS
from steward.api.routers.alerts_ingest import FastAlerts
from steward.api.throttle import CredentialThrottle, Throttles
from steward.config import Settings, load_settings
from steward.db import Database
from steward.request.database import SESSION_COOKIE
from steward.startup import server_lifespan
from steward.web.routes import install_web


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or load_settings()
    db = database or Database(settings)
    check_hsts(settings.hsts)
    app = FastAPI(
        title="Steward",
        version=__version__,
        description="IT service management for DevOps product teams.",
        # Operation ids (and so generated clients' function names) are the routes' names.
        generate_unique_id_function=lambda route: route.name,
        lifespan=server_lifespan(settings, db),
    )
    app.state.db = db
    app.state.settings = settings
    app.state.throttles = Throttles(ingest=settings.rate_limit_ingest,
                                    api=settings.rate_limit_api,
                                    storage_uri=settings.rate_limit_storage)
    install_error_handlers(app)
    for router in API_ROUTERS:
        app.include_router(router)
    install_web(app)
    install_openapi(app)
    # Middleware, innermost first. Requests per API token or web session are counted
    # before routing (not ingest: the ingest endpoints count per integration key).
    app.add_middleware(CredentialThrottle, session_cookie=SESSION_COOKIE)
    app.add_middleware(FastAlerts)  # the hot alert route, answered ahead of the routing
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=settings.hsts)  # outermost: on every answer
    return app
