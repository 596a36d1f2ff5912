"""A team's subscriptions, added and removed from the team's page; a webhook's signing
secret is shown once, on the answer to the form that made it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.errors import StewardError
from steward.notify.schemas import SubscriptionIn
from steward.notify.use_cases import subscriptions
from steward.request.database import database
from steward.web.change_forms import form_values, problem
from steward.web.guard import WebRoute, check_csrf, form_text, read_form, record_id, require_viewer
from steward.web.pages_admin import team_page_response

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]


def _team_href(name: str) -> str:
    return "/teams/" + quote(name, safe="")


@router.post("/teams/{name}/subscriptions")
def add_subscription(request: Request, name: str, form: Form) -> Response:
    values = form_values(form)
    values["event_types"] = [str(v) for v in form.getlist("event_types")]
    try:
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            created = subscriptions.create_subscription(session, viewer.actor, name,
                                                        SubscriptionIn.model_validate({
                "name": form_text(form, "name"), "kind": form_text(form, "kind"),
                "url": form_text(form, "url"), "event_types": values["event_types"]}))
    except (StewardError, PydanticError) as exc:
        message, status = problem(exc)
        return team_page_response(request, name, status=status, extra={
            "subscription_error": message, "sub_form": values})
    if created["secret"]:
        # Shown once: on this answer, never on a page that can be reloaded or linked to.
        return team_page_response(request, name, notice="Subscription added.", extra={
            "created_secret": {"name": created["name"], "secret": created["secret"]}})
    return RedirectResponse(f"{_team_href(name)}?done=subscribed#subscriptions",
                            status_code=303)


@router.post("/teams/{name}/subscriptions/{subscription_id}/delete")
def remove_subscription(request: Request, name: str, subscription_id: str,
                        form: Form) -> Response:
    number = record_id(subscription_id, "subscription")
    try:
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            subscriptions.delete_subscription(session, viewer.actor, name, number)
    except StewardError as exc:
        message, status = problem(exc)
        return team_page_response(request, name, status=status,
                                  extra={"subscription_error": message})
    return RedirectResponse(f"{_team_href(name)}?done=unsubscribed#subscriptions",
                            status_code=303)
