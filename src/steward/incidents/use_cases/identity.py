"""Who an incident belongs to while alerts keep coming: its probable origin and owning
team, and the other teams responding to it.

- Before the incident is acknowledged, a more upstream alert may revise the probable
  origin; the owning team follows the new origin's owner. Each revision is said in the
  timeline (kind ``origin``), with the old and new origin, the team change and why.
- Once acknowledged, origin, owning team and assignee never change by themselves: the
  people on it keep it. A more upstream alert is said in the timeline (the origin kept).
- Every other team owning a service of the incident is a responding team (an
  ``IncidentTeam`` row), added when its service joins, with a timeline entry (``team``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.catalog.impact import Graph
from steward.catalog.models import Service, Team
from steward.incidents import correlate
from steward.incidents.models import Incident, IncidentTeam, TimelineEntry
from steward.incidents.timeline import add_entry
from steward.timeutil import as_utc

ORIGIN = "origin"  # timeline kind: the probable origin revised, or kept
TEAM = "team"  # timeline kind: a responding team added


def settle(session: Session, incident: Incident, graph: Graph,
           alerting: Sequence[tuple[int, datetime]], has_alerts: bool) -> None:
    """Origin, owning team and responding teams from the incident's alerting services
    (service id, first alert there), each in the catalog graph."""
    owners = dict(session.execute(select(Service.id, Service.owner_team_id).where(
        Service.id.in_([sid for sid, _ in alerting]))).all())
    _settle_origin(session, incident, graph, alerting, has_alerts, owners)
    _settle_teams(session, incident, graph, alerting, owners)


def _settle_origin(session: Session, incident: Incident, graph: Graph,
                   alerting: Sequence[tuple[int, datetime]], has_alerts: bool,
                   owners: dict[int, int | None]) -> None:
    origin = correlate.probable_origin(graph, alerting)
    new = origin.service_id
    reasoning = origin.reasoning if has_alerts else (
        f"Declared on {graph.cis[new].name}; no alert has fired.")
    current = incident.origin_service_id
    if current is None or current not in graph.cis:  # the first origin: nothing revised
        incident.origin_service_id, incident.origin_reasoning = new, reasoning
        incident.owner_team_id = owners.get(new)
        return
    if new == current:
        incident.origin_reasoning = reasoning
        return
    old_name, new_name = graph.cis[current].name, graph.cis[new].name
    newest = max(as_utc(at) for _, at in alerting)
    if incident.acknowledged_at is None:
        text = f"Probable origin revised: {old_name} -> {new_name}. {reasoning}"
        data: dict[str, Any] = {"from": old_name, "to": new_name, "reason": reasoning}
        team = owners.get(new)
        if team != incident.owner_team_id:
            before, after = _team_name(session, incident.owner_team_id), _team_name(session, team)
            text += f" Owning team: team {before or 'none'} -> {after or 'none'}."
            data.update(team_from=before, team_to=after)
            incident.owner_team_id = team
        incident.origin_service_id, incident.origin_reasoning = new, reasoning
        add_entry(session, incident, ORIGIN, text, at=newest, data=data)
        return
    # Acknowledged: the people on it keep it. Said once for each origin the alerts point to.
    if _last_origin_candidate(session, incident) == new_name:
        return
    add_entry(session, incident, ORIGIN,
              f"Probable origin kept: {old_name}, as the incident is acknowledged "
              f"(team and assignee unchanged); the alerts now point to {new_name}. "
              f"{reasoning}",
              at=max(newest, as_utc(incident.acknowledged_at)),
              data={"from": old_name, "to": old_name, "kept": True, "candidate": new_name,
                    "reason": reasoning})


def _last_origin_candidate(session: Session, incident: Incident) -> str | None:
    data = session.scalar(select(TimelineEntry.data).where(
        TimelineEntry.incident_id == incident.id, TimelineEntry.kind == ORIGIN)
        .order_by(TimelineEntry.id.desc()).limit(1))
    return (data or {}).get("candidate") if isinstance(data, dict) else None


def _settle_teams(session: Session, incident: Incident, graph: Graph,
                  alerting: Sequence[tuple[int, datetime]],
                  owners: dict[int, int | None]) -> None:
    """Every team owning a service of the incident, besides the owner, responds to it:
    added when its service joins (or when the owner changes, before acknowledgement),
    for its service that alerted first."""
    wanted: dict[int, str] = {}  # team -> its service
    for service_id, _ in sorted(alerting, key=lambda s: (as_utc(s[1]),
                                                         graph.cis[s[0]].name)):
        team = owners.get(service_id)
        if team is not None and team != incident.owner_team_id and team not in wanted:
            wanted[team] = graph.cis[service_id].name
    known = {row.team_id: row for row in session.scalars(
        select(IncidentTeam).where(IncidentTeam.incident_id == incident.id))}
    for team_id, row in known.items():
        if team_id not in wanted:  # it owns the incident now
            session.delete(row)
    new = [team for team in wanted if team not in known]
    if not new:
        return
    names = dict(session.execute(select(Team.id, Team.name).where(
        Team.id.in_(new))).all())
    at = max(as_utc(first) for _, first in alerting)  # the alert that brought the change
    for team_id in new:
        service = wanted[team_id]
        reason = f"owns {service}"
        session.add(IncidentTeam(incident_id=incident.id, team_id=team_id, added_at=at,
                                 reason=reason))
        add_entry(session, incident, TEAM,
                  f"{names.get(team_id, team_id)} added as a responding team: {reason}",
                  at=at, data={"team": names.get(team_id), "service": service})


def _team_name(session: Session, team_id: int | None) -> str | None:
    if team_id is None:
        return None
    return session.scalar(select(Team.name).where(Team.id == team_id))
