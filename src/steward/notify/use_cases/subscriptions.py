"""Teams' outbound subscriptions: a member of the team or an admin adds and removes
them. A webhook's signing secret is made here, sealed, and shown once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.errors import Conflict, NotFound, ValidationError
from steward.notify import queries
from steward.notify.models import Notification, Subscription
from steward.notify.outbound import KIND_EVENTS
from steward.notify.schemas import SubscriptionIn
from steward.notify.signing_secrets import new_secret, seal_secret
from steward.notify.targets import target_problem


def create_subscription(session: Session, actor: Actor, team: str,
                        data: SubscriptionIn) -> dict[str, Any]:
    team_id = queries.team_id_of(session, team)
    actor.require_team_write(team_id, "add subscriptions to this team")
    problem = target_problem(data.kind, data.url)
    if problem:
        raise ValidationError(f"url: {problem}", field="url")
    allowed = KIND_EVENTS[data.kind]
    refused = [kind for kind in data.event_types if kind not in allowed]
    if refused:
        raise ValidationError(f"event_types: a {data.kind} subscription is told of "
                              f"{', '.join(allowed)}; not {', '.join(refused)}",
                              field="event_types")
    if session.scalar(select(Subscription.id).where(
            Subscription.team_id == team_id, Subscription.name == data.name)) is not None:
        raise Conflict(f"name: team {team} already has a subscription {data.name!r}",
                       field="name")
    row = Subscription(team_id=team_id, name=data.name, kind=data.kind, url=data.url,
                       event_types=sorted(set(data.event_types)), active=True,
                       created_by=actor.name)
    session.add(row)
    session.flush()
    secret = None
    if data.kind == "webhook":
        secret = new_secret()
        seal_secret(session, row, secret)
        session.flush()
    out = queries.subscription_out(row, team)
    audit.record(session, actor, "subscription.create", "subscription", row.id, after=out)
    return {**out, "secret": secret}


def delete_subscription(session: Session, actor: Actor, team: str,
                        subscription_id: int) -> None:
    team_id = queries.team_id_of(session, team)
    actor.require_team_write(team_id, "remove this team's subscriptions")
    row = session.get(Subscription, subscription_id)
    if row is None or row.team_id != team_id:
        raise NotFound(f"team {team} has no subscription {subscription_id}",
                       field="subscription_id")
    before = queries.subscription_out(row, team)
    # What it had not delivered yet is not sent (unsigned, to a target nobody follows).
    session.execute(update(Notification).where(
        Notification.subscription_id == row.id, Notification.state.in_(("pending", "dead")))
        .values(state="skipped", last_error=f"subscription {row.name!r} was removed before "
                "this was delivered"), execution_options={"synchronize_session": False})
    session.delete(row)
    session.flush()
    audit.record(session, actor, "subscription.delete", "subscription", subscription_id,
                 before=before)
