"""Integration credentials: keys that route events and webhook secrets.

Every credential is random. Steward keeps its SHA-256, so a bearer key, a
routing key or a GitLab token is found by its hash. A GitHub webhook secret
must also be used, to check signatures: it is kept sealed as well, with the
server's secret key, which is never stored in the database
(:mod:`steward.auth.secret_key`). The database alone therefore holds nothing
that reproduces or uses a credential.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth import keyring
from steward.auth.actor import Actor
from steward.auth.models import SERVICES, TEAMS, Integration
from steward.auth.secret_key import SecretKeyProblem, sealed_key_id
from steward.db.direct import Driver
from steward.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from steward.timeutil import utcnow

INTEGRATION_TYPES = ("github", "gitlab", "cdevents", "pagerduty", "alertmanager", "grafana",
                     "generic")
KEY_PREFIX = "stk_"
NAME_LENGTH = 200  # integrations.name
# Types whose secret Steward must use itself (to check a signature), not just recognise.
SEALED_TYPES = ("github",)

logger = logging.getLogger("steward.secrets")


def new_key(type: str) -> str:
    if type == "pagerduty":
        # PagerDuty routing keys are 32 alphanumeric characters; senders check that.
        return secrets.token_hex(16)
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_type(type: str) -> None:
    if type not in INTEGRATION_TYPES:
        raise ValidationError(f"type: must be one of {', '.join(INTEGRATION_TYPES)}",
                              field="type")


def create_integration(session: Session, actor: Actor, type: str, *, service: str | None = None,
                       team: str | None = None, name: str = "") -> tuple[Integration, str]:
    """Returns the integration and its key, which is shown this once."""
    check_type(type)
    if len(name) > NAME_LENGTH:
        raise ValidationError(f"name: at most {NAME_LENGTH} characters", field="name")
    service_row = None
    if service:
        service_row = session.execute(select(SERVICES.c.id, SERVICES.c.owner_team_id)
                                      .where(SERVICES.c.name == service)).first()
        if service_row is None:
            raise ValidationError(f"service: service {service!r} does not exist", field="service")
    team_id = service_row.owner_team_id if service_row else None
    if team:
        team_id = session.scalar(select(TEAMS.c.id).where(TEAMS.c.name == team))
        if team_id is None:
            raise ValidationError(f"team: team {team!r} does not exist", field="team")
    if team_id is None:
        actor.require_admin("create integrations for no particular team")
    else:
        actor.require_team_write(team_id, "create integrations for this team")
    key = new_key(type)
    integration = Integration(type=type, name=name or type, service_id=service_row.id
                              if service_row else None, team_id=team_id,
                              key_hash=_hash(key), prefix=key[:10])
    session.add(integration)
    session.flush()
    if type in SEALED_TYPES:
        integration.secret_sealed = keyring.current_key(session).seal(
            key, keyring.sealing_context(integration.id))
        session.flush()
    audit.record(session, actor, "integration.create", "integration", integration.id,
                 after=integration_out(session, integration))
    return integration, key


def new_integration(session: Session, actor: Actor, type: str, *, service: str | None = None,
                    team: str | None = None, name: str = "") -> dict[str, Any]:
    """:func:`create_integration` answered as the API shows an integration, with its
    ``key``: the one answer that carries it."""
    integration, key = create_integration(session, actor, type, service=service, team=team,
                                          name=name)
    return {**integration_out(session, integration), "key": key}


def integration_out(session: Session, integration: Integration) -> dict[str, Any]:
    """An integration as the API shows it (never its key)."""
    service = session.scalar(select(SERVICES.c.name).where(
        SERVICES.c.id == integration.service_id)) if integration.service_id else None
    team = session.scalar(select(TEAMS.c.name).where(
        TEAMS.c.id == integration.team_id)) if integration.team_id else None
    return {"id": integration.id, "type": integration.type, "name": integration.name,
            "service": service, "team": team,
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


def webhook_secrets(session: Session, type: str) -> Iterator[tuple[Integration, str]]:
    """The active integrations of a sealed type with their secrets, to check a signature.

    A secret the server's key cannot open is skipped and logged; when nothing could be
    opened, the set-up problem is raised (503) rather than every sender told 401."""
    rows = [row for row in active_of_type(session, type) if row.secret_sealed]
    if not rows:
        return
    try:
        key = keyring.current_key(session, create=False)
    except SecretKeyProblem as exc:
        logger.error("cannot check %s webhook signatures: %s", type, exc.message)
        raise SecretKeyProblem("the server's secret key is missing or unreadable; its log "
                               "says more") from None
    opened = 0
    for row in rows:
        assert row.secret_sealed is not None
        if sealed_key_id(row.secret_sealed) != key.key_id:
            logger.error("integration %s: its secret is sealed with key %s, this server has "
                         "key %s from %s", row.id, sealed_key_id(row.secret_sealed),
                         key.key_id, key.origin)
            continue
        opened += 1
        yield row, key.unseal(row.secret_sealed, keyring.sealing_context(row.id))
    if not opened:
        raise SecretKeyProblem("the server's secret key does not open the webhook secrets; "
                               "its log says more")


def revoke_integration(session: Session, actor: Actor, integration_id: int) -> None:
    """Its key stops working at once; revoking it again is refused (409), so the audit
    log holds one revocation."""
    row = session.get(Integration, integration_id)
    if row is None:
        raise NotFound(f"integration {integration_id} does not exist", field="id")
    if row.revoked_at is not None:
        raise Conflict(f"integration {row.id} is already revoked")
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
