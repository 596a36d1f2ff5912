"""KPI trend charts in plain SVG, drawn on the server.

A chart is a row of periods (weeks, or days for an error budget): a bar or a
point per period that has a value, a gap marked "no data" where there is
none (never a 0 that did not happen), an optional dashed target line, and a
<title> on every mark so the numbers read without the picture. Colours come
from the page's stylesheet (light and dark); each mark carries its period
and value as data attributes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

WIDTH = 560
HEIGHT = 210
LEFT = 58
RIGHT = 14
TOP = 14
BOTTOM = 34

Point = tuple[str, float | None]  # (period label, value)


def _nice_max(value: float) -> float:
    """A round upper bound for the axis: 1, 2, 2.5 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def plain(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0").rstrip(".")


def percent(value: float) -> str:
    return f"{value * 100:.1f} %".replace(".0 %", " %")


def hours(value: float) -> str:
    if abs(value) < 1 and value != 0:
        return f"{value:.2f} h"
    return f"{value:.1f} h" if value < 100 else f"{value:.0f} h"


def trend_chart(points: Sequence[Point], *, title: str, kind: str = "line",
                fmt: Callable[[float], str] = plain, target: float | None = None,
                target_label: str = "", ceiling: float | None = None,
                chart_id: str = "chart") -> str:
    """The SVG markup of one chart (``kind`` "bar" or "line")."""
    values = [v for _, v in points if v is not None]
    top = ceiling if ceiling is not None else _nice_max(
        max([*values, *([target] if target is not None else []), 0.0]) * 1.1)
    low = min([0.0, *values])
    if low < 0:  # an overspent error budget goes below zero
        low = -_nice_max(-low)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - (min(value, top) - low) / (top - low))

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    described = "; ".join(f"{label}: {fmt(v) if v is not None else 'no data'}"
                          for label, v in points)
    out = [f'<svg class="kpi-chart kpi-{escape(kind)}" id="{escape(chart_id)}" '
           f'xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-labelledby="{title_id} {desc_id}" data-points="{len(values)}">',
           f'<title id="{title_id}">{escape(title)}</title>',
           f'<desc id="{desc_id}">{escape(described or "no data")}</desc>']
    for tick in sorted({low, 0.0, top / 2, top}):
        y = y_of(tick)
        out.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
                   f'y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{escape(fmt(tick))}</text>')
    every = max(1, math.ceil(len(points) / 8))
    for i, (label, _) in enumerate(points):
        if i % every == 0 or i == len(points) - 1:
            x = LEFT + slot * (i + 0.5)
            out.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                       f'text-anchor="middle">{escape(label)}</text>')
    if target is not None:
        y = y_of(target)
        out.append(f'<line class="target" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
                   f'y2="{y:.1f}"><title>{escape(target_label or "target")}: '
                   f'{escape(fmt(target))}</title></line>')
        out.append(f'<text class="target-label" x="{WIDTH - RIGHT}" y="{y - 4:.1f}" '
                   f'text-anchor="end">{escape(target_label or "target")} '
                   f'{escape(fmt(target))}</text>')
    line: list[str] = []
    marks: list[str] = []
    for i, (label, value) in enumerate(points):
        x = LEFT + slot * (i + 0.5)
        if value is None:
            marks.append(f'<text class="gap" x="{x:.1f}" y="{TOP + plot_h - 4}" '
                         f'text-anchor="middle" data-period="{escape(label)}">'
                         f'<title>{escape(label)}: no data</title>–</text>')
            if len(line) > 1:
                out.append(f'<polyline class="line" points="{" ".join(line)}"/>')
            line = []
            continue
        y = y_of(value)
        tip = f"<title>{escape(label)}: {escape(fmt(value))}</title>"
        if kind == "bar":
            width = max(slot * 0.62, 2)
            base = y_of(0.0)
            marks.append(f'<rect class="bar mark" x="{x - width / 2:.1f}" y="{min(y, base):.1f}" '
                         f'width="{width:.1f}" height="{abs(base - y):.1f}" rx="2" '
                         f'data-period="{escape(label)}" data-value="{value:g}">{tip}</rect>')
        else:
            line.append(f"{x:.1f},{y:.1f}")
            marks.append(f'<circle class="point mark" cx="{x:.1f}" cy="{y:.1f}" r="3.5" '
                         f'data-period="{escape(label)}" data-value="{value:g}">{tip}</circle>')
    if len(line) > 1:
        out.append(f'<polyline class="line" points="{" ".join(line)}"/>')
    out.extend(marks)
    zero = y_of(0.0)
    out.append(f'<line class="axis" x1="{LEFT}" y1="{zero:.1f}" x2="{WIDTH - RIGHT}" '
               f'y2="{zero:.1f}"/>')
    out.append("</svg>")
    return "".join(out)
