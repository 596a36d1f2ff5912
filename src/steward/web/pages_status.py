"""The public status page: ``/status``, a component's history, a public incident, and
the incident history as Atom and RSS. No sign-in, no JavaScript.

Every visitor sees the same page, so each answer's bytes are made at most once per
process every couple of seconds (``steward.status.cache``) and served to everyone
else: during an outage everyone opens it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from steward.errors import NotFound
from steward.notify.links import public_base
from steward.request.database import database
from steward.status import feeds, queries
from steward.status.cache import cache_of
from steward.status.current import current_page
from steward.status.public import COMPONENT_LABELS, parse_public_id
from steward.web.guard import WebRoute
from steward.web.render import TEMPLATES

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SECURITY = {
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin", "Cache-Control": "public, max-age=10",
    "Content-Security-Policy": ("default-src 'self'; script-src 'none'; "
                                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
}
GROUPLESS = ""


def _cached(request: Request, key: str, make: Callable[[dict[str, Any]], str],
            media_type: str, status: int = 200) -> Response:
    cache = cache_of(request.app.state)

    def compute() -> bytes:
        return make(current_page(database(request), cache)).encode()
    return Response(cache.get(key, compute), status_code=status, media_type=media_type,
                    headers=SECURITY)


def _html(template: str, **context: Any) -> str:
    return TEMPLATES.env.get_template(template).render(labels=COMPONENT_LABELS, **context)


def _groups(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for component in components:
        if not groups or groups[-1]["name"] != component["group"]:
            groups.append({"name": component["group"], "components": []})
        groups[-1]["components"].append(component)
    return groups


def _not_found(request: Request, what: str) -> Response:
    page = _html("status/missing.html", what=what)
    return Response(page, status_code=404, media_type="text/html", headers=SECURITY)


@router.get("/status")
def status_page(request: Request) -> Response:
    return _cached(request, "html:/status", lambda data: _html(
        "status/page.html", page=data, groups=_groups(data["components"])), "text/html")


@router.get("/status/components/{public_id}")
def component_page(request: Request, public_id: str) -> Response:
    if parse_public_id(public_id, "c") is None:
        return _not_found(request, "component")
    try:
        return _cached(request, f"html:/status/components/{public_id}", lambda data: _html(
            "status/component.html", page=data,
            **queries.component_history(data, public_id)), "text/html")
    except NotFound:
        return _not_found(request, "component")


@router.get("/status/incidents/{public_id}")
def incident_page(request: Request, public_id: str) -> Response:
    if parse_public_id(public_id, "i") is None:
        return _not_found(request, "incident")
    try:
        return _cached(request, f"html:/status/incidents/{public_id}", lambda data: _html(
            "status/incident.html", page=data,
            incident=queries.incident_public(data, public_id)), "text/html")
    except NotFound:
        return _not_found(request, "incident")


@router.get("/status/history.atom")
def history_atom(request: Request) -> Response:
    base = public_base(request.app.state.settings.public_url)
    return _cached(request, "atom", lambda data: feeds.atom(data, base),
                   "application/atom+xml")


@router.get("/status/history.rss")
def history_rss(request: Request) -> Response:
    base = public_base(request.app.state.settings.public_url)
    return _cached(request, "rss", lambda data: feeds.rss(data, base), "application/rss+xml")
