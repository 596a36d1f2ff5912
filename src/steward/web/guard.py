"""Who is looking at a page, and the checks every web request goes through.

The web UI signs people in with a session cookie (``steward_session``). Every
page but the login page needs a signed-in user; every form that changes
something carries the session's CSRF token in a hidden ``csrf_token`` field.
The login form has no session yet, so it uses a double-submit cookie instead.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.auth.actor import Actor
from steward.auth.queries import SignedIn, signed_in, signed_in_if_reachable
from steward.db import Session
from steward.errors import StewardError
from steward.inputs import MAX_ID, printable, text_problem
from steward.request.database import SESSION_COOKIE, database
from steward.web.page_error import TITLES, PageError, page_error_from
from steward.web.render import error_page

LOGIN_CSRF_COOKIE = "steward_login_csrf"


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, as the templates and use cases need them."""

    username: str
    display_name: str
    role: str
    csrf_token: str
    actor: Actor

    @property
    def is_admin(self) -> bool:
        return self.actor.is_admin

    def can_write_team(self, team_id: int | None) -> bool:
        return self.actor.can_write_team(team_id)


class LoginRequired(Exception):
    """No valid session: send the browser to the login page."""


def _viewer(found: SignedIn | None) -> Viewer | None:
    if found is None:
        return None
    return Viewer(username=found.username, display_name=found.display_name, role=found.role,
                  csrf_token=found.csrf_token, actor=found.actor)


def viewer_from(request: Request, session: Session) -> Viewer | None:
    return _viewer(signed_in(session, request.cookies.get(SESSION_COOKIE, "")))


def viewer_if_reachable(request: Request) -> Viewer | None:
    """The signed-in person, or None when the database does not answer."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return _viewer(signed_in_if_reachable(database(request), cookie))


def require_viewer(request: Request, session: Session) -> Viewer:
    viewer = viewer_from(request, session)
    if viewer is None:
        raise LoginRequired()
    request.state.viewer = viewer
    return viewer


def require_admin(viewer: Viewer, what: str) -> None:
    if not viewer.is_admin:
        raise PageError(403, "Not allowed", f"Only an admin may {what}.")


def check_csrf(viewer: Viewer, form: FormData) -> None:
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, viewer.csrf_token):
        raise PageError(403, "Not allowed",
                        "This form is missing its security token or the token is out of date. "
                        "Reload the page and try again.")


async def read_form(request: Request) -> FormData:
    """The submitted form (an empty one for any other kind of body). A field holding
    what no column can store (NUL, a lone surrogate) is refused, naming it."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for name, value in form.multi_items():
            if isinstance(value, str) and (problem := text_problem(value)):
                raise PageError(422, TITLES[422], f"{printable(name)}: {problem}")
        return form
    return FormData()


def refuse_bad_parameters(request: Request) -> None:
    """Path and query parameters are used in queries: none may hold NUL."""
    for source, items in (("path", list(request.path_params.items())),
                          ("query", request.query_params.multi_items())):
        for name, value in items:
            if isinstance(value, str) and (problem := text_problem(value)):
                raise PageError(422, TITLES[422], f"{source}.{printable(name)}: {problem}")


def form_text(form: FormData, name: str, *, default: str = "") -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this server: never another host (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    return target


def login_redirect(request: Request) -> RedirectResponse:
    target = "/login"
    if request.method != "GET":
        return RedirectResponse(target, status_code=303)  # a form's target is no page to return to
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    if path not in ("/", "/login"):
        target += "?next=" + quote(path, safe="")
    return RedirectResponse(target, status_code=303)


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def login_token_ok(request: Request, form: FormData) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = form.get("csrf_token")
    return bool(cookie) and isinstance(sent, str) and hmac.compare_digest(sent, cookie)


class WebRoute(APIRoute):
    """Routes of the UI: errors become HTML pages, a missing login a redirect.

    The JSON error handlers of the API stay untouched; this only wraps the
    handlers of the web routers.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                refuse_bad_parameters(request)
                return await original(request)
            except LoginRequired:
                return login_redirect(request)
            except PageError as exc:
                return error_page(request, exc.status, exc.title, exc.message)
            except StewardError as exc:
                err = page_error_from(exc)
                return error_page(request, err.status, err.title, err.message)

        return handler


def record_id(raw: str, noun: str) -> int:
    """A record's id from a page's path: a 404 for anything no record can have."""
    if not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= MAX_ID:
        raise PageError(404, "Not found", f"{noun} {printable(raw)!r} does not exist")
    return int(raw)


def pick(params: Any, name: str) -> str:
    value = params.get(name)
    return value.strip() if isinstance(value, str) else ""
