"""A change's risk factors as a horizontal bar chart in plain SVG.

One row per factor: its name, a bar as long as its points, the points, and
the factor's sentence wrapped beside it. Drawn on the server, so it reads the
same without JavaScript; colours come from the page's stylesheet (light and
dark), the numbers and words carry the meaning on their own.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from html import escape
from typing import Any

FACTOR_NAMES = {
    "batch_size": "Batch size",
    "blast_radius": "Blast radius",
    "change_failure_rate": "Change failure rate",
    "open_incidents": "Open incidents",
    "freeze": "Freeze window",
    "outside_maintenance": "Outside maintenance",
    "conflicts": "Conflicting changes",
    "off_hours": "Off-hours",
    "emergency": "Emergency change",
    "error_budget": "Error budget",
}

WIDTH = 1160
LABEL_RIGHT = 168  # labels end here, right-aligned
BAR_LEFT = 178
BAR_MAX = 250  # pixels for the largest value on the scale
SENTENCE_LEFT = BAR_LEFT + BAR_MAX + 48
SENTENCE_CHARS = 100  # about the width left at 13px
LINE = 17
TOP = 8
AXIS = 30


def factor_name(key: str) -> str:
    return FACTOR_NAMES.get(key, key.replace("_", " ").capitalize())


def _tone(points: int) -> str:
    if points >= 20:
        return "high"
    if points >= 10:
        return "mid"
    return "low"


def render_risk_chart(factors: Sequence[dict[str, Any]], *, score: int, level: str,
                      id_prefix: str = "risk") -> str:
    """The SVG markup, or '' when no factor added points."""
    rows = [f for f in factors if int(f.get("points") or 0) > 0]
    if not rows:
        return ""
    scale = max(50, max(int(f["points"]) for f in rows))
    scale = ((scale + 9) // 10) * 10
    per_point = BAR_MAX / scale
    wrapped = [textwrap.wrap(str(f.get("sentence") or ""), SENTENCE_CHARS) or [""] for f in rows]
    heights = [max(2, len(lines)) * LINE + 12 for lines in wrapped]
    height = TOP + sum(heights) + AXIS
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    summary = "; ".join(f"{factor_name(str(f['key']))} +{int(f['points'])}" for f in rows)
    out = [
        f'<svg class="risk-chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}">',
        f'<title id="{title_id}">Risk factors: score {score} of 100, {escape(level)}</title>',
        f'<desc id="{desc_id}">{escape(summary)}.</desc>',
    ]
    # grid lines and the scale underneath
    axis_y = height - AXIS + 6
    for tick in range(0, scale + 1, 10):
        x = BAR_LEFT + tick * per_point
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" '
                   f'y2="{axis_y}"/>')
        out.append(f'<text class="tick" x="{x:.1f}" y="{axis_y + 15}" '
                   f'text-anchor="middle">{tick}</text>')
    out.append(f'<text class="tick" x="{BAR_LEFT + BAR_MAX + 18}" y="{axis_y + 15}">points</text>')
    y = TOP
    for factor, lines, row_height in zip(rows, wrapped, heights, strict=True):
        points = int(factor["points"])
        name = factor_name(str(factor["key"]))
        mid = y + 6 + LINE  # the bar sits on the first two lines
        bar = max(points * per_point, 2)
        out.append(f'<g class="factor factor-{escape(str(factor["key"]))} tone-{_tone(points)}">')
        out.append(f'<title>{escape(name)}: +{points} points</title>')
        out.append(f'<text class="name" x="{LABEL_RIGHT}" y="{mid + 4}" '
                   f'text-anchor="end">{escape(name)}</text>')
        out.append(f'<rect class="bar" x="{BAR_LEFT}" y="{mid - 10}" width="{bar:.1f}" '
                   f'height="20" rx="3"/>')
        out.append(f'<text class="points" x="{BAR_LEFT + bar + 6:.1f}" y="{mid + 4}">'
                   f'+{points}</text>')
        out.append(f'<text class="sentence" x="{SENTENCE_LEFT}" y="{y + 6 + 12}">')
        for i, line in enumerate(lines):
            dy = 0 if i == 0 else LINE
            out.append(f'<tspan x="{SENTENCE_LEFT}" dy="{dy}">{escape(line)}</tspan>')
        out.append("</text>")
        out.append("</g>")
        y += row_height
        out.append(f'<line class="sep" x1="0" y1="{y - 1}" x2="{WIDTH}" y2="{y - 1}"/>')
    out.append("</svg>")
    return "".join(out)
