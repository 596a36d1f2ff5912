"""Use cases for users, memberships, API tokens and web sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import ApiToken, TeamMembership, User, WebSession
from steward.auth.passwords import hash_password, verify_password
from steward.auth.schemas import UserCreate, UserUpdate
from steward.catalog.models import Team
from steward.db import text_search
from steward.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from steward.timeutil import utcnow

TOKEN_PREFIX = "stw_"


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def user_snapshot(session: Session, user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role,
        "active": user.active,
        "teams": user_team_names(session, user.id),
        "has_password": user.password_hash is not None,
    }


def user_team_ids(session: Session, user_id: int) -> frozenset[int]:
    return frozenset(
        session.scalars(select(TeamMembership.team_id).where(TeamMembership.user_id == user_id))
    )


def user_team_names(session: Session, user_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Team.name)
            .join(TeamMembership, TeamMembership.team_id == Team.id)
            .where(TeamMembership.user_id == user_id)
            .order_by(Team.name)
        )
    )


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} does not exist", field="user")
    return user


def _team_ids_for(session: Session, names: list[str]) -> list[int]:
    ids = []
    for name in dict.fromkeys(names):
        team_id = session.scalar(select(Team.id).where(Team.name == name))
        if team_id is None:
            raise ValidationError(f"teams: team {name!r} does not exist", field="teams")
        ids.append(team_id)
    return ids


def _set_memberships(session: Session, user: User, team_ids: list[int]) -> None:
    session.execute(delete(TeamMembership).where(TeamMembership.user_id == user.id))
    for team_id in team_ids:
        session.add(TeamMembership(user_id=user.id, team_id=team_id))
    session.flush()


def create_user(session: Session, actor: Actor, data: UserCreate,
                *, backstage_ref: str | None = None) -> User:
    actor.require_admin("create users")
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"username: a user named {data.username!r} already exists",
                       field="username")
    team_ids = _team_ids_for(session, data.teams)
    user = User(
        username=data.username,
        display_name=data.display_name or data.username,
        email=data.email,
        role=data.role,
        password_hash=hash_password(data.password) if data.password else None,
        backstage_ref=backstage_ref,
    )
    session.add(user)
    session.flush()
    _set_memberships(session, user, team_ids)
    audit.record(session, actor, "user.create", "user", user.id, after=user_snapshot(session, user))
    return user


def update_user(session: Session, actor: Actor, username: str, data: UserUpdate) -> User:
    user = get_user(session, username)
    actor.require_admin("change users")
    before = user_snapshot(session, user)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("teams") is not None:
        _set_memberships(session, user, _team_ids_for(session, changes.pop("teams")))
    changes.pop("teams", None)
    if changes.get("password") is not None:
        user.password_hash = hash_password(changes.pop("password"))
    changes.pop("password", None)
    if changes.get("active") is False:
        _end_sessions(session, user.id)
    for key, value in changes.items():
        if value is not None:
            setattr(user, key, value)
    session.flush()
    after = user_snapshot(session, user)
    if after != before or data.password:
        audit.record(session, actor, "user.update", "user", user.id, before=before, after=after)
    return user


def delete_user(session: Session, actor: Actor, username: str) -> None:
    user = get_user(session, username)
    actor.require_admin("delete users")
    if actor.user_id == user.id:
        raise Conflict("you cannot delete yourself", field="user")
    before = user_snapshot(session, user)
    session.delete(user)
    session.flush()
    audit.record(session, actor, "user.delete", "user", before["id"], before=before)


def list_users(session: Session, *, team: str | None = None, role: str | None = None,
               q: str | None = None, limit: int = 100, offset: int = 0) -> tuple[int, list[User]]:
    query = select(User)
    if team:
        query = (query.join(TeamMembership, TeamMembership.user_id == User.id)
                 .join(Team, Team.id == TeamMembership.team_id).where(Team.name == team))
    if role:
        query = query.where(User.role == role)
    if q:
        query = query.where(text_search(q, User.username, User.display_name))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = session.scalars(query.order_by(User.username).limit(limit).offset(offset)).all()
    return total, list(users)


def user_out(session: Session, user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role,
        "active": user.active,
        "teams": user_team_names(session, user.id),
    }


def actor_for_user(session: Session, user: User, *, kind: str = "user",
                   actor_id: str | None = None) -> Actor:
    return Actor(
        kind=kind,
        id=actor_id or str(user.id),
        name=user.username,
        role=user.role,
        team_ids=user_team_ids(session, user.id),
        user_id=user.id,
    )


# -- API tokens -----------------------------------------------------------------

def create_token(session: Session, actor: Actor, username: str, name: str = "") -> str:
    """Returns the token itself; only its hash is stored, so it is shown once."""
    user = get_user(session, username)
    if actor.user_id != user.id:
        actor.require_admin("create tokens for other users")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, prefix=token[:12], token_hash=sha256(token))
    session.add(row)
    session.flush()
    audit.record(session, actor, "token.create", "api_token", row.id,
                 after={"id": row.id, "user": user.username, "name": name, "prefix": row.prefix})
    return token


def authenticate_token(session: Session, token: str) -> Actor:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == sha256(token)))
    if row is None or row.revoked_at is not None:
        raise AuthenticationFailed("invalid or revoked API token")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise AuthenticationFailed("the token's user is disabled")
    return actor_for_user(session, user, kind="token", actor_id=f"token:{row.id}")


def list_tokens(session: Session, actor: Actor, username: str) -> list[dict[str, Any]]:
    user = get_user(session, username)
    if actor.user_id != user.id:
        actor.require_admin("see other users' tokens")
    return [{"id": t.id, "name": t.name, "prefix": t.prefix, "created_at": t.created_at,
             "revoked": t.revoked_at is not None}
            for t in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                     .order_by(ApiToken.id))]


def revoke_token(session: Session, actor: Actor, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist", field="id")
    if actor.user_id != row.user_id:
        actor.require_admin("revoke other users' tokens")
    row.revoked_at = utcnow()
    session.flush()
    audit.record(session, actor, "token.revoke", "api_token", row.id,
                 after={"id": row.id, "prefix": row.prefix, "revoked": True})


# -- web sessions -----------------------------------------------------------------

def login(session: Session, username: str, password: str, *, hours: int) -> tuple[str, User]:
    user = session.scalar(select(User).where(User.username == username))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise AuthenticationFailed("wrong username or password")
    if not user.active:
        raise AuthenticationFailed("this account is disabled")
    cookie = secrets.token_urlsafe(32)
    session.add(WebSession(id=sha256(cookie), user_id=user.id,
                           csrf_token=secrets.token_urlsafe(24),
                           expires_at=utcnow() + timedelta(hours=hours)))
    session.flush()
    return cookie, user


def session_user(session: Session, cookie: str) -> tuple[User, WebSession] | None:
    row = session.get(WebSession, sha256(cookie))
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user, row


def logout(session: Session, cookie: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == sha256(cookie)))


def _end_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
