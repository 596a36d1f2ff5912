"""What people do with notifications: retry a dead letter, and acknowledge an incident
from the one-click link of a page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.keyring import current_key
from steward.auth.models import User
from steward.auth.use_cases.accounts import actor_for_user
from steward.changes.models import Change
from steward.errors import Conflict, NotFound, PermissionDenied
from steward.incidents.models import Incident
from steward.incidents.use_cases import lifecycle
from steward.notify import ack_token, outbox
from steward.notify.models import Notification, Subscription
from steward.timeutil import isoformat_z, utcnow


def _teams_of(session: Session, notification: Notification) -> list[int | None]:
    teams: list[int | None] = []
    if notification.subscription_id is not None:
        teams.append(session.scalar(select(Subscription.team_id).where(
            Subscription.id == notification.subscription_id)))
    if notification.incident_id is not None:
        teams.append(session.scalar(select(Incident.owner_team_id).where(
            Incident.id == notification.incident_id)))
    if notification.change_id is not None:
        teams.append(session.scalar(select(Change.owner_team_id).where(
            Change.id == notification.change_id)))
    return teams


def retry(session: Session, actor: Actor, notification_id: int) -> Notification:
    """A dead letter back to pending, its attempts counted anew, due at once. Its person,
    a member of the team it concerns, or an admin may."""
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is None:
        raise NotFound(f"notification {notification_id} does not exist", field="id")
    allowed = actor.is_admin or (actor.user_id is not None
                                 and actor.user_id == notification.user_id) or any(
        actor.can_write_team(team) for team in _teams_of(session, notification) if team)
    if not allowed:
        raise PermissionDenied("only the person notified, a member of the team concerned "
                               "or an admin may retry this notification")
    if notification.state != "dead":
        raise Conflict(f"state: notification {notification_id} is {notification.state}; "
                       "only a dead one is retried", field="state")
    before = {"state": notification.state, "attempts": notification.attempts,
              "last_error": notification.last_error}
    now = utcnow()
    notification.state = "pending"
    notification.attempts = 0
    notification.due_at = now
    outbox.schedule_attempt(session, notification.id, now)
    session.flush()
    audit.record(session, actor, "notification.retry", "notification", notification.id,
                 before=before, after={"state": "pending", "attempts": 0})
    return notification


@dataclass(frozen=True)
class AckLink:
    """What an acknowledge link leads to, for its page."""

    # ok, acknowledged (just now), used, expired, invalid, done (no longer triggered),
    # forbidden (the person may not respond to incidents)
    state: str
    incident_id: int | None = None
    number: str = ""
    title: str = ""
    priority: str = ""
    status: str = ""
    username: str = ""
    expires_at: str | None = None
    used_at: str | None = None


def _claim(session: Session, token: str) -> ack_token.AckClaim | None:
    try:
        return ack_token.read_token(ack_token.signing_key(current_key(session).secret), token)
    except ack_token.BadToken:
        return None


def read_link(session: Session, token: str, *, lock: bool = False
              ) -> tuple[AckLink, Notification | None, User | None]:
    claim = _claim(session, token)
    if claim is None:
        return AckLink("invalid"), None, None
    notification = session.get(Notification, claim.notification_id, with_for_update=lock)
    incident = session.get(Incident, claim.incident_id)
    user = session.get(User, claim.user_id)
    if (notification is None or incident is None or user is None
            or notification.incident_id != incident.id or notification.user_id != user.id):
        return AckLink("invalid"), None, None
    state = "ok"
    if notification.ack_used_at is not None:
        state = "used"
    elif claim.expired(utcnow()):
        state = "expired"
    elif incident.status != "triggered":
        state = "done"
    link = AckLink(state, incident.id, f"INC-{incident.id}", incident.title,
                   incident.priority, incident.status, user.username,
                   isoformat_z(claim.expires_at), isoformat_z(notification.ack_used_at))
    return link, notification, user


def acknowledge_by_link(session: Session, token: str) -> AckLink:
    """Acknowledges the incident as the person paged, through the incidents' own use case
    (timeline and audit entry), once: the link is then used. A used, expired or unknown
    link changes nothing; neither does one for an incident no longer triggered."""
    link, notification, user = read_link(session, token, lock=True)
    if link.state != "ok":
        return link
    assert notification is not None and user is not None and link.incident_id is not None
    if not user.active:
        return AckLink("invalid")
    actor = actor_for_user(session, user, kind="ack_link", actor_id=f"notification:"
                                                                     f"{notification.id}")
    try:
        lifecycle.act(session, actor, link.incident_id, "acknowledge",
                      note="Acknowledged from the link in a page.")
    except Conflict:  # acknowledged (or resolved) meanwhile, another way
        return AckLink("done", link.incident_id, link.number, link.title, link.priority,
                       "acknowledged", link.username, link.expires_at)
    except PermissionDenied:
        return AckLink("forbidden", link.incident_id, link.number, link.title,
                       link.priority, link.status, link.username, link.expires_at)
    notification.ack_used_at = utcnow()
    session.flush()
    audit.record(session, actor, "notification.ack_link", "notification", notification.id,
                 after={"incident_id": link.incident_id, "username": user.username})
    return AckLink("acknowledged", link.incident_id, link.number, link.title, link.priority,
                   "acknowledged", user.username, link.expires_at,
                   isoformat_z(notification.ack_used_at))
