"""Subscribing to the public status page by email, without signing in.

``GET/POST /status/subscribe``: the form (an address, optionally some components) and
its answer; a confirmation email follows (double opt-in). ``GET
/status/subscribe/confirm?token=``: the emailed link starts the subscription.
``GET /status/unsubscribe?token=`` shows one button; ``POST`` unsubscribes (the button,
or a mail client's RFC 8058 one-click POST): opening a link never unsubscribes, since
mail scanners open every link of a message. The signed token is the credential, so these
forms carry no session or CSRF token; a forged, altered or expired link gets a 400 page
that says so.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from steward.errors import ValidationError
from steward.request.database import database
from steward.status.published import published_components
from steward.status.use_cases import subscribers
from steward.web.guard import WebRoute, form_text, read_form
from steward.web.render import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]
# A link that is not ours or altered, or that has expired: a bad request, said plainly.
STATUS = {"invalid": 400, "expired": 400}


def _public(request: Request, template: str, context: dict[str, Any],
            status: int = 200) -> Response:
    response = render(request, template, {**context, "nav_open_incidents": None},
                      status=status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _form_page(request: Request, *, email: str = "", chosen: list[str] | None = None,
               error: str = "", outcome: subscribers.Outcome | None = None,
               status: int = 200) -> Response:
    with database(request).read_session() as session:
        components = [c.name for c in published_components(session)]
    return _public(request, "status/subscribe.html", {
        "components": components, "email": email, "chosen": chosen or [], "error": error,
        "outcome": dataclasses.asdict(outcome) if outcome else None}, status)


@router.get("/status/subscribe")
def subscribe_form(request: Request) -> Response:
    return _form_page(request)


@router.post("/status/subscribe")
def subscribe_submit(request: Request, form: Form) -> Response:
    email = form_text(form, "email")
    chosen = [str(v) for v in form.getlist("components")]
    try:
        with database(request).session() as session:
            outcome = subscribers.subscribe(session, email, chosen)
    except ValidationError as exc:
        return _form_page(request, email=email, chosen=chosen, error=exc.message,
                          status=exc.status_code)
    return _form_page(request, outcome=outcome, status=202)


@router.get("/status/subscribe/confirm")
def confirm(request: Request, token: str = "") -> Response:
    with database(request).session() as session:
        outcome = subscribers.confirm(session, token)
    return _public(request, "status/subscription.html", {
        "outcome": dataclasses.asdict(outcome), "token": token, "action": "confirm"},
        STATUS.get(outcome.state, 200))


@router.get("/status/unsubscribe")
def unsubscribe_page(request: Request, token: str = "") -> Response:
    with database(request).read_session() as session:
        outcome = subscribers.read_unsubscribe(session, token)
    return _public(request, "status/subscription.html", {
        "outcome": dataclasses.asdict(outcome), "token": token, "action": "unsubscribe"},
        STATUS.get(outcome.state, 200))


@router.post("/status/unsubscribe")
def unsubscribe_submit(request: Request, form: Form, token: str = "") -> Response:
    token = token or form_text(form, "token")
    with database(request).session() as session:
        outcome = subscribers.unsubscribe(session, token)
    return _public(request, "status/subscription.html", {
        "outcome": dataclasses.asdict(outcome), "token": token, "action": "unsubscribe"},
        STATUS.get(outcome.state, 200))
