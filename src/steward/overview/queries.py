"""What is on fire, in one plain dict: open incidents by priority (the P1 and P2 listed),
the live health of the business services, the changes in flight today, the approvals
waiting for the person asking, recent unauthorised deployments and who is on call.

Each part is the owning domain's query; this module only puts them side by side, so the
page, the API and the CLI show the same thing. A few dozen statements in all, however
many services, incidents or changes there are (each part reads its rows in bulk).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from steward.auth.actor import Actor
from steward.catalog.graph import load_graph
from steward.catalog.use_cases.services import team_names
from steward.changes import queries as changes
from steward.incidents import health_queries
from steward.incidents import queries as incidents
from steward.incidents.health import HEALTH_STATES, OpenIncident, live_health
from steward.incidents.priority import PRIORITIES
from steward.oncall import views as oncall
from steward.timeutil import as_utc, isoformat_z

# The priorities listed one by one; the others are counted.
LISTED_PRIORITIES = ("P1", "P2")
# How far back an unauthorised deployment still counts as recent, and how many are shown.
UNAUTHORISED_DAYS = 7
UNAUTHORISED_SHOWN = 20
# Worst first, so what is broken leads.
STATE_ORDER = {"down": 0, "degraded": 1, "unknown": 2, "up": 3}


def _incidents(session: Session, opened: list[OpenIncident]) -> dict[str, Any]:
    counts = dict.fromkeys(PRIORITIES, 0)
    for incident in opened:
        counts[incident.priority] = counts.get(incident.priority, 0) + 1
    listed = [i.id for i in opened if i.priority in LISTED_PRIORITIES]
    briefs = incidents.incident_briefs(session, listed)
    briefs.sort(key=lambda b: (LISTED_PRIORITIES.index(b["priority"]), b["started_at"]))
    return {"open": len(opened), "by_priority": counts, "listed_priorities":
            list(LISTED_PRIORITIES), "urgent": briefs}


def _business_services(session: Session, opened: list[OpenIncident]) -> dict[str, Any]:
    graph = load_graph(session)
    found = live_health(graph, opened, health_queries.monitored_services(session))
    items = [{"service": ci.name, "team": ci.team, "tier": ci.tier, **found[sid].as_dict()}
             for sid, ci in graph.cis.items() if ci.kind == "business_service"]
    items.sort(key=lambda item: (STATE_ORDER.get(item["state"], 9), item["service"]))
    counts = dict.fromkeys(HEALTH_STATES, 0)
    for item in items:
        counts[item["state"]] += 1
    return {"counts": counts, "items": items}


def _unauthorised(session: Session, now: datetime) -> dict[str, Any]:
    since = now - timedelta(days=UNAUTHORISED_DAYS)
    total, rows = changes.deployment_listing(session, unauthorised=True,
                                             limit=UNAUTHORISED_SHOWN)
    # Newest first: the recent ones are a prefix of the list.
    recent = [row for row in rows if (row["finished_at"] or row["started_at"] or "")
              >= isoformat_z(since)]
    return {"days": UNAUTHORISED_DAYS, "total": total, "recent": recent,
            "more": len(recent) == len(rows) == UNAUTHORISED_SHOWN}


def _oncall(session: Session, now: datetime) -> list[dict[str, Any]]:
    first_line = oncall.first_line_by_team(session, list(team_names(session).values()), now)
    return [{"team": team, "oncall": people, "gap": not people}
            for team, people in sorted(first_line.items())]


def overview(session: Session, actor: Actor, now: datetime) -> dict[str, Any]:
    """Everything the home page shows ``actor`` at ``now``, as plain JSON-ready data."""
    now = as_utc(now)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    opened = health_queries.open_incidents(session)
    return {
        "at": isoformat_z(now),
        "incidents": _incidents(session, opened),
        "business_services": _business_services(session, opened),
        "changes_today": changes.changes_in_flight(session, day, day + timedelta(days=1)),
        "my_approvals": changes.awaiting_approval_by(session, actor),
        "unauthorised_deployments": _unauthorised(session, now),
        "oncall": _oncall(session, now),
    }
