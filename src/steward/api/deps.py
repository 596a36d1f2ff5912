"""Request-scoped helpers: the database and who is calling."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import WithJsonSchema

from steward.auth.actor import Actor
from steward.auth.use_cases import accounts as auth
from steward.errors import AuthenticationFailed, PermissionDenied, ValidationError
from steward.inputs import MAX_EXACT, InputProblem, load_json
from steward.request.database import SESSION_COOKIE, database

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# How callers authenticate, as the OpenAPI document names it. These only describe the
# credentials (none refuses a request): the checks are the functions below and the
# ingest routes' own.
API_TOKEN = HTTPBearer(scheme_name="apiToken", auto_error=False,
                       description="An API token (`stw_...`): `Authorization: Bearer <token>`. "
                                   "It acts with its user's role and teams.")
WEB_SESSION = APIKeyCookie(name=SESSION_COOKIE, scheme_name="webSession", auto_error=False,
                           description="The web UI's session cookie; its writes also send the "
                                       "session's CSRF token in `X-CSRF-Token`.")
INTEGRATION_KEY = HTTPBearer(scheme_name="integrationKey", auto_error=False,
                             description="An integration's key: `Authorization: Bearer <key>`.")
GITHUB_SIGNATURE = APIKeyHeader(name="X-Hub-Signature-256", scheme_name="githubSignature",
                                auto_error=False,
                                description="`sha256=` HMAC of the body with the GitHub "
                                            "integration's secret.")
GITLAB_TOKEN = APIKeyHeader(name="X-Gitlab-Token", scheme_name="gitlabToken", auto_error=False,
                            description="The GitLab integration's secret token.")


def json_body(body: bytes) -> Any:
    """A webhook's body parsed as JSON, its text repaired (``steward.inputs``: an event is
    not lost for a NUL); or a 422 naming the problem."""
    try:
        return load_json(body, repair=True)
    except InputProblem as exc:
        raise ValidationError(f"body: {exc.message}", field="body") from None
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"body: request body is not valid JSON ({exc})",
                              field="body") from exc


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def optional_actor(request: Request) -> Actor | None:
    """The caller by API token, or by web session cookie (CSRF header on writes)."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    db = database(request)
    token = bearer_token(request)
    actor: Actor | None = None
    used: auth.TokenUse | None = None
    with db.read_session() as session:
        if token:
            used = auth.use_token(session, token)
            actor = used.actor
        else:
            cookie = request.cookies.get(SESSION_COOKIE)
            found = auth.session_user(session, cookie) if cookie else None
            if found is not None:
                user, web_session = found
                if request.method in UNSAFE_METHODS:
                    sent = request.headers.get("x-csrf-token", "")
                    if not hmac.compare_digest(sent, web_session.csrf_token):
                        raise PermissionDenied("missing or wrong X-CSRF-Token header")
                actor = auth.actor_for_user(session, user)
    if used is not None and used.last_use_due:
        with db.session() as session:
            auth.record_token_use(session, used.token_id)
    request.state.actor = actor
    return actor


def require_actor(
    request: Request,
    _token: Annotated[HTTPAuthorizationCredentials | None, Security(API_TOKEN)] = None,
    _session: Annotated[str | None, Security(WEB_SESSION)] = None,
) -> Actor:
    actor = optional_actor(request)
    if actor is None:
        raise AuthenticationFailed("authentication required: send Authorization: Bearer <token>")
    return actor


def require_admin(actor: Annotated[Actor, Depends(require_actor)]) -> Actor:
    actor.require_admin("use this endpoint")
    return actor


CurrentActor = Annotated[Actor, Depends(require_actor)]
AdminActor = Annotated[Actor, Depends(require_admin)]
Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]


# A time as a query parameter: declared a date-time, read by ``parse_timestamp`` (which
# names the parameter when it is not one, or is out of range).
TimeText = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


def time_query(description: str) -> Any:
    return Query(description=description)


Start = Annotated[TimeText | None, time_query("from this time (ISO-8601)")]
End = Annotated[TimeText | None, time_query("up to this time (ISO-8601)")]
Offset = Annotated[int, Query(ge=0, le=MAX_EXACT, description="items to skip")]
# For route decorators whose checks are their own (ingest, SLI reports).
BY_INTEGRATION_KEY = Security(INTEGRATION_KEY)
BY_API_TOKEN = Security(API_TOKEN)
BY_WEB_SESSION = Security(WEB_SESSION)
