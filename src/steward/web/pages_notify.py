"""Notifications in the UI: your profile (contact methods, rules, quiet hours) and the
delivery log with its dead letters (a team's subscriptions: ``pages_subscriptions``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.auth.use_cases import accounts
from steward.db import Session
from steward.errors import StewardError
from steward.notify import queries
from steward.notify.schemas import ContactMethodIn, PreferencesIn, RuleIn
from steward.notify.use_cases import contacts, deliveries
from steward.request.database import database
from steward.web.change_forms import form_values, problem
from steward.web.guard import (
    PageError,
    Viewer,
    WebRoute,
    check_csrf,
    form_text,
    read_form,
    record_id,
    require_viewer,
    safe_next,
)
from steward.web.render import DEFAULT_LIMIT, Pager, paging, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]
STATES = ("pending", "delivered", "dead", "skipped")
NOTICES = {"method": "Contact method added.", "method-removed": "Contact method removed.",
           "rule": "Notification rule added.", "rule-removed": "Notification rule removed.",
           "preferences": "Time zone and quiet hours saved.",
           "retried": "Sent for delivery again."}


# -- your profile ---------------------------------------------------------------------------

def _profile(request: Request, *, error: str = "", status: int = 200,
             form: dict[str, Any] | None = None) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        person = accounts.user_out(session, accounts.get_user(session, viewer.username))
        context = {"person": person,
                   "methods": queries.contact_methods(session, viewer.username),
                   "rules": queries.rules(session, viewer.username),
                   "preferences": queries.preferences(session, viewer.username)}
    done = request.query_params.get("done", "")
    return render(request, "notify/profile.html", {
        **context, "error": error, "form": form or {},
        "notice": NOTICES.get(done) if not error else None}, status=status)


@router.get("/profile")
def profile_page(request: Request) -> Response:
    return _profile(request)


Work = Callable[[Session, Viewer, FormData], str]


def _profile_submit(request: Request, form: FormData, work: Work, anchor: str) -> Response:
    try:
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            done = work(session, viewer, form)
    except (StewardError, PydanticError) as exc:
        message, status = problem(exc)
        return _profile(request, error=message, status=status, form=form_values(form))
    return RedirectResponse(f"/profile?done={done}{anchor}", status_code=303)


def _whole(form: FormData, name: str) -> int:
    raw = form_text(form, name)
    return int(raw) if raw.isdigit() and len(raw) < 10 else -1


@router.post("/profile/contact-methods")
def add_method(request: Request, form: Form) -> Response:
    def work(session: Session, viewer: Viewer, form: FormData) -> str:
        contacts.add_contact_method(session, viewer.actor, viewer.username, ContactMethodIn(
            kind=form_text(form, "kind"), target=form_text(form, "target"),
            label=form_text(form, "label")))
        return "method"
    return _profile_submit(request, form, work, "#contact-methods")


@router.post("/profile/contact-methods/{method_id}/delete")
def remove_method(request: Request, method_id: str, form: Form) -> Response:
    number = record_id(method_id, "contact method")

    def work(session: Session, viewer: Viewer, form: FormData) -> str:
        contacts.delete_contact_method(session, viewer.actor, viewer.username, number)
        return "method-removed"
    return _profile_submit(request, form, work, "#contact-methods")


@router.post("/profile/rules")
def add_rule(request: Request, form: Form) -> Response:
    def work(session: Session, viewer: Viewer, form: FormData) -> str:
        contacts.add_rule(session, viewer.actor, viewer.username, RuleIn(
            contact_method_id=_whole(form, "contact_method_id"),
            urgency=form_text(form, "urgency") or "any",
            delay_minutes=_whole(form, "delay_minutes") if form_text(
                form, "delay_minutes") else 0))
        return "rule"
    return _profile_submit(request, form, work, "#notification-rules")


@router.post("/profile/rules/{rule_id}/delete")
def remove_rule(request: Request, rule_id: str, form: Form) -> Response:
    number = record_id(rule_id, "notification rule")

    def work(session: Session, viewer: Viewer, form: FormData) -> str:
        contacts.delete_rule(session, viewer.actor, viewer.username, number)
        return "rule-removed"
    return _profile_submit(request, form, work, "#notification-rules")


@router.post("/profile/preferences")
def save_preferences(request: Request, form: Form) -> Response:
    def work(session: Session, viewer: Viewer, form: FormData) -> str:
        contacts.set_preferences(session, viewer.actor, viewer.username, PreferencesIn(
            time_zone=form_text(form, "time_zone") or "UTC",
            quiet_start=form_text(form, "quiet_start") or None,
            quiet_end=form_text(form, "quiet_end") or None))
        return "preferences"
    return _profile_submit(request, form, work, "#quiet-hours")


# -- the delivery log ---------------------------------------------------------------------

def _log(request: Request, *, error: str = "", status: int = 200) -> Response:
    state = request.query_params.get("state", "")
    if state and state not in STATES:
        raise PageError(422, "Invalid input", f"state: one of {', '.join(STATES)}")
    limit, offset = paging(request)
    with database(request).read_session() as session:
        require_viewer(request, session)
        total, rows = queries.notifications(session, state=state or None, limit=limit,
                                            offset=offset)
        counts = queries.state_counts(session)
    keep: dict[str, Any] = {"state": state} if state else {}
    if limit != DEFAULT_LIMIT:
        keep["limit"] = limit
    done = request.query_params.get("done", "")
    back = "/notifications" + (f"?state={state}" if state else "")
    return render(request, "notify/log.html", {
        "rows": rows, "counts": counts, "current_state": state, "back": back,
        "pager": Pager("/notifications", keep, total, limit, offset), "error": error,
        "notice": NOTICES.get(done) if not error else None}, status=status,
        nav="notifications")


@router.get("/notifications")
def notifications_page(request: Request) -> Response:
    return _log(request)


@router.post("/notifications/{notification_id}/retry")
def retry_notification(request: Request, notification_id: str, form: Form) -> Response:
    number = record_id(notification_id, "notification")
    back = safe_next(form_text(form, "back"), "/notifications")
    try:
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            deliveries.retry(session, viewer.actor, number)
    except StewardError as exc:
        message, status = problem(exc)
        return _log(request, error=message, status=status)
    path, _, anchor = back.partition("#")
    joiner = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{joiner}done=retried" + (f"#{anchor}" if anchor else ""),
                            status_code=303)
