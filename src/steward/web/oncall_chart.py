"""A schedule's weeks as an SVG timeline: one row per layer, one for overrides, and the
final row of who is on call, gaps drawn as gaps (pure).

Drawn on the server so it reads without JavaScript. Colours come from the stylesheet
(light and dark); every bar carries its person's name as text and a title with its times,
and the page's table of shifts says the same in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

WIDTH = 1160
LABEL_W = 150
RIGHT_PAD = 10
ROW_H = 34
BAR_H = 24
TOP = 40  # day labels above the rows
PALETTE = 8  # colour classes oc-c0 .. oc-c7 in the stylesheet


@dataclass(frozen=True)
class Bar:
    start: datetime
    end: datetime
    label: str  # the person, or "gap"
    kind: str  # "shift", "override" or "gap"
    title: str  # said on hover: who, when, why


@dataclass(frozen=True)
class Row:
    label: str
    bars: Sequence[Bar]
    final: bool = False


def colour_index(name: str, names: Sequence[str]) -> int:
    """The same person gets the same colour in every row of one chart."""
    return sorted(set(names)).index(name) % PALETTE if name in names else 0


def render_schedule_chart(rows: Sequence[Row], start: datetime, end: datetime, time_zone: str,
                          *, now: datetime | None = None, id_prefix: str = "oc") -> str:
    tz = ZoneInfo(time_zone)
    span = (end - start).total_seconds()
    inner = WIDTH - LABEL_W - RIGHT_PAD
    height = TOP + ROW_H * len(rows) + 8

    def x(moment: datetime) -> float:
        offset = (min(max(moment, start), end) - start).total_seconds()
        return LABEL_W + inner * offset / span

    people = [b.label for row in rows for b in row.bars if b.kind != "gap"]
    gaps = sum(1 for row in rows if row.final for b in row.bars if b.kind == "gap")
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    summary = (f"{len(rows)} rows from {_local(start, tz)} to {_local(end, tz)}; "
               + (f"{gaps} gap{'s' if gaps != 1 else ''} with nobody on call"
                  if gaps else "no gaps"))
    out = [
        f'<svg class="oncall-chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}">',
        f'<title id="{title_id}">Who is on call, times in {escape(time_zone)}</title>',
        f'<desc id="{desc_id}">{escape(summary)}. The table below lists every shift and '
        'gap.</desc>',
        '<defs><pattern id="oc-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect class="oc-hatch-bg" width="8" height="8"/>'
        '<line class="oc-hatch-line" x1="0" y1="0" x2="0" y2="8" stroke-width="4"/>'
        '</pattern></defs>',
    ]
    # one column per local day: a line at midnight and the day's name above
    day = datetime.combine(start.astimezone(tz).date(), datetime.min.time(), tz)
    days = max(1.0, span / 86400)
    while day.astimezone(start.tzinfo) < end:
        moment = day.astimezone(start.tzinfo)
        if moment >= start:
            px = x(moment)
            weekend = day.weekday() >= 5
            out.append(f'<line class="oc-day{" oc-weekend" if weekend else ""}" '
                       f'x1="{px:.1f}" y1="{TOP - 14}" x2="{px:.1f}" y2="{height - 8}"/>')
            if days <= 35 or day.weekday() == 0:
                label = day.strftime("%a %d") if days <= 21 else day.strftime("%d %b")
                out.append(f'<text class="oc-tick" x="{px + 3:.1f}" y="{TOP - 18}">'
                           f'{escape(label)}</text>')
        day = datetime.combine(day.date() + timedelta(days=1), datetime.min.time(), tz)
    for i, row in enumerate(rows):
        y = TOP + i * ROW_H
        cls = "oc-row oc-final" if row.final else "oc-row"
        out.append(f'<g class="{cls}"><text class="oc-label" x="{LABEL_W - 8}" '
                   f'y="{y + ROW_H / 2 + 4:.1f}" text-anchor="end">{escape(row.label)}</text>')
        out.append(f'<rect class="oc-lane" x="{LABEL_W}" y="{y + 3}" width="{inner}" '
                   f'height="{BAR_H + 2}"/>')
        for bar in row.bars:
            x0, x1 = x(bar.start), x(bar.end)
            width = max(x1 - x0, 1.0)
            if bar.kind == "gap":
                colour = "oc-gap"
            else:
                colour = f"oc-c{colour_index(bar.label, people)}"
                if bar.kind == "override":
                    colour += " oc-override"
            out.append(f'<g class="oc-bar {colour}"><title>{escape(bar.title)}</title>'
                       f'<rect x="{x0:.1f}" y="{y + 4}" width="{width:.1f}" height="{BAR_H}" '
                       f'rx="3"/>')
            text = bar.label if bar.kind != "override" else f"{bar.label} (override)"
            if width > 7.5 * len(text) + 8:
                out.append(f'<text x="{x0 + 5:.1f}" y="{y + 4 + BAR_H / 2 + 4:.1f}">'
                           f'{escape(text)}</text>')
            elif width > 7.5 * len(bar.label) + 8:
                out.append(f'<text x="{x0 + 5:.1f}" y="{y + 4 + BAR_H / 2 + 4:.1f}">'
                           f'{escape(bar.label)}</text>')
            out.append('</g>')
        out.append('</g>')
    if now is not None and start <= now < end:
        px = x(now)
        out.append(f'<line class="oc-now" x1="{px:.1f}" y1="{TOP - 6}" x2="{px:.1f}" '
                   f'y2="{height - 8}"/><text class="oc-now-label" x="{px + 3:.1f}" '
                   f'y="{TOP - 4}">now</text>')
    out.append("</svg>")
    return "".join(out)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %b %Y %H:%M %Z")


def local_text(moment: datetime, time_zone: str) -> str:
    return _local(moment, ZoneInfo(time_zone))
