"""Incidents: opening, joining alerts, state changes, people, priority and cause."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from steward import events
from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import User
from steward.catalog.graph import load_graph
from steward.catalog.impact import Graph
from steward.catalog.models import Service, Team
from steward.errors import Conflict, NotFound, ValidationError
from steward.incidents import alert_groups, health, priority, rules, settings
from steward.incidents.commands import incident_title
from steward.incidents.models import OPEN_STATES, Alert, Incident, IncidentService
from steward.incidents.timeline import add_entry
from steward.incidents.transaction_state import forget_open_incidents, graph_for
from steward.incidents.use_cases import identity
from steward.timeutil import as_utc, utcnow

SEVERITY_ORDER = ("critical", "error", "warning", "info")
# Where a responder may move an incident; "reopen" brings a resolved or closed one back.
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (("triggered",), "acknowledged"),
    "mitigate": (("triggered", "acknowledged"), "mitigated"),
    "resolve": (("triggered", "acknowledged", "mitigated"), "resolved"),
    "close": (("resolved",), "closed"),
    "reopen": (("resolved", "closed"), "triggered"),
}


def snapshot(incident: Incident) -> dict[str, Any]:
    return {"id": incident.id, "title": incident.title, "status": incident.status,
            "priority": incident.priority, "impact": incident.impact,
            "urgency": incident.urgency, "origin_service_id": incident.origin_service_id,
            "owner_team_id": incident.owner_team_id, "assignee_id": incident.assignee_id,
            "commander_id": incident.commander_id,
            "caused_by_deployment_id": incident.caused_by_deployment_id}


def get_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist", field="incident")
    return incident


def _add_service(session: Session, incident: Incident, service_id: int, at: datetime) -> None:
    known = session.get(IncidentService, (incident.id, service_id))
    if known is None:
        session.add(IncidentService(incident_id=incident.id, service_id=service_id,
                                    first_alert_at=at))
        session.flush()
    elif as_utc(known.first_alert_at) > at:
        known.first_alert_at = at


def open_incident(session: Session, alert: Alert, service: Service, reason: str) -> Incident:
    incident = Incident(title=incident_title(alert.summary, service.name), status="triggered",
                        started_at=alert.first_seen, last_alert_at=alert.first_seen,
                        group_keys=[alert.group_key] if alert.group_key else [], alert_count=1)
    session.add(incident)
    session.flush()
    alert.incident_id = incident.id
    _add_service(session, incident, service.id, alert.first_seen)
    alert_groups.alert_joined(session, alert)
    add_entry(session, incident, "alert", f"Alert on {service.name}: {alert.summary} "
              f"({alert.severity}). {reason}", at=alert.first_seen,
              data={"alert_id": alert.id, "service": service.name})
    graph = graph_for(session)
    if session.info.get(DEFERRED) is not None and service.id in graph.cis:
        # Recomputed at the end of the batch; its first alert's priority meanwhile, as
        # one alert at a time would give it (a later change is noted from there).
        incident.priority_reasons = _derive_priority(graph, incident, health.service_impacts(
            [service.id], [(service.id, alert.severity, True)]), [alert.severity])
        incident.priority = priority.priority(incident.impact, incident.urgency)
    recompute_soon(session, incident)
    events.publish(session, events.Event("incident.triggered", incident.id, at=alert.first_seen,
                                         data={"manual": False}))
    return incident


def join_incident(session: Session, incident: Incident, alert: Alert, service: Service,
                  reason: str) -> None:
    alert.incident_id = incident.id
    # In SQL, so that a count another writer has just raised is never overwritten.
    incident.alert_count = Incident.alert_count + 1
    alert_groups.alert_joined(session, alert)
    known = session.get(IncidentService, (incident.id, service.id))
    effects = rules.joining(
        status=incident.status, urgency=incident.urgency,
        urgency_overridden=incident.urgency_overridden, started_at=incident.started_at,
        group_keys=incident.group_keys or [],
        service_first_alert=known.first_alert_at if known is not None else None,
        severity=alert.severity, seen=alert.first_seen, group_key=alert.group_key,
        worsens_service=known is not None and _worsens(session, incident, alert))
    _add_service(session, incident, service.id, alert.first_seen)
    if alert.group_key and alert.group_key not in (incident.group_keys or []):
        incident.group_keys = [*(incident.group_keys or []), alert.group_key]
    incident.last_alert_at = max(as_utc(incident.last_alert_at or alert.first_seen),
                                 alert.first_seen)
    if alert.first_seen < as_utc(incident.started_at):
        incident.started_at = alert.first_seen
    add_entry(session, incident, "alert", f"Alert on {service.name} joined: {alert.summary} "
              f"({alert.severity}). {reason}", at=alert.first_seen,
              data={"alert_id": alert.id, "service": service.name})
    if effects.reopens:
        _set_status(session, incident, "triggered", alert.first_seen,
                    "A new alert fired on a mitigated incident.")
    if effects.recompute:
        recompute_soon(session, incident)


def _worsens(session: Session, incident: Incident, alert: Alert) -> bool:
    """Whether ``alert`` makes its service's state in the incident worse than its other
    alerts did (a warning after info alerts, a critical after warnings)."""
    as_bad = health.severities_as_bad(alert.severity)
    return bool(as_bad) and session.scalar(select(Alert.id).where(
        Alert.incident_id == incident.id, Alert.service_id == alert.service_id,
        Alert.id != alert.id, Alert.severity.in_(as_bad)).limit(1)) is None


DEFERRED = "steward.recompute_later"


def recompute_soon(session: Session, incident: Incident) -> None:
    """Recompute now, or once at the end of a batch of alerts (see ``record_prepared``)."""
    later = session.info.get(DEFERRED)
    if later is None:
        recompute(session, incident)
    else:
        later[incident.id] = incident


def recompute(session: Session, incident: Incident) -> None:
    """Origin, owner, responding teams, business services affected and priority, from
    its alerts."""
    graph = graph_for(session)
    rows = session.execute(select(IncidentService.service_id, IncidentService.first_alert_at)
                           .where(IncidentService.incident_id == incident.id)).all()
    alerting = [(sid, as_utc(at)) for sid, at in rows if sid in graph.cis]
    has_alerts = incident.manual is False or session.scalar(
        select(func.count()).where(Alert.incident_id == incident.id))
    if alerting:  # origin, owner and responding teams (see ``identity``)
        identity.settle(session, incident, graph, alerting, bool(has_alerts))
    # Each service's state from its alerts (severity means impact), spread through the
    # graph. Every alert the incident has had counts, resolved or not: its impact does not
    # fall by itself while it is open (live health counts the active ones).
    alert_rows = session.execute(
        select(Alert.service_id, Alert.severity).where(Alert.incident_id == incident.id)
        .group_by(Alert.service_id, Alert.severity)).all()
    impacts = health.service_impacts(
        [sid for sid, _ in alerting],
        [(sid, sev, True) for sid, sev in alert_rows if sid in graph.cis])
    reasons = _derive_priority(graph, incident, impacts,
                               sorted({sev for _, sev in alert_rows}) or ["error"])
    incident.service_impacts = {str(sid): impact.impact for sid, impact in impacts.items()}
    new_priority = priority.priority(incident.impact, incident.urgency)
    if new_priority != incident.priority and incident.id is not None and reasons:
        if incident.priority and (session.scalar(select(func.count()).where(
                Alert.incident_id == incident.id)) or 0) > 1:
            add_entry(session, incident, "priority",
                      f"Priority {incident.priority} -> {new_priority}.")
    incident.priority = new_priority
    incident.priority_reasons = reasons or list(incident.priority_reasons or [])
    session.flush()


def _derive_priority(graph: Graph, incident: Incident, impacts: dict[int, health.ServiceImpact],
                     severities: Sequence[str]) -> list[str]:
    """Business services hit, impact and urgency (each unless set by hand) from the states
    of the incident's services and its alerts' severities; the reasons for what was set."""
    result = health.incident_analysis(graph, impacts)
    down = [a.name for a in result.business_services if a.state == "down"]
    degraded = [a.name for a in result.business_services if a.state == "degraded"]
    incident.business_services = {"down": down, "degraded": degraded}
    reasons = []
    if not incident.impact_overridden:
        incident.impact, why = priority.impact_from(
            [graph.cis[a.id].tier for a in result.down],
            [graph.cis[a.id].tier for a in result.degraded], len(down), len(degraded),
            info_only=bool(impacts) and all(i.impact == "none" for i in impacts.values()))
        reasons.append(why)
    if not incident.urgency_overridden:
        incident.urgency, why = priority.urgency_from(severities)
        reasons.append(why)
    return reasons


def _set_status(session: Session, incident: Incident, status: str, at: datetime, text: str,
                actor: str = "") -> None:
    before = incident.status
    incident.status = status
    if status == "acknowledged" and incident.acknowledged_at is None:
        incident.acknowledged_at = at
    if status == "mitigated":
        incident.mitigated_at = at
        if incident.acknowledged_at is None:
            incident.acknowledged_at = at
    if status == "resolved":
        incident.resolved_at = at
        incident.mitigated_at = incident.mitigated_at or at
        incident.acknowledged_at = incident.acknowledged_at or at
    if status == "closed":
        incident.closed_at = at
    if status == "triggered" and before in ("resolved", "closed"):
        incident.reopen_count += 1
        incident.resolved_at = incident.closed_at = None
    if status == "triggered" and before == "mitigated":
        incident.mitigated_at = None
    add_entry(session, incident, "state", f"{before} -> {status}. {text}".strip(), actor=actor,
              at=at, data={"from": before, "to": status})
    session.flush()
    forget_open_incidents(session)
    kind = "reopened" if status == "triggered" else status
    events.publish(session, events.Event(f"incident.{kind}", incident.id, at=at, actor=actor,
                                         data={"from": before}))


def alert_acknowledged(session: Session, incident: Incident, alert: Alert,
                       at: datetime) -> None:
    if incident.status == "triggered":
        _set_status(session, incident, "acknowledged", at,
                    f"Acknowledged at the source ({alert.source}).")


def reopen(session: Session, incident: Incident, at: datetime, text: str) -> None:
    """A resolved or closed incident back to triggered (an alert of it fired again)."""
    _set_status(session, incident, "triggered", at, text)


def resolve_alerts(session: Session, incident: Incident, at: datetime) -> int:
    """The incident's alerts not resolved yet resolve with it, said in one timeline entry."""
    done: Any = session.execute(
        update(Alert).where(Alert.incident_id == incident.id, Alert.status != "resolved")
        .values(status="resolved", resolved_at=at)
        .execution_options(synchronize_session="evaluate"))
    count = done.rowcount
    if count:
        alert_groups.all_resolved(session, incident.id)
        add_entry(session, incident, "alert", f"{count} alert{'' if count == 1 else 's'} "
                  "resolved with the incident.", at=at, data={"alerts_resolved": count})
        session.flush()
    return int(count or 0)


def alerts_resolved(session: Session, incident: Incident, at: datetime) -> None:
    """When every alert of an incident has resolved, it is mitigated (if configured)."""
    still = session.scalar(select(func.count()).where(
        Alert.incident_id == incident.id, Alert.status != "resolved"))
    if not still and settings.auto_mitigate() and incident.status in ("triggered",
                                                                       "acknowledged"):
        _set_status(session, incident, "mitigated", at, "All alerts resolved.")


def action_time(at: datetime | None) -> datetime:
    now = utcnow()
    if at is None:
        return now
    at = as_utc(at)
    if at > now + timedelta(seconds=5):
        raise ValidationError("at: cannot record a time in the future", field="at")
    return at


def act(session: Session, actor: Actor, incident_id: int, action: str,
        at: datetime | None = None, note: str = "") -> Incident:
    """A responder's action: acknowledge, mitigate, resolve, close, reopen."""
    incident = get_incident(session, incident_id)
    require_responder(actor, incident)
    if action not in ACTIONS:
        raise ValidationError(f"action: one of {', '.join(ACTIONS)}", field="action")
    allowed, status = ACTIONS[action]
    if incident.status not in allowed:
        raise Conflict(f"status: INC-{incident.id} is {incident.status}; {action} needs "
                       f"{' or '.join(allowed)}", field="status")
    when = action_time(at)
    if when < as_utc(incident.started_at):
        raise ValidationError("at: is before the incident started", field="at")
    before = snapshot(incident)
    _set_status(session, incident, status, when, note, actor=actor.name)
    if status == "resolved":
        resolve_alerts(session, incident, when)
    audit.record(session, actor, f"incident.{action}", "incident", incident.id,
                 before=before, after=snapshot(incident))
    return incident


def may_respond(actor: Actor, incident: Incident) -> bool:
    """Anyone but a viewer responds to any incident: outages cross team lines."""
    return actor.role != "viewer" or actor.can_write_team(incident.owner_team_id)


def require_responder(actor: Actor, incident: Incident) -> None:
    if not may_respond(actor, incident):
        actor.require_team_write(incident.owner_team_id, "respond to incidents")


def check_responder(session: Session, actor: Actor, incident_id: int) -> None:
    """Refuses ``actor`` unless they may respond to the incident; a page calls this
    before reading its form, so a viewer's forged post is refused as such."""
    require_responder(actor, get_incident(session, incident_id))


def declare(session: Session, actor: Actor, title: str, service: str,
            impact: int | None = None, urgency: int | None = None,
            started_at: datetime | None = None, description: str = "") -> Incident:
    """A manual incident, declared by a person."""
    if actor.role == "viewer":
        actor.require_team_write(None, "declare incidents")
    target = session.scalar(select(Service).where(Service.name == service))
    if target is None:
        raise ValidationError(f"service: service {service!r} does not exist", field="service")
    start = action_time(started_at)
    incident = Incident(title=title, description=description, status="triggered",
                        started_at=start, last_alert_at=start, manual=True,
                        impact=impact or 2, urgency=urgency or 2,
                        impact_overridden=impact is not None,
                        urgency_overridden=urgency is not None)
    session.add(incident)
    session.flush()
    _add_service(session, incident, target.id, start)
    add_entry(session, incident, "state", f"Declared by {actor.name} on {service}.",
              actor=actor.name, at=start)
    recompute(session, incident)
    audit.record(session, actor, "incident.declare", "incident", incident.id,
                 after=snapshot(incident))
    events.publish(session, events.Event("incident.triggered", incident.id, at=start,
                                         actor=actor.name, data={"manual": True}))
    return incident


def add_note(session: Session, actor: Actor, incident_id: int, text: str,
             at: datetime | None = None) -> Incident:
    incident = get_incident(session, incident_id)
    require_responder(actor, incident)
    if not text.strip():
        raise ValidationError("text: a note needs some text", field="text")
    add_entry(session, incident, "note", text.strip(), actor=actor.name, at=action_time(at))
    session.flush()
    audit.record(session, actor, "incident.note", "incident", incident.id,
                 after={"note": text.strip()})
    return incident


def _user_id(session: Session, username: str | None, field: str) -> int | None:
    if not username:
        return None
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise ValidationError(f"{field}: user {username!r} does not exist", field=field)
    return user_id


def assign(session: Session, actor: Actor, incident_id: int, *, assignee: str | None = None,
           commander: str | None = None, team: str | None = None,
           at: datetime | None = None) -> Incident:
    incident = get_incident(session, incident_id)
    require_responder(actor, incident)
    before = snapshot(incident)
    parts = []
    previous_assignee = incident.assignee_id
    if assignee is not None:
        incident.assignee_id = _user_id(session, assignee, "assignee")
        parts.append(f"assignee {assignee or 'nobody'}")
    if commander is not None:
        incident.commander_id = _user_id(session, commander, "commander")
        parts.append(f"incident commander {commander or 'nobody'}")
    if team is not None:
        team_id = session.scalar(select(Team.id).where(Team.name == team))
        if team_id is None:
            raise ValidationError(f"team: team {team!r} does not exist", field="team")
        incident.owner_team_id = team_id
        parts.append(f"team {team}")
    if not parts:
        raise ValidationError("assignee: name an assignee, commander or team",
                              field="assignee")
    add_entry(session, incident, "assignment", "Now " + ", ".join(parts) + ".",
              actor=actor.name, at=action_time(at))
    session.flush()
    audit.record(session, actor, "incident.assign", "incident", incident.id, before=before,
                 after=snapshot(incident))
    if incident.assignee_id != previous_assignee:
        events.publish(session, events.Event(
            "incident.assigned", incident.id, at=action_time(at), actor=actor.name,
            data={"assignee_id": incident.assignee_id, "previous_id": previous_assignee}))
    return incident


def reassign(session: Session, actor: Actor, incident_id: int, *,
             assignee: str | None = None, commander: str | None = None,
             team: str | None = None) -> bool:
    """What the people form sends, changed or not: only what differs from the incident is
    assigned (an empty team keeps the team); False when nothing differs. Rights come
    first: a viewer's forged post is refused even when it would change nothing."""
    incident = get_incident(session, incident_id)
    require_responder(actor, incident)
    changes: dict[str, str] = {}
    for field, wanted, user_id in (("assignee", assignee, incident.assignee_id),
                                   ("commander", commander, incident.commander_id)):
        now = (session.scalar(select(User.username).where(User.id == user_id)) or ""
               if user_id else "")
        if wanted is not None and wanted != now:
            changes[field] = wanted
    if team and team != (session.scalar(select(Team.name).where(
            Team.id == incident.owner_team_id)) if incident.owner_team_id else None):
        changes["team"] = team
    if not changes:
        return False
    assign(session, actor, incident_id, assignee=changes.get("assignee"),
           commander=changes.get("commander"), team=changes.get("team"))
    return True


def reprioritise(session: Session, actor: Actor, incident_id: int, *,
                 impact: int | None = None, urgency: int | None = None) -> bool:
    """What the priority form sends: only a level that differs is set (and then stays
    set by hand); False when nothing differs. Rights come first, as for :func:`reassign`."""
    incident = get_incident(session, incident_id)
    require_responder(actor, incident)
    changes = {name: value for name, value, now in (("impact", impact, incident.impact),
                                                      ("urgency", urgency, incident.urgency))
               if value is not None and value != now}
    if not changes:
        return False
    set_priority(session, actor, incident_id, impact=changes.get("impact"),
                 urgency=changes.get("urgency"))
    return True


def set_priority(session: Session, actor: Actor, incident_id: int, *,
                 impact: int | None = None, urgency: int | None = None) -> Incident:
    incident = get_incident(session, incident_id)
    require_responder(actor, incident)
    before = snapshot(incident)
    for name, value in (("impact", impact), ("urgency", urgency)):
        if value is not None and value not in (1, 2, 3):
            raise ValidationError(f"{name}: 1 (high) to 3 (low)", field=name)
    if impact is not None:
        incident.impact, incident.impact_overridden = impact, True
    if urgency is not None:
        incident.urgency, incident.urgency_overridden = urgency, True
    old = incident.priority
    incident.priority = priority.priority(incident.impact, incident.urgency)
    add_entry(session, incident, "priority", f"Priority set to {incident.priority} (was {old}): "
              f"impact {incident.impact}, urgency {incident.urgency}.", actor=actor.name)
    session.flush()
    audit.record(session, actor, "incident.priority", "incident", incident.id, before=before,
                 after=snapshot(incident))
    return incident


def open_incident_count(session: Session, service_ids: Sequence[int]) -> int:
    """Open incidents on these services or what they depend on (for change risk)."""
    if not service_ids:
        return 0
    graph = load_graph(session)
    related = set(service_ids)
    for sid in service_ids:
        related |= {d for d, _ in graph.dependencies.get(sid, ())}
    return int(session.scalar(select(func.count(func.distinct(Incident.id))).join(
        IncidentService, IncidentService.incident_id == Incident.id).where(
        Incident.status.in_(OPEN_STATES), IncidentService.service_id.in_(related))) or 0)



def _register_hooks() -> None:
    from steward.changes import hooks

    hooks.register_open_incidents(open_incident_count)


_register_hooks()
