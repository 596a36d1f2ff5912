"""Users and API tokens under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from steward.api.deps import SESSION_COOKIE, CurrentActor, Limit, Offset, database
from steward.auth import service as auth
from steward.auth.schemas import Role, TokenCreate, UserCreate, UserOut, UserUpdate

router = APIRouter(prefix="/api/v1", tags=["users"])


@router.get("/users")
def list_users(request: Request, _actor: CurrentActor, limit: Limit = 100, offset: Offset = 0,
               team: str | None = None, role: Role | None = None,
               q: str | None = None) -> dict[str, Any]:
    with database(request).read_session() as session:
        total, users = auth.list_users(session, team=team, role=role, q=q, limit=limit,
                                       offset=offset)
        return {"total": total, "limit": limit, "offset": offset,
                "items": [auth.user_out(session, u) for u in users]}


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(body: UserCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        return auth.user_out(session, auth.create_user(session, actor, body))


@router.get("/users/me", response_model=UserOut)
def me(request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return auth.user_out(session, auth.get_user(session, actor.name))


@router.get("/users/{username}", response_model=UserOut)
def get_user(username: str, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return auth.user_out(session, auth.get_user(session, username))


@router.patch("/users/{username}", response_model=UserOut)
def update_user(username: str, body: UserUpdate, request: Request,
                actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        return auth.user_out(session, auth.update_user(
            session, actor, username, body, keep_session=request.cookies.get(SESSION_COOKIE)))


@router.delete("/users/{username}", status_code=204)
def delete_user(username: str, request: Request, actor: CurrentActor) -> Response:
    with database(request).session() as session:
        auth.delete_user(session, actor, username)
    return Response(status_code=204)


@router.get("/users/{username}/tokens")
def list_tokens(username: str, request: Request, actor: CurrentActor) -> dict[str, Any]:
    """Your own tokens (or anyone's, as admin): prefixes only, never the tokens."""
    with database(request).read_session() as session:
        items = auth.list_tokens(session, actor, username)
        return {"total": len(items), "items": items}


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: Annotated[int, Path(ge=1, le=2**62)], request: Request,
                 actor: CurrentActor) -> Response:
    """Revoke one of your tokens (or anyone's, as admin)."""
    with database(request).session() as session:
        auth.revoke_token(session, actor, token_id)
    return Response(status_code=204)


@router.post("/users/{username}/tokens", status_code=201)
def create_token(username: str, body: TokenCreate, request: Request,
                 actor: CurrentActor) -> dict[str, Any]:
    """The token is in this answer only; Steward keeps its hash. With `expires_in`
    (such as `90d`) it is refused with 401 from then on."""
    with database(request).session() as session:
        token, row = auth.issue_token(session, actor, username, body.name,
                                      expires_in=body.expires_in)
        return {"token": token, **row}
