"""The system map: every service and dependency, coloured by its live health (from the
open incidents), or by a what-if failure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from steward.catalog.graph import impact_of, load_graph
from steward.catalog.impact import ImpactResult
from steward.errors import StewardError
from steward.incidents import health_queries
from steward.incidents.health import Health
from steward.request.database import database
from steward.web.guard import WebRoute, pick, require_viewer
from steward.web.impact_view import service_href
from steward.web.render import render
from steward.web.systemmap import MapEdge, MapNode, render_svg

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def failing_names(request: Request) -> list[str]:
    """``?failing=a,b`` and ``?failing=a&failing=b`` both work (and mixes of the two)."""
    names: list[str] = []
    for raw in request.query_params.getlist("failing"):
        names.extend(part.strip() for part in raw.replace("\n", ",").split(","))
    return list(dict.fromkeys(n for n in names if n))


@router.get("/map")
def map_page(request: Request) -> Response:
    failing = failing_names(request)
    team = pick(request.query_params, "team")
    focus = pick(request.query_params, "focus")
    error = ""
    status = 200
    with database(request).read_session() as session:
        require_viewer(request, session)
        graph = load_graph(session)
        result: ImpactResult | None = None
        if failing:
            try:
                result = impact_of(session, failing)
            except StewardError as exc:
                error, status = exc.message, exc.status_code
        health = health_queries.health_by_id(session, graph) if result is None else {}
    nodes = [
        MapNode(id=ci.id, name=ci.name, kind=ci.kind, team=ci.team, tier=ci.tier,
                state=result.state_of(ci.id) if result else health[ci.id].state,
                note="" if result else health[ci.id].reason)
        for ci in graph.cis.values()
    ]
    edges = [MapEdge(dependant=src, dependency=dst, type=dep_type)
             for src, targets in graph.dependencies.items() for dst, dep_type in targets]
    highlight = {ci.id for ci in graph.cis.values() if team and ci.team == team}
    if focus and focus not in graph.by_name:
        error, status = f"focus: there is no service named {focus!r}", 422
        focus = ""
    title = "System map"
    if result:
        title += " if " + ", ".join(result.failing) + " failed"
    else:
        title += ": live health from the open incidents"
    svg = render_svg(nodes, edges, href=lambda n: service_href(n.name), highlight=highlight,
                     title=title, id_prefix="sysmap")
    teams = sorted({ci.team for ci in graph.cis.values() if ci.team})
    summary: dict[str, Any] | None = None
    if result:
        summary = {
            "failing": result.failing,
            "down": result.down,
            "degraded": result.degraded,
            "business_services": result.business_services,
            "teams": result.teams,
        }
    return render(request, "map.html", {
        "svg": svg,
        "failing": ", ".join(failing),
        "team": team,
        "focus": focus,
        "scroll_to": result.failing[0] if result and result.failing else "",
        "teams": teams,
        "team_count": len(highlight),
        "summary": summary,
        "live": None if result else live_summary(graph.cis, health),
        "error": error,
        "service_count": len(nodes),
        "edge_count": len(edges),
        "service_names": sorted(graph.by_name),
    }, status=status, nav="map")


def live_summary(cis: dict[int, Any], health: dict[int, Health]) -> dict[str, Any]:
    """What the map's colours say now: services by state (worst first) and the open
    incidents behind them."""
    counts = {state: 0 for state in ("down", "degraded", "up", "unknown")}
    hit: list[dict[str, Any]] = []
    incidents: dict[int, dict[str, Any]] = {}
    for ci_id, found in health.items():
        counts[found.state] += 1
        if found.state in ("down", "degraded"):
            hit.append({"name": cis[ci_id].name, "state": found.state, "reason": found.reason})
            for ref in found.incidents:
                incidents.setdefault(ref["id"], dict(ref))
    hit.sort(key=lambda h: (h["state"] != "down", h["name"]))
    ordered = sorted(incidents.values(), key=lambda i: (i["priority"], i["id"]))
    return {"counts": counts, "hit": hit, "incidents": ordered}
