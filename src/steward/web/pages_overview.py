"""The signed-in home page: what is on fire now (``steward.overview``), read in one
session and rendered from plain data. Signed out, ``/`` sends the browser to sign in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from steward.overview import queries
from steward.request.database import database
from steward.timeutil import utcnow
from steward.web.guard import WebRoute, require_viewer
from steward.web.render import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# The page reloads itself this often while it is open: the HTTP Refresh header, which
# browsers honour without any script (a wall screen stays current).
REFRESH_SECONDS = 60


@router.get("/")
def overview_page(request: Request) -> Response:
    now = utcnow()
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        data = queries.overview(session, viewer.actor, now)
    response = render(request, "overview.html", {
        **data, "now": now, "refresh": REFRESH_SECONDS,
        "nav_open_incidents": data["incidents"]["open"],
    }, nav="overview")
    response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response
