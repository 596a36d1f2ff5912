"""A team's status page policy, set from the team's page: whether its P1 incidents publish
their suggested first public update by themselves."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.errors import StewardError
from steward.request.database import database
from steward.status.use_cases import policy
from steward.web.change_forms import problem
from steward.web.guard import WebRoute, check_csrf, form_text, read_form, require_viewer
from steward.web.pages_admin import team_page_response

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]


@router.post("/teams/{name}/status-policy")
def set_status_policy(request: Request, name: str, form: Form) -> Response:
    try:
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            policy.set_policy(session, viewer.actor, name,
                              auto_publish_p1=form_text(form, "auto_publish_p1") == "on")
    except StewardError as exc:
        if exc.field == "team":
            raise
        message, status = problem(exc)
        return team_page_response(request, name, status=status,
                                  extra={"status_policy_error": message})
    return RedirectResponse(f"/teams/{quote(name, safe='')}?done=status_policy#status-policy",
                            status_code=303)
