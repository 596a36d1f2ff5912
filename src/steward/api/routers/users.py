"""Users and API tokens under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response

from steward.api.deps import SESSION_COOKIE, CurrentActor, Limit, Offset, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.auth.schemas import (
    Role,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from steward.auth.use_cases import accounts as auth
from steward.inputs import MAX_ID
from steward.shapes import Listing, Page

router = api_router(prefix="/api/v1", tags=["users"], responses=error_responses(401))


@router.get("/users", response_model=Page[UserOut], responses=error_responses(422))
def list_users(request: Request, _actor: CurrentActor, limit: Limit = 100, offset: Offset = 0,
               team: str | None = None, role: Role | None = None,
               q: str | None = None) -> dict[str, Any]:
    with database(request).read_session() as session:
        total, users = auth.list_users(session, team=team, role=role, q=q, limit=limit,
                                       offset=offset)
        return {"total": total, "limit": limit, "offset": offset,
                "items": [auth.user_out(session, u) for u in users]}


@router.post("/users", status_code=201, response_model=UserOut,
             responses=error_responses(400, 403, 409, 413, 422))
def create_user(body: UserCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        return auth.user_out(session, auth.create_user(session, actor, body))


@router.get("/users/me", response_model=UserOut, operation_id="get_me")
def me(request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return auth.user_out(session, auth.get_user(session, actor.name))


@router.get("/users/{username}", response_model=UserOut,
            responses=error_responses(404, 422))
def get_user(username: str, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return auth.user_out(session, auth.get_user(session, username))


@router.patch("/users/{username}", response_model=UserOut,
              responses=error_responses(400, 403, 404, 413, 422))
def update_user(username: str, body: UserUpdate, request: Request,
                actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        return auth.user_out(session, auth.update_user(
            session, actor, username, body, keep_session=request.cookies.get(SESSION_COOKIE)))


@router.delete("/users/{username}", status_code=204,
               responses=error_responses(403, 404, 409, 422))
def delete_user(username: str, request: Request, actor: CurrentActor) -> Response:
    with database(request).session() as session:
        auth.delete_user(session, actor, username)
    return Response(status_code=204)


@router.get("/users/{username}/tokens", response_model=Listing[TokenOut],
            responses=error_responses(403, 404, 422))
def list_tokens(username: str, request: Request, actor: CurrentActor) -> dict[str, Any]:
    """Your own tokens (or anyone's, as admin): prefixes only, never the tokens."""
    with database(request).read_session() as session:
        items = auth.list_tokens(session, actor, username)
        return {"total": len(items), "items": items}


@router.delete("/tokens/{token_id}", status_code=204,
               responses=error_responses(403, 404, 422))
def revoke_token(token_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request,
                 actor: CurrentActor) -> Response:
    """Revoke one of your tokens (or anyone's, as admin)."""
    with database(request).session() as session:
        auth.revoke_token(session, actor, token_id)
    return Response(status_code=204)


@router.post("/users/{username}/tokens", status_code=201, response_model=TokenCreated,
             responses=error_responses(400, 403, 404, 413, 422))
def create_token(username: str, body: TokenCreate, request: Request,
                 actor: CurrentActor) -> dict[str, Any]:
    """The token is in this answer only; Steward keeps its hash. With `expires_in`
    (such as `90d`) it is refused with 401 from then on."""
    with database(request).session() as session:
        token, row = auth.issue_token(session, actor, username, body.name,
                                      expires_in=body.expires_in)
        return {"token": token, **row}
