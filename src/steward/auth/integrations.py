"""Integration credentials: keys that route events and webhook secrets.

A credential is derived, never stored: ``HMAC(server secret, id:salt)``.
Steward keeps the salt and the credential's SHA-256, so a bearer key or a
GitLab token is found by its hash, and a GitHub HMAC secret can be derived
again to check a signature. The server secret comes from
``STEWARD_SECRET_KEY``, or is generated once and kept in the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import Integration, ServerSecret
from steward.catalog.models import Service, Team
from steward.driver_sql import Driver
from steward.errors import AuthenticationFailed, NotFound, ValidationError
from steward.timeutil import utcnow

INTEGRATION_TYPES = ("github", "gitlab", "cdevents", "pagerduty", "alertmanager", "grafana",
                     "generic")
KEY_PREFIX = "stk_"


def server_secret(session: Session) -> bytes:
    configured = os.environ.get("STEWARD_SECRET_KEY", "")
    if configured:
        return configured.encode()
    row = session.get(ServerSecret, 1)
    if row is None:
        row = ServerSecret(id=1, value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return row.value.encode()


def derive_key(session: Session, integration: Integration) -> str:
    digest = hmac.new(server_secret(session), f"{integration.id}:{integration.salt}".encode(),
                      hashlib.sha256).digest()
    if integration.type == "pagerduty":
        # PagerDuty routing keys are 32 alphanumeric characters; senders check that.
        return digest.hex()[:32]
    return KEY_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_integration(session: Session, actor: Actor, type: str, *, service: str | None = None,
                       team: str | None = None, name: str = "") -> tuple[Integration, str]:
    """Returns the integration and its key, which is shown this once."""
    if type not in INTEGRATION_TYPES:
        raise ValidationError(f"type: must be one of {', '.join(INTEGRATION_TYPES)}",
                              field="type")
    service_row = None
    if service:
        service_row = session.scalar(select(Service).where(Service.name == service))
        if service_row is None:
            raise ValidationError(f"service: service {service!r} does not exist", field="service")
    team_id = service_row.owner_team_id if service_row else None
    if team:
        team_id = session.scalar(select(Team.id).where(Team.name == team))
        if team_id is None:
            raise ValidationError(f"team: team {team!r} does not exist", field="team")
    if team_id is None:
        actor.require_admin("create integrations for no particular team")
    else:
        actor.require_team_write(team_id, "create integrations for this team")
    integration = Integration(type=type, name=name or type, service_id=service_row.id
                              if service_row else None, team_id=team_id,
                              salt=secrets.token_hex(16), key_hash=secrets.token_hex(32))
    session.add(integration)
    session.flush()
    key = derive_key(session, integration)
    integration.key_hash = _hash(key)
    integration.prefix = key[:10]
    session.flush()
    audit.record(session, actor, "integration.create", "integration", integration.id,
                 after=integration_out(session, integration))
    return integration, key


def integration_out(session: Session, integration: Integration) -> dict[str, Any]:
    service = session.get(Service, integration.service_id) if integration.service_id else None
    team = session.get(Team, integration.team_id) if integration.team_id else None
    return {"id": integration.id, "type": integration.type, "name": integration.name,
            "service": service.name if service else None, "team": team.name if team else None,
            "prefix": integration.prefix, "created_at": integration.created_at,
            "revoked": integration.revoked_at is not None}


def by_key(session: Session, key: str | None, *, types: tuple[str, ...] = ()) -> Integration:
    """The active integration a bearer key, routing key or token belongs to."""
    key = presented_key(key)
    row = session.scalar(select(Integration).where(Integration.key_hash == _hash(key)))
    if row is None or row.revoked_at is not None or (types and row.type not in types):
        raise AuthenticationFailed("unknown or revoked integration key")
    return row


@dataclass(frozen=True)
class KeyHolder:
    """What the alert writer needs of the integration a key belongs to."""

    id: int
    team_id: int | None
    service_id: int | None
    type: str


def presented_key(key: str | None) -> str:
    """The key a request presents; none at all is refused at once (401), before
    anything else about the request is read."""
    if not key:
        raise AuthenticationFailed("missing integration key")
    return key


def key_holder(session: Session, key: str | None, *, types: tuple[str, ...] = ()) -> KeyHolder:
    """:func:`by_key` for the ingestion hot path: the same checks and errors, one
    driver-level query, no ORM object."""
    key = presented_key(key)
    rows = Driver(session).rows(_KEY_HOLDER, (_hash(key),))
    if not rows or rows[0][4] is not None or (types and rows[0][3] not in types):
        raise AuthenticationFailed("unknown or revoked integration key")
    return KeyHolder(*rows[0][:4])


_KEY_HOLDER = ("SELECT id, team_id, service_id, type, revoked_at FROM integrations "
               "WHERE key_hash = ?")


def active_of_type(session: Session, type: str) -> Iterator[Integration]:
    yield from session.scalars(select(Integration).where(
        Integration.type == type, Integration.revoked_at.is_(None)).order_by(Integration.id))


def revoke_integration(session: Session, actor: Actor, integration_id: int) -> None:
    row = session.get(Integration, integration_id)
    if row is None:
        raise NotFound(f"integration {integration_id} does not exist", field="id")
    actor.require_team_write(row.team_id, "revoke this integration")
    row.revoked_at = utcnow()
    session.flush()
    audit.record(session, actor, "integration.revoke", "integration", row.id,
                 after=integration_out(session, row))


def integration_actor(session: Session, integration: Integration) -> Actor:
    """Events from an integration act as that integration, within its team."""
    # An integration set up by an admin for no team may route to any service.
    role = "admin" if integration.team_id is None else "member"
    return Actor(kind="integration", id=f"integration:{integration.id}",
                 name=f"{integration.type}:{integration.name}", role=role,
                 team_ids=frozenset({integration.team_id}) if integration.team_id else frozenset())
