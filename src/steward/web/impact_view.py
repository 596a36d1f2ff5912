"""Drawing what an impact analysis takes down, for service and incident pages."""

from __future__ import annotations

import threading
from collections import OrderedDict
from urllib.parse import quote

from steward.catalog.impact import DEGRADED, DOWN, Affected, Graph, ImpactResult
from steward.web.systemmap import MapEdge, MapNode, render_svg

STATE_ORDER = {DOWN: 0, DEGRADED: 1}
# The last drawings made, by everything a drawing is made of: an incident's page is
# reloaded again and again while its services' states stay the same, and laying out a
# map of a few hundred services takes longer than reading the incident.
DRAWINGS_KEPT = 32
_drawings: OrderedDict[tuple[object, ...], str] = OrderedDict()
_drawings_lock = threading.Lock()


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
    highlight = {focus} if focus in ids else set()
    key = (tuple(nodes), tuple(sorted(edges, key=lambda e: (e.dependant, e.dependency))),
           tuple(highlight), title, id_prefix)
    with _drawings_lock:
        svg = _drawings.get(key)
        if svg is not None:
            _drawings.move_to_end(key)
    if svg is None:
        svg = render_svg(nodes, edges, href=lambda n: service_href(n.name),
                         highlight=highlight, title=title, id_prefix=id_prefix)
        with _drawings_lock:
            _drawings[key] = svg
            while len(_drawings) > DRAWINGS_KEPT:
                _drawings.popitem(last=False)
    return affected, svg
