"""Laying out the dependency graph in rows: cycles collapsed, crossings reduced.

Pure: standard library only. A service is always drawn above what it depends
on; members of a cycle share a row. Iterative throughout, for 10,000 nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class MapNode:
    id: int
    name: str  # unique service name, shown as the label
    kind: str  # business_service, system, service, api, resource, pool
    team: str | None  # owning team name
    state: str = "up"  # up, degraded, down, unknown
    tier: int = 3
    note: str = ""  # why it is in that state, added to its tooltip


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
