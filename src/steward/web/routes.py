"""Server-rendered web UI: mounting, signing in and out, HTML error pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from steward.auth.use_cases import accounts as auth
from steward.auth.use_cases.login import WRONG, LoginPolicy, sign_in
from steward.config import Settings
from steward.errors import AuthenticationFailed, Throttled
from steward.request.database import SESSION_COOKIE, database
from steward.web import (
    pages_ack,
    pages_admin,
    pages_catalog,
    pages_changes,
    pages_demo_pager,
    pages_imports,
    pages_incident_list,
    pages_integrations,
    pages_kpis,
    pages_map,
    pages_notify,
    pages_oncall,
    pages_oncall_forms,
    pages_overview,
    pages_slos,
    pages_status,
    pages_status_admin,
    pages_status_policy,
    pages_status_subscribe,
    pages_subscriptions,
)
from steward.web.guard import (
    LOGIN_CSRF_COOKIE,
    WebRoute,
    check_csrf,
    form_text,
    login_token_ok,
    new_login_token,
    read_form,
    safe_next,
    viewer_from,
    viewer_if_reachable,
)
from steward.web.page_error import TITLES
from steward.web.render import STATIC_DIR, error_page, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]

# Paths whose errors stay JSON: the API, the ingest endpoints and the health check.
MACHINE_PREFIXES = ("/api/", "/ingest/", "/v2/", "/healthz", "/metrics", "/openapi", "/docs",
                    "/redoc", "/static/")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _secure_cookies(request: Request) -> bool:
    """Cookies only over HTTPS: when configured, or when the request came over HTTPS (the
    server's own TLS, or a trusted proxy's X-Forwarded-Proto: https)."""
    return _settings(request).secure_cookies or request.url.scheme == "https"


def _login_page(request: Request, *, next_url: str, username: str = "", error: str = "",
                status: int = 200, token: str = "") -> Response:
    token = token or request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_token()
    response = render(request, "login.html", {"csrf_token": token, "next_url": next_url,
                                              "username": username, "error": error},
                      status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure_cookies(request), path="/login", max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    with database(request).read_session() as session:
        viewer = viewer_from(request, session)
    if viewer is not None:
        return RedirectResponse(next_url, status_code=303)
    return _login_page(request, next_url=next_url)


@router.post("/login")
def login_submit(request: Request, form: Form) -> Response:
    next_url = safe_next(form_text(form, "next"))
    username = form_text(form, "username")
    if not login_token_ok(request, form):
        # A fresh token comes with the re-rendered form, so trying again works.
        return _login_page(request, next_url=next_url, username=username, status=403,
                           error="The sign-in form had expired. Please try again.",
                           token=new_login_token())
    password = form.get("password")
    if not username or not isinstance(password, str) or not password:
        return _login_page(request, next_url=next_url, username=username, status=422,
                           error="Enter your username and password.")
    settings = _settings(request)
    try:
        cookie, _user = sign_in(database(request), username, password,
                                address=request.client.host if request.client else None,
                                hours=settings.session_hours,
                                policy=LoginPolicy.from_settings(settings))
    except (AuthenticationFailed, Throttled) as exc:
        message = "Wrong username or password." if exc.message == WRONG else (
            exc.message[:1].upper() + exc.message[1:] + ".")
        page = _login_page(request, next_url=next_url, username=username,
                           status=exc.status_code, error=message)
        if isinstance(exc, Throttled):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax",
                        secure=_secure_cookies(request), path="/",
                        max_age=settings.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    with database(request).session() as session:
        viewer = viewer_from(request, session)
        if viewer is not None:
            request.state.viewer = viewer
            check_csrf(viewer, form)
            auth.logout(session, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _remember_viewer(request: Request) -> None:
    """So an error page for an unknown address still shows the navigation."""
    viewer = viewer_if_reachable(request)
    if viewer is not None:
        request.state.viewer = viewer


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(MACHINE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


# Every page's router, in the order their paths are matched.
PAGE_ROUTERS = (
    router,  # signing in and out
    pages_overview.router,  # the home page: what is on fire now
    pages_catalog.router,  # the catalog, one service, its forms
    pages_map.router,
    pages_admin.router,  # teams, the audit log
    pages_oncall.router,  # a team's on-call, a schedule's weeks, overrides
    pages_oncall_forms.router,  # schedule and escalation policy forms
    pages_changes.router,  # changes, the calendar, the policy, deployments
    pages_incident_list.router,  # incident list, one incident, their forms
    pages_integrations.router,  # integration keys: list, create once, revoke
    pages_slos.router,  # SLOs: list with burn-down charts, one SLO, forms
    pages_kpis.router,  # KPI dashboard: organisation, team, goal
    pages_imports.router,  # admin: ServiceNow incident history, Backstage catalog files
    pages_notify.router,  # your profile (contact methods, rules), the notification log
    pages_subscriptions.router,  # a team's subscriptions
    pages_status_policy.router,  # a team's status page policy
    pages_ack.router,  # a page's one-click acknowledge link (no session)
    pages_status.router,  # the public status page (no session)
    pages_status_admin.router,  # admin: what the status page publishes
    pages_status_subscribe.router,  # subscribing to the status page (no session)
    pages_demo_pager.router,  # the demo's pager: a webhook receiver and what it received
)


def install_web(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for page_router in PAGE_ROUTERS:
        app.include_router(page_router)

    previous: Any = app.exception_handlers.get(StarletteHTTPException)

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Unknown pages get an HTML page in a browser; everything else keeps JSON."""
        if _wants_html(request) and exc.status_code in TITLES | {405: ""}:
            title = TITLES.get(exc.status_code, "Method not allowed")
            message = ("There is no page at this address." if exc.status_code == 404
                       else str(exc.detail))
            _remember_viewer(request)
            return error_page(request, exc.status_code, title, message)
        if previous is not None:
            response: Response = await previous(request, exc)
            return response
        raise exc

    # Starlette types handlers as taking any Exception, though it only calls this one
    # with the class it is registered for.
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
