"""/admin/status: which services the public status page shows, and how (admins)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.errors import StewardError
from steward.request.database import database
from steward.request.validation import describe_validation_errors
from steward.status import admin_queries
from steward.status.cache import cache_of
from steward.status.schemas import ComponentSettings
from steward.status.use_cases import components
from steward.web.guard import (
    WebRoute,
    check_csrf,
    form_text,
    read_form,
    require_admin,
    require_viewer,
)
from steward.web.render import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]


def _page(request: Request, *, error: str = "", notice: str | None = None,
          status: int = 200) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        require_admin(viewer, "change what the status page publishes")
        items = admin_queries.component_settings(session)
    return render(request, "status/admin.html", {
        "items": items, "error": error, "notice": notice}, status=status, nav="status")


@router.get("/admin/status")
def status_admin(request: Request) -> Response:
    done = request.query_params.get("done")
    return _page(request, notice=f"Saved {done}." if done else None)


@router.post("/admin/status/{service}")
def status_admin_save(request: Request, service: str, form: Form) -> Response:
    try:
        position_text = form_text(form, "position") or "0"
        data: dict[str, Any] = {
            "published": form_text(form, "published") == "on",
            "name": form_text(form, "name"), "group": form_text(form, "group"),
            "description": form_text(form, "description"),
            "position": position_text if position_text.lstrip("-").isdigit() else -1,
        }
        settings = ComponentSettings.model_validate(data)
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            components.set_component(session, viewer.actor, service, settings)
    except (StewardError, PydanticError) as exc:
        if isinstance(exc, PydanticError):
            message, status = f"{service}: " + describe_validation_errors(exc.errors())[0], 422
        else:
            message, status = exc.message, exc.status_code
        return _page(request, error=message, status=status)
    cache_of(request.app.state).clear()
    return RedirectResponse(f"/admin/status?done={quote(service, safe='')}", status_code=303)
