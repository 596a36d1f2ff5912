"""Layered system map: the whole service dependency graph as an inline SVG.

Pure module (standard library only). :mod:`steward.web.systemmap_layout` places
every service in a row so that a service is always drawn above the services it
depends on (business services at the top, resources at the bottom); layering is
each node's longest path down to a leaf, cycles collapsed first (Tarjan SCC),
rows ordered by barycenter sweeps, all iterative, so graphs with tens of
thousands of nodes are fine. :func:`render_svg` turns that into a standalone,
embeddable SVG string.

Colours are applied through CSS classes only (``state-up``, ``state-degraded``,
``state-down``, ``state-unknown`` on each node group).  The SVG carries a small
zero-specificity ``<style>`` fallback (all selectors wrapped in ``:where()``
and scoped to ``.steward-systemmap``), so a page stylesheet always wins and the
fallback never leaks into the rest of the page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

from steward.web.systemmap_layout import (
    LABEL_MAX_CHARS,
    LEGEND_HEIGHT,
    MARGIN,
    NODE_HEIGHT,
    NODE_WIDTH,
    STATES,
    V_GAP,
    Layout,
    MapEdge,
    MapNode,
    _Graph,
    _layout_graph,
    layout,
)

__all__ = ["NODE_HEIGHT", "NODE_WIDTH", "STATES", "Layout", "MapEdge", "MapNode", "layout",
           "render_svg"]

_STATE_TEXT = {
    "up": "\u2713 up",  # ✓
    "degraded": "! degraded",
    "down": "\u2715 DOWN",  # ✕
    "unknown": "? unknown",
}

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

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
            if node.note:
                tip += f": {node.note}"
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
