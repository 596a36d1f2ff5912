"""Layered system map: the whole service dependency graph as an inline SVG.

Pure module (standard library only).  :func:`layout` places every service in a
row so that a service is always drawn above the services it depends on
(business services at the top, resources at the bottom); :func:`render_svg`
turns that into a standalone, embeddable SVG string.

Layering: a node's layer is the length of its longest path *down* (in the
dependency direction) to a leaf.  Cycles are collapsed with an iterative
Tarjan SCC first, so all members of a cycle share one row and nothing ever
recurses or hangs.  Inside a row nodes are ordered by a few deterministic
barycenter sweeps (ties broken by team, then name, then id) to reduce edge
crossings.  Everything is iterative and roughly O((V + E) log V), so graphs
with tens of thousands of nodes are fine.

Colours are applied through CSS classes only (``state-up``, ``state-degraded``,
``state-down``, ``state-unknown`` on each node group).  The SVG carries a small
zero-specificity ``<style>`` fallback (all selectors wrapped in ``:where()``
and scoped to ``.steward-systemmap``), so a page stylesheet always wins and the
fallback never leaks into the rest of the page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "NODE_HEIGHT",
    "NODE_WIDTH",
    "STATES",
    "Layout",
    "MapEdge",
    "MapNode",
    "layout",
    "render_svg",
]

# --------------------------------------------------------------------------- geometry

NODE_WIDTH = 160
NODE_HEIGHT = 40
H_GAP = 24  # horizontal gap between boxes in a row
V_GAP = 64  # vertical gap between rows (room for edges)
MARGIN = 16
LEGEND_HEIGHT = 44  # reserved band at the top for the legend
LEGEND_WIDTH = 760
BOTTOM_PAD = 28  # room below the last row for same-row (cycle) arcs
SWEEPS = 6  # barycenter sweeps (alternating down / up)
LABEL_MAX_CHARS = 20

STATES = ("up", "degraded", "down", "unknown")
_STATE_TEXT = {
    "up": "\u2713 up",  # ✓
    "degraded": "! degraded",
    "down": "\u2715 DOWN",  # ✕
    "unknown": "? unknown",
}

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class MapNode:
    id: int
    name: str  # unique service name, shown as the label
    kind: str  # business_service, system, service, api, resource, pool
    team: str | None  # owning team name
    state: str = "up"  # up, degraded, down, unknown
    tier: int = 3


@dataclass(frozen=True)
class MapEdge:
    dependant: int  # node id that depends on ...
    dependency: int  # ... this node id
    type: str  # "hard" or "soft"


@dataclass(frozen=True)
class Layout:
    """Result of :func:`layout`.

    ``positions`` maps node id -> (x, y) of the *top-left* corner of its box,
    in SVG user units (the legend band is already accounted for).
    ``rows`` lists node ids per row, top row first, in drawing order.
    ``row_of`` maps node id -> row index (0 = top).
    """

    positions: dict[int, tuple[float, float]]
    width: float
    height: float
    rows: list[list[int]]
    row_of: dict[int, int]
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT


# --------------------------------------------------------------------------- helpers

_CTRL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_CLASS_RE = re.compile(r"[^a-z0-9_-]+")


def _clean(text: object) -> str:
    """Drop characters that are illegal in XML 1.0 (they would break parsing)."""
    return _CTRL_RE.sub("", str(text))


def _esc(text: object) -> str:
    return html.escape(_clean(text), quote=True)


def _class_token(text: str, default: str) -> str:
    token = _CLASS_RE.sub("-", str(text).strip().lower()).strip("-")
    return token or default


def _norm_state(state: str) -> str:
    s = str(state).strip().lower()
    return s if s in STATES else "unknown"


def _truncate(text: str, limit: int = LABEL_MAX_CHARS) -> str:
    text = " ".join(_clean(text).split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "\u2026"


def _fmt(v: float) -> str:
    """Compact number formatting for coordinates."""
    r = round(v, 1)
    if r == int(r):
        return str(int(r))
    return f"{r:.1f}"


def _dedupe_nodes(nodes: Iterable[MapNode]) -> list[MapNode]:
    seen: set[int] = set()
    out: list[MapNode] = []
    for n in nodes:
        if n.id in seen:
            continue
        seen.add(n.id)
        out.append(n)
    return out


def _tie_key(n: MapNode) -> tuple:
    return (n.team is None, n.team or "", n.name, n.id)


def _tarjan_scc(n: int, succ: list[list[int]]) -> tuple[list[int], int]:
    """Iterative Tarjan.  Returns (component of each vertex, component count).

    Components are numbered in reverse topological order: every edge between
    different components goes from a higher to a lower component number.
    """
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    comp = [-1] * n
    stack: list[int] = []
    counter = 0
    ncomp = 0
    for root in range(n):
        if index[root] != -1:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [[root, 0]]
        while work:
            frame = work[-1]
            v, i = frame
            nbrs = succ[v]
            if i < len(nbrs):
                frame[1] = i + 1
                w = nbrs[i]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append([w, 0])
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp[w] = ncomp
                    if w == v:
                        break
                ncomp += 1
    return comp, ncomp


class _Graph:
    """Index-based view of the input: node list, deduplicated edges, adjacency."""

    def __init__(self, nodes: Iterable[MapNode], edges: Iterable[MapEdge]) -> None:
        self.nodes = sorted(_dedupe_nodes(nodes), key=lambda n: n.id)
        self.idx = {n.id: i for i, n in enumerate(self.nodes)}
        # (u, v) -> hard?  u depends on v.  Hard wins over soft for duplicates.
        pairs: dict[tuple[int, int], bool] = {}
        for e in edges:
            u = self.idx.get(e.dependant)
            v = self.idx.get(e.dependency)
            if u is None or v is None or u == v:
                continue  # unknown endpoint or self-loop: nothing to lay out
            hard = str(e.type).strip().lower() != "soft"
            pairs[(u, v)] = pairs.get((u, v), False) or hard
        self.edges = sorted(pairs.items())  # [((u, v), hard)], deterministic
        n = len(self.nodes)
        self.succ: list[list[int]] = [[] for _ in range(n)]
        self.pred: list[list[int]] = [[] for _ in range(n)]
        for (u, v), _hard in self.edges:
            self.succ[u].append(v)
            self.pred[v].append(u)


def _layout_graph(g: _Graph) -> Layout:
    n = len(g.nodes)
    if n == 0:
        return Layout(
            positions={},
            width=LEGEND_WIDTH + 2 * MARGIN,
            height=MARGIN + LEGEND_HEIGHT + NODE_HEIGHT + MARGIN,
            rows=[],
            row_of={},
        )

    # 1. collapse cycles, longest path down to a leaf on the condensation DAG
    comp, ncomp = _tarjan_scc(n, g.succ)
    comp_succ: list[list[int]] = [[] for _ in range(ncomp)]
    for (u, v), _hard in g.edges:
        cu, cv = comp[u], comp[v]
        if cu != cv:
            comp_succ[cu].append(cv)
    height = [0] * ncomp
    for c in range(ncomp):  # successors always have a smaller number
        h = 0
        for d in comp_succ[c]:
            hd = height[d] + 1
            h = max(h, hd)
        height[c] = h
    max_h = max(height)
    row = [max_h - height[comp[i]] for i in range(n)]
    nrows = max_h + 1

    # 2. initial order inside each row: team, name, id
    rank = [0] * n
    for r, i in enumerate(sorted(range(n), key=lambda i: _tie_key(g.nodes[i]))):
        rank[i] = r
    order: list[list[int]] = [[] for _ in range(nrows)]
    for i in sorted(range(n), key=rank.__getitem__):
        order[row[i]].append(i)

    pos = [0.0] * n

    def assign(r: int) -> None:
        members = order[r]
        offset = (len(members) - 1) / 2.0
        for k, v in enumerate(members):
            pos[v] = k - offset

    for r in range(nrows):
        assign(r)

    # Neighbours in *other* rows only (same-row = cycle members).
    up_nb = [[u for u in g.pred[i] if row[u] != row[i]] for i in range(n)]
    down_nb = [[v for v in g.succ[i] if row[v] != row[i]] for i in range(n)]

    # 3. barycenter sweeps, alternating down (use rows above) and up (rows below)
    if nrows > 1:
        for sweep in range(SWEEPS):
            if sweep % 2 == 0:
                rows_iter: Iterable[int] = range(1, nrows)
                nb = up_nb
            else:
                rows_iter = range(nrows - 2, -1, -1)
                nb = down_nb
            for r in rows_iter:
                members = order[r]
                if len(members) < 2:
                    continue
                keyed = []
                for v in members:
                    ns = nb[v]
                    if ns:
                        bc = sum(pos[u] for u in ns) / len(ns)
                    else:
                        bc = pos[v]
                    keyed.append((bc, rank[v], v))
                keyed.sort()
                order[r] = [v for _bc, _rk, v in keyed]
                assign(r)

    # 4. coordinates: rows centred horizontally
    pitch_x = NODE_WIDTH + H_GAP
    pitch_y = NODE_HEIGHT + V_GAP
    widest = max(len(members) for members in order)
    content_w = widest * pitch_x - H_GAP
    width = max(content_w + 2 * MARGIN, LEGEND_WIDTH + 2 * MARGIN)
    height_px = MARGIN + LEGEND_HEIGHT + nrows * pitch_y - V_GAP + BOTTOM_PAD + MARGIN
    left = (width - content_w) / 2.0
    positions: dict[int, tuple[float, float]] = {}
    rows_out: list[list[int]] = []
    row_of: dict[int, int] = {}
    for r, members in enumerate(order):
        y = MARGIN + LEGEND_HEIGHT + r * pitch_y
        x0 = left + (widest - len(members)) * pitch_x / 2.0
        ids = []
        for k, v in enumerate(members):
            nid = g.nodes[v].id
            positions[nid] = (x0 + k * pitch_x, float(y))
            row_of[nid] = r
            ids.append(nid)
        rows_out.append(ids)
    return Layout(
        positions=positions,
        width=float(width),
        height=float(height_px),
        rows=rows_out,
        row_of=row_of,
    )


def layout(nodes: Sequence[MapNode], edges: Sequence[MapEdge]) -> Layout:
    """Place every node; a dependant is always in a row above its dependencies.

    Nodes with a duplicate id (after the first), edges whose endpoints are not
    in ``nodes``, and self-loops are ignored.  Members of a dependency cycle
    share one row.  The result does not depend on the input order.
    """
    return _layout_graph(_Graph(nodes, edges))


# --------------------------------------------------------------------------- SVG

# Zero-specificity fallback: every selector is inside :where(), so any page
# rule (e.g. `.state-up { fill: ... }`) overrides it, and it is scoped to the
# map's root class so it never affects the rest of an HTML page.
_STYLE = """
:where(.steward-systemmap){font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:12px}
:where(.steward-systemmap .edges){stroke:#6b7280;stroke-width:1.5}
:where(.steward-systemmap .edge.highlight){stroke:#2563eb;stroke-width:2.5}
:where(.steward-systemmap .arrow){fill:#6b7280;stroke:none}
:where(.steward-systemmap .state-up){fill:#bbf7d0;stroke:#15803d}
:where(.steward-systemmap .state-degraded){fill:#fde68a;stroke:#b45309}
:where(.steward-systemmap .state-down){fill:#fca5a5;stroke:#b91c1c}
:where(.steward-systemmap .state-unknown){fill:#e5e7eb;stroke:#6b7280}
:where(.steward-systemmap .node rect){stroke-width:1.5}
:where(.steward-systemmap .node.state-down rect){stroke-width:2.5}
:where(.steward-systemmap .node.highlight rect){stroke:#1d4ed8;stroke-width:4}
:where(.steward-systemmap .node a:focus-visible rect){stroke:#2563eb;stroke-width:4}
:where(.steward-systemmap .node text){fill:#111827;stroke:none}
:where(.steward-systemmap .node .label){font-weight:600}
:where(.steward-systemmap .node .meta){font-size:10px}
:where(.steward-systemmap .legend text, .steward-systemmap .empty){fill:currentColor;stroke:none}
:where(.steward-systemmap .legend .edge){stroke:#6b7280;stroke-width:1.5}
"""


def _legend(prefix: str) -> list[str]:
    out = [f'<g class="legend" transform="translate({MARGIN},{MARGIN})">']
    x = 0
    for state in STATES:
        out.append(
            f'<g class="legend-item state-{state}">'
            f'<rect x="{x}" y="2" width="16" height="14" rx="3"/>'
            f'<text x="{x + 22}" y="13">{_esc(_STATE_TEXT[state])}</text></g>'
        )
        x += 104
    out.append(
        f'<g class="legend-item">'
        f'<line class="edge hard" x1="{x}" y1="9" x2="{x + 34}" y2="9" '
        f'marker-end="url(#{prefix}-arrow)"/>'
        f'<text x="{x + 42}" y="13">hard dependency</text></g>'
    )
    x += 170
    out.append(
        f'<g class="legend-item">'
        f'<line class="edge soft" x1="{x}" y1="9" x2="{x + 34}" y2="9" '
        f'stroke-dasharray="6 4" marker-end="url(#{prefix}-arrow)"/>'
        f'<text x="{x + 42}" y="13">soft dependency</text></g>'
    )
    out.append(
        '<text x="0" y="34" font-size="11">'
        "Arrows point from a service to what it depends on; "
        "services are drawn above their dependencies.</text>"
    )
    out.append("</g>")
    return out


def render_svg(
    nodes: Sequence[MapNode],
    edges: Sequence[MapEdge],
    *,
    href: Callable[[MapNode], str],
    highlight: set[int] | None = None,
    title: str = "System map",
    id_prefix: str = "sysmap",
) -> str:
    """Render the layered dependency graph as an SVG document fragment.

    ``href(node)`` gives each node's link target.  ``highlight`` node ids get
    class ``highlight`` (thicker outline), as do edges touching them.
    ``id_prefix`` namespaces the element ids (title, desc, arrow marker) so
    several maps can be inlined in one page.
    """
    g = _Graph(nodes, edges)
    lay = _layout_graph(g)
    hl = set(highlight or ())
    prefix = _class_token(id_prefix, "sysmap")
    w, h = lay.width, lay.height
    nw, nh = NODE_WIDTH, NODE_HEIGHT

    parts: list[str] = []
    add = parts.append
    add(
        f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" class="steward-systemmap" '
        f'viewBox="0 0 {_fmt(w)} {_fmt(h)}" width="{_fmt(w)}" height="{_fmt(h)}" '
        f'role="img" aria-labelledby="{prefix}-title {prefix}-desc">'
    )
    add(f'<title id="{prefix}-title">{_esc(title)}</title>')
    add(
        f'<desc id="{prefix}-desc">{len(g.nodes)} services, '
        f"{len(g.edges)} dependencies. Each service is drawn above the services "
        f"it depends on; solid lines are hard dependencies, dashed lines soft.</desc>"
    )
    add(f"<style>{_STYLE}</style>")
    add(
        f'<defs><marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        f'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
        f'orient="auto-start-reverse">'
        f'<path class="arrow" d="M0,0L10,5L0,10z"/></marker></defs>'
    )
    parts.extend(_legend(prefix))

    if not g.nodes:
        add(
            f'<text class="empty" x="{MARGIN}" y="{MARGIN + LEGEND_HEIGHT + 24}">'
            "No services in the catalog yet.</text>"
        )

    # Edges first, so boxes are drawn on top of them.
    pos = lay.positions
    add(f'<g class="edges" fill="none" marker-end="url(#{prefix}-arrow)">')
    for (u, v), hard in g.edges:
        a, b = g.nodes[u], g.nodes[v]
        ax, ay = pos[a.id]
        bx, by = pos[b.id]
        x1 = ax + nw / 2.0
        x2 = bx + nw / 2.0
        y1 = ay + nh
        if lay.row_of[a.id] == lay.row_of[b.id]:
            # same row (members of a cycle): arc below the row, into the bottom.
            # Endpoints are offset and the depth depends on the direction so
            # that a <-> b pairs do not draw on top of each other.
            x1 += 8
            x2 -= 8
            y2 = by + nh
            dy = min(V_GAP - 20, 14 + abs(x2 - x1) / 16.0)
            if x1 < x2:
                dy += 12
            d = (
                f"M{_fmt(x1)},{_fmt(y1)}C{_fmt(x1)},{_fmt(y1 + dy)} "
                f"{_fmt(x2)},{_fmt(y2 + dy)} {_fmt(x2)},{_fmt(y2)}"
            )
            extra = " cycle"
        else:
            y2 = by
            dy = max(16.0, (y2 - y1) / 2.0)
            d = (
                f"M{_fmt(x1)},{_fmt(y1)}C{_fmt(x1)},{_fmt(y1 + dy)} "
                f"{_fmt(x2)},{_fmt(y2 - dy)} {_fmt(x2)},{_fmt(y2)}"
            )
            extra = ""
        if a.id in hl or b.id in hl:
            extra += " highlight"
        if hard:
            add(f'<path class="edge hard{extra}" d="{d}"/>')
        else:
            add(f'<path class="edge soft{extra}" stroke-dasharray="6 4" d="{d}"/>')
    add("</g>")

    # Nodes, row by row.
    by_id = {n.id: n for n in g.nodes}
    add('<g class="nodes">')
    for row_ids in lay.rows:
        for nid in row_ids:
            node = by_id[nid]
            x, y = pos[nid]
            state = _norm_state(node.state)
            kind_cls = _class_token(node.kind, "unknown")
            cls = f"node state-{state} kind-{kind_cls}"
            if nid in hl:
                cls += " highlight"
            link = _esc(href(node))
            team = node.team if node.team else "no team"
            kind_text = _clean(node.kind).replace("_", " ")
            tip = f"{node.name} \u2014 {node.kind}, tier {node.tier}, team {team}, state {state}"
            cx = x + nw / 2.0
            add(
                f'<g class="{cls}" data-id="{nid}" data-service="{_esc(node.name)}" '
                f'data-state="{state}" data-kind="{_esc(node.kind)}">'
                f'<a href="{link}" xlink:href="{link}">'
                f"<title>{_esc(tip)}</title>"
                f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{nw}" height="{nh}" rx="5"/>'
                f'<text class="label" x="{_fmt(cx)}" y="{_fmt(y + 16)}" '
                f'text-anchor="middle">{_esc(_truncate(node.name))}</text>'
                f'<text class="meta" x="{_fmt(cx)}" y="{_fmt(y + 31)}" '
                f'text-anchor="middle">'
                f"{_esc(_truncate(_STATE_TEXT[state] + ' · ' + kind_text, 30))}</text>"
                f"</a></g>"
            )
    add("</g>")
    add("</svg>")
    return "".join(parts)
