"""Notifications under /api/v1: a person's contact methods, rules and quiet hours, a team's
subscriptions, and the delivery log with its dead letters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from steward.api.deps import CurrentActor, Limit, Offset, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.inputs import MAX_ID
from steward.notify import queries
from steward.notify.schemas import (
    ContactMethodIn,
    ContactMethodOut,
    NotificationOut,
    NotificationState,
    PreferencesIn,
    PreferencesOut,
    RuleIn,
    RuleOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
)
from steward.notify.use_cases import contacts, deliveries
from steward.notify.use_cases import subscriptions as subscribing
from steward.shapes import Listing, Page

router = api_router(prefix="/api/v1", tags=["notifications"], responses=error_responses(401))
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
MINE = error_responses(403, 404, 422)
WRITE = error_responses(400, 403, 404, 409, 413, 422)


@router.get("/users/{username}/contact-methods", response_model=Listing[ContactMethodOut],
            responses=MINE)
def list_contact_methods(username: str, request: Request,
                         actor: CurrentActor) -> dict[str, Any]:
    """Your own (or anyone's, as admin)."""
    with database(request).read_session() as session:
        contacts.require_person(session, actor, username)
        items = queries.contact_methods(session, username)
    return {"total": len(items), "items": items}


@router.post("/users/{username}/contact-methods", status_code=201,
             response_model=ContactMethodOut, responses=WRITE)
def add_contact_method(username: str, body: ContactMethodIn, request: Request,
                       actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        return contacts.add_contact_method(session, actor, username, body)


@router.delete("/users/{username}/contact-methods/{method_id}", status_code=204,
               responses=MINE)
def delete_contact_method(username: str, method_id: ItemId, request: Request,
                          actor: CurrentActor) -> Response:
    """Its notification rules go with it."""
    with database(request).session() as session:
        contacts.delete_contact_method(session, actor, username, method_id)
    return Response(status_code=204)


@router.get("/users/{username}/notification-rules", response_model=Listing[RuleOut],
            responses=MINE)
def list_rules(username: str, request: Request, actor: CurrentActor) -> dict[str, Any]:
    """In the order they fire. A person with none is emailed at once when paged."""
    with database(request).read_session() as session:
        contacts.require_person(session, actor, username)
        items = queries.rules(session, username)
    return {"total": len(items), "items": items}


@router.post("/users/{username}/notification-rules", status_code=201, response_model=RuleOut,
             responses=WRITE)
def add_rule(username: str, body: RuleIn, request: Request,
             actor: CurrentActor) -> dict[str, Any]:
    """Page through this contact method so many minutes after the page starts, for pages
    of this urgency (high: P1 and P2; low: P3 and P4; any)."""
    with database(request).session() as session:
        return contacts.add_rule(session, actor, username, body)


@router.delete("/users/{username}/notification-rules/{rule_id}", status_code=204,
               responses=MINE)
def delete_rule(username: str, rule_id: ItemId, request: Request,
                actor: CurrentActor) -> Response:
    with database(request).session() as session:
        contacts.delete_rule(session, actor, username, rule_id)
    return Response(status_code=204)


@router.get("/users/{username}/notify-preferences", response_model=PreferencesOut,
            responses=MINE)
def get_preferences(username: str, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        contacts.require_person(session, actor, username)
        return queries.preferences(session, username)


@router.put("/users/{username}/notify-preferences", response_model=PreferencesOut,
            responses=WRITE)
def set_preferences(username: str, body: PreferencesIn, request: Request,
                    actor: CurrentActor) -> dict[str, Any]:
    """Time zone and quiet hours (local HH:MM; the end may be past midnight). Quiet hours
    hold back low-urgency notifications until they end; high urgency is never held."""
    with database(request).session() as session:
        return contacts.set_preferences(session, actor, username, body)


@router.get("/teams/{team}/subscriptions", response_model=Listing[SubscriptionOut],
            responses=error_responses(404, 422))
def list_subscriptions(team: str, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        items = queries.subscriptions(session, team)
    return {"total": len(items), "items": items}


@router.post("/teams/{team}/subscriptions", status_code=201,
             response_model=SubscriptionCreated, responses=WRITE)
def create_subscription(team: str, body: SubscriptionIn, request: Request,
                        actor: CurrentActor) -> dict[str, Any]:
    """A webhook's signing secret is in this answer only (Steward keeps it sealed)."""
    with database(request).session() as session:
        return subscribing.create_subscription(session, actor, team, body)


@router.delete("/teams/{team}/subscriptions/{subscription_id}", status_code=204,
               responses=error_responses(403, 404, 422))
def delete_subscription(team: str, subscription_id: ItemId, request: Request,
                        actor: CurrentActor) -> Response:
    with database(request).session() as session:
        subscribing.delete_subscription(session, actor, team, subscription_id)
    return Response(status_code=204)


@router.get("/notifications", response_model=Page[NotificationOut],
            responses=error_responses(422))
def list_notifications(request: Request, _actor: CurrentActor, limit: Limit = 100,
                       offset: Offset = 0, state: NotificationState | None = None,
                       incident: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                       ) -> dict[str, Any]:
    """The delivery log, newest first; `state=dead` lists the dead letters."""
    with database(request).read_session() as session:
        total, items = queries.notifications(session, state=state, incident_id=incident,
                                             limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.post("/notifications/{notification_id}/retry", response_model=NotificationOut,
             responses=error_responses(403, 404, 409, 422))
def retry_notification(notification_id: ItemId, request: Request,
                       actor: CurrentActor) -> dict[str, Any]:
    """A dead letter back to pending, delivered again at once with a fresh count of
    attempts."""
    with database(request).session() as session:
        deliveries.retry(session, actor, notification_id)
        return queries.notification(session, notification_id)
