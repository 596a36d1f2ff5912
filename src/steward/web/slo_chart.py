"""An SLO's error-budget burn-down as a small line chart in plain SVG.

Budget left (100 % at the top, spent at the zero line, overspent below down to
-100 %) at the start of the window and at the end of each day of it. Drawn on
the server so it reads without JavaScript; the title and description carry
the figures for screen readers, and text uses the page's own colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT = 640, 210
LEFT, RIGHT, TOP, BOTTOM = 52, 24, 14, 40
STYLE = (
    ".slo-chart text{fill:currentColor;font:12px system-ui,sans-serif}"
    ".slo-chart .grid{stroke:currentColor;stroke-opacity:.15}"
    ".slo-chart .zero{stroke:#c0392b;stroke-width:1.5;stroke-dasharray:5 3}"
    ".slo-chart .line{fill:none;stroke:#2e86c1;stroke-width:2.5}"
    ".slo-chart .area{fill:#2e86c1;fill-opacity:.12}"
    ".slo-chart .spent{fill:#c0392b}"
    ".slo-chart .dot{fill:#2e86c1}"
)


def _y(left: float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    clamped = min(max(left, -1.0), 1.0)
    return TOP + (1 - clamped) / 2 * plot


def render_burndown(points: Sequence[dict[str, Any]], *, title: str,
                    id_prefix: str = "burndown") -> str:
    """The SVG markup for ``points`` (dicts with ``at`` and ``budget_left``), '' if none."""
    if not points:
        return ""
    plot_width = WIDTH - LEFT - RIGHT
    step = plot_width / max(len(points) - 1, 1)
    xy = [(LEFT + i * step, _y(float(p["budget_left"]))) for i, p in enumerate(points)]
    first, last = float(points[0]["budget_left"]), float(points[-1]["budget_left"])
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    days = len(points) - 1
    summary = (f"Error budget left over the last {days} day{'s' if days != 1 else ''}: "
               f"from {first:.0%} to {last:.0%}"
               + (" (spent)." if last <= 0 else "."))
    out = [
        f'<svg class="slo-chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}">',
        f"<style>{STYLE}</style>",
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(summary)}</desc>',
    ]
    for tick in (1.0, 0.5, 0.0, -0.5, -1.0):
        y = _y(tick)
        cls = "zero" if tick == 0 else "grid"
        out.append(f'<line class="{cls}" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
                   f'y2="{y:.1f}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:.0%}</text>')
    zero = _y(0.0)
    area = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    out.append(f'<polygon class="area" points="{xy[0][0]:.1f},{zero:.1f} {area} '
               f'{xy[-1][0]:.1f},{zero:.1f}"/>')
    out.append(f'<polyline class="line" points="{area}"/>')
    for (x, y), point in zip(xy, points, strict=True):
        left = float(point["budget_left"])
        cls = "spent" if left <= 0 else "dot"
        out.append(f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                   f'<title>{escape(str(point["at"])[:10])}: {left:.1%} left</title></circle>')
    label_every = max(1, days // 7)
    for i in range(0, len(points), label_every):
        x = LEFT + i * step
        out.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
                   f'{escape(str(points[i]["at"])[5:10])}</text>')
    out.append(f'<text x="{LEFT - 6}" y="{HEIGHT - 4}" text-anchor="end">UTC</text>')
    out.append("</svg>")
    return "".join(out)
