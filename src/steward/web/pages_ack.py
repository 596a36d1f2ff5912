"""The one-click acknowledge link of a page, which works without signing in.

``GET /ack/{token}`` only shows the incident and one "Acknowledge" button; ``POST``
acknowledges. Opening the link must not acknowledge: mail scanners and link previews
(Outlook Safe Links, Gmail, chat unfurlers) fetch every link in a message before the
person sees it, and would acknowledge every page the moment it arrives, stopping its
escalation while nobody is looking. The token is the credential (signed, naming the
page, the incident and the person; it expires and works once), so the form carries no
session or CSRF token; the page is never cached and sends no referrer.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from starlette.responses import Response

from steward.notify.use_cases import deliveries
from steward.request.database import database
from steward.web.guard import WebRoute
from steward.web.render import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
# used or expired: gone for good; an unknown link: not found; a forbidden person: 403.
STATUS = {"ok": 200, "acknowledged": 200, "done": 409, "used": 410, "expired": 410,
          "invalid": 404, "forbidden": 403}


def _page(request: Request, token: str, link: deliveries.AckLink) -> Response:
    response = render(request, "notify/ack.html", {
        "link": dataclasses.asdict(link), "token": token, "nav_open_incidents": None},
        status=STATUS.get(link.state, 200))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@router.get("/ack/{token}")
def ack_page(request: Request, token: str) -> Response:
    with database(request).read_session() as session:
        link, _, _ = deliveries.read_link(session, token[:200])
    return _page(request, token, link)


@router.post("/ack/{token}")
def ack_submit(request: Request, token: str) -> Response:
    with database(request).session() as session:
        link = deliveries.acknowledge_by_link(session, token[:200])
    return _page(request, token, link)
