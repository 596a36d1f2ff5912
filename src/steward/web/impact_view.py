"""Drawing what an impact analysis takes down, for service and incident pages."""

from __future__ import annotations

from urllib.parse import quote

from steward.catalog.impact import DEGRADED, DOWN, Affected, Graph, ImpactResult
from steward.web.systemmap import MapEdge, MapNode, render_svg

STATE_ORDER = {DOWN: 0, DEGRADED: 1}


def service_href(name: str) -> str:
    return "/services/" + quote(name, safe="")


def affected_drawing(graph: Graph, result: ImpactResult, focus: int | None, title: str,
                     id_prefix: str) -> tuple[list[Affected], str]:
    """The affected CIs (focus first, then down, degraded) and their part of the map."""
    affected = sorted(result.affected.values(),
                      key=lambda a: (a.id != focus, STATE_ORDER.get(a.state, 2), a.name))
    ids = set(result.affected)
    nodes = [MapNode(id=a.id, name=a.name, kind=a.kind, team=a.team, state=a.state,
                     tier=graph.cis[a.id].tier) for a in affected]
    edges = [MapEdge(dependant=src, dependency=dst, type=dep_type)
             for src in ids for dst, dep_type in graph.dependencies.get(src, ()) if dst in ids]
    svg = render_svg(nodes, edges, href=lambda n: service_href(n.name),
                     highlight={focus} if focus in ids else set(), title=title,
                     id_prefix=id_prefix)
    return affected, svg
