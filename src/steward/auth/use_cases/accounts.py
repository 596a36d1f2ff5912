"""Use cases for users, memberships, API tokens and web sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import TEAMS, ApiToken, TeamMembership, User, WebSession
from steward.auth.password_policy import password_problem
from steward.auth.passwords import hash_password
from steward.auth.schemas import UserCreate, UserUpdate
from steward.db import text_search
from steward.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from steward.timeutil import isoformat_z, utcnow

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
            select(TEAMS.c.name)
            .join(TeamMembership, TeamMembership.team_id == TEAMS.c.id)
            .where(TeamMembership.user_id == user_id)
            .order_by(TEAMS.c.name)
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
        team_id = session.scalar(select(TEAMS.c.id).where(TEAMS.c.name == name))
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
    if data.password is not None:
        check_password(data.password, data.username)
    team_ids = _team_ids_for(session, data.teams)
    user = User(
        username=data.username,
        display_name=data.display_name or data.username,
        email=data.email,
        role=data.role,
        backstage_ref=backstage_ref,
    )
    session.add(user)
    session.flush()
    if data.password:
        _store_password(session, user, data.password)
    _set_memberships(session, user, team_ids)
    audit.record(session, actor, "user.create", "user", user.id, after=user_snapshot(session, user))
    return user


def update_user(session: Session, actor: Actor, username: str, data: UserUpdate, *,
                keep_session: str | None = None) -> User:
    """Change a user. A new password ends every web session of theirs but ``keep_session``
    (the cookie of the session making the change, when they change their own)."""
    user = get_user(session, username)
    actor.require_admin("change users")
    before = user_snapshot(session, user)
    changes = data.model_dump(exclude_unset=True)
    password = changes.pop("password", None)
    if password is not None:
        check_password(password, user.username)
    teams = changes.pop("teams", None)
    changes = {key: value for key, value in changes.items() if value is not None}
    stays_admin = changes.get("role", user.role) == "admin" and changes.get("active", user.active)
    if user.role == "admin" and user.active and not stays_admin:
        _keep_an_admin(session, user)
    if teams is not None:
        _set_memberships(session, user, _team_ids_for(session, teams))
    if changes.get("active") is False:
        _end_sessions(session, user.id)
    for key, value in changes.items():
        setattr(user, key, value)
    session.flush()
    if password is not None:
        _store_password(session, user, password)
        _end_sessions(session, user.id, keep=keep_session)
    after = user_snapshot(session, user)
    if after != before or password is not None:
        audit.record(session, actor, "user.update", "user", user.id, before=before,
                     after={**after, "password_changed": True} if password is not None
                     else after)
    return user


def check_password(password: str, username: str) -> None:
    """Raises a 422 naming ``password`` when the policy refuses it."""
    problem = password_problem(password, username)
    if problem:
        raise ValidationError(f"password: {problem}", field="password")


def _store_password(session: Session, user: User, password: str) -> None:
    """The hash goes to the database in an UPDATE of its own, after the row is stored:
    a statement that fails on a constraint (and is logged by the database server with
    its failing row) never carries it."""
    session.execute(update(User).where(User.id == user.id)
                    .values(password_hash=hash_password(password)))
    session.refresh(user, ["password_hash"])


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to leave the organisation without an active admin. The active admins' rows
    are locked, so two admins demoting each other at once cannot both succeed."""
    admins = session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True))
                             .with_for_update()).all()
    if not set(admins) - {user.id}:
        raise Conflict(f"user {user.username!r} is the last active admin: make another user "
                       "admin first", field="role")


def delete_user(session: Session, actor: Actor, username: str) -> None:
    user = get_user(session, username)
    actor.require_admin("delete users")
    if actor.user_id == user.id:
        raise Conflict("you cannot delete yourself", field="user")
    if user.role == "admin" and user.active:
        _keep_an_admin(session, user)
    before = user_snapshot(session, user)
    session.delete(user)
    session.flush()
    audit.record(session, actor, "user.delete", "user", before["id"], before=before)


def list_users(session: Session, *, team: str | None = None, role: str | None = None,
               q: str | None = None, limit: int = 100, offset: int = 0) -> tuple[int, list[User]]:
    query = select(User)
    if team:
        query = (query.join(TeamMembership, TeamMembership.user_id == User.id)
                 .join(TEAMS, TEAMS.c.id == TeamMembership.team_id).where(TEAMS.c.name == team))
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

# A token's last use is written at most this often: an API call costs no write.
LAST_USE_RESOLUTION = timedelta(minutes=1)
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
          "w": timedelta(weeks=1)}
MAX_TOKEN_LIFETIME = timedelta(days=3660)


def token_lifetime(text: str | None) -> timedelta | None:
    """``90d``, ``12h``, ``2w`` or ``30m`` as a duration (None: no expiry)."""
    if text is None or not text.strip():
        return None
    match = re.fullmatch(r"\s*(\d{1,6})\s*([mhdw])\s*", text)
    lifetime = int(match.group(1)) * _UNITS[match.group(2)] if match else None
    if lifetime is None or not timedelta(0) < lifetime <= MAX_TOKEN_LIFETIME:
        raise ValidationError("expires_in: a lifetime such as 90d, 12h, 2w or 30m, at most "
                              "3660d", field="expires_in")
    return lifetime


def create_token(session: Session, actor: Actor, username: str, name: str = "", *,
                 expires_in: str | None = None) -> str:
    """Returns the token itself; only its hash is stored, so it is shown once."""
    return issue_token(session, actor, username, name, expires_in=expires_in)[0]


def issue_token(session: Session, actor: Actor, username: str, name: str = "", *,
                expires_in: str | None = None) -> tuple[str, dict[str, Any]]:
    """:func:`create_token`, with the stored token's description (prefix, expiry)."""
    user = get_user(session, username)
    if actor.user_id != user.id:
        actor.require_admin("create tokens for other users")
    lifetime = token_lifetime(expires_in)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, prefix=token[:12], token_hash=sha256(token),
                   expires_at=utcnow() + lifetime if lifetime else None)
    session.add(row)
    session.flush()
    audit.record(session, actor, "token.create", "api_token", row.id,
                 after={"id": row.id, "user": user.username, "name": name, "prefix": row.prefix,
                        "expires_at": row.expires_at})
    return token, token_out(row, user.username)


@dataclass(frozen=True)
class TokenUse:
    actor: Actor
    token_id: int
    last_use_due: bool  # the stored last use is older than LAST_USE_RESOLUTION


def use_token(session: Session, token: str) -> TokenUse:
    """Who a token acts as; refuses unknown, revoked and expired tokens (401)."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == sha256(token)))
    if row is None or row.revoked_at is not None:
        raise AuthenticationFailed("invalid or revoked API token")
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        raise AuthenticationFailed(f"this API token expired at {isoformat_z(row.expires_at)}: "
                                   "create a new one (steward token create)")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise AuthenticationFailed("the token's user is disabled")
    due = row.last_used_at is None or row.last_used_at <= now - LAST_USE_RESOLUTION
    return TokenUse(actor_for_user(session, user, kind="token", actor_id=f"token:{row.id}"),
                    row.id, due)


def authenticate_token(session: Session, token: str) -> Actor:
    return use_token(session, token).actor


def record_token_use(session: Session, token_id: int) -> None:
    """Set the token's last use to now, unless another request did within the minute."""
    now = utcnow()
    session.execute(update(ApiToken).where(
        ApiToken.id == token_id,
        or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USE_RESOLUTION),
    ).values(last_used_at=now))


def token_out(row: ApiToken, username: str) -> dict[str, Any]:
    return {"id": row.id, "user": username, "name": row.name, "prefix": row.prefix,
            "created_at": row.created_at, "expires_at": row.expires_at,
            "last_used_at": row.last_used_at, "revoked": row.revoked_at is not None,
            "expired": row.expires_at is not None and row.expires_at <= utcnow()}


def list_tokens(session: Session, actor: Actor,
                username: str | None = None) -> list[dict[str, Any]]:
    """One user's tokens, or everyone's (admins only) when no user is named."""
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if username is not None:
        user = get_user(session, username)
        if actor.user_id != user.id:
            actor.require_admin("see other users' tokens")
        query = query.where(ApiToken.user_id == user.id)
    else:
        actor.require_admin("see every user's tokens")
    return [token_out(row, name) for row, name in session.execute(query.order_by(ApiToken.id))]


def revoke_token(session: Session, actor: Actor, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist", field="id")
    if actor.user_id != row.user_id:
        actor.require_admin("revoke other users' tokens")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    audit.record(session, actor, "token.revoke", "api_token", row.id,
                 after={"id": row.id, "prefix": row.prefix, "revoked": True})


# -- web sessions -----------------------------------------------------------------

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


def _end_sessions(session: Session, user_id: int, *, keep: str | None = None) -> None:
    """End the user's web sessions, all but the one with cookie ``keep``."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep:
        query = query.where(WebSession.id != sha256(keep))
    session.execute(query)
