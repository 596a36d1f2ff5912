"""The approval policy page: the rules changes get now, the guards above them, risk levels."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from steward.changes import assessment
from steward.request.database import database
from steward.web.guard import WebRoute, require_viewer
from steward.web.render import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/changes/policy")
def policy_page(request: Request) -> Response:
    with database(request).read_session() as session:
        require_viewer(request, session)
    return render(request, "changes/policy.html", {"policy": assessment.policy_in_effect()},
                  nav="changes")
