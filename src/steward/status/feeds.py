"""The public incident history as Atom and RSS 2.0 feeds. Pure: page data in, XML out."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from steward.timeutil import as_utc, isoformat_z

LABELS = {"investigating": "Investigating", "identified": "Identified",
          "monitoring": "Monitoring", "resolved": "Resolved"}


def _text(incident: dict[str, Any]) -> str:
    lines = []
    for update in incident["updates"]:
        when = as_utc(update["created_at"]).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"{LABELS.get(update['status'], update['status'])} ({when}): "
                     f"{update['body']}")
    if incident["components"]:
        lines.append("Affected: " + ", ".join(c["name"] for c in incident["components"]))
    return "\n\n".join(lines)


def _link(base: str, incident: dict[str, Any]) -> str:
    return f"{base}/status/incidents/{incident['id']}"


def atom(data: dict[str, Any], base: str) -> str:
    updated = max([i["updated_at"] for i in data["incidents"]], default=data["updated_at"])
    entries = "".join(
        f"<entry><id>{escape(_link(base, i))}</id>"
        f"<title>{escape(i['name'])}</title>"
        f'<link rel="alternate" type="text/html" href="{escape(_link(base, i))}"/>'
        f"<published>{isoformat_z(i['created_at'])}</published>"
        f"<updated>{isoformat_z(i['updated_at'])}</updated>"
        f'<content type="text">{escape(_text(i))}</content></entry>'
        for i in data["incidents"])
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>{escape(base)}/status</id><title>{escape(data['name'])}: incident history"
            f"</title><updated>{isoformat_z(updated)}</updated>"
            f'<link rel="alternate" type="text/html" href="{escape(base)}/status"/>'
            f'<link rel="self" type="application/atom+xml" '
            f'href="{escape(base)}/status/history.atom"/>'
            f"<author><name>{escape(data['name'])}</name></author>{entries}</feed>")


def _rfc822(value: datetime) -> str:
    return format_datetime(as_utc(value), usegmt=True)


def rss(data: dict[str, Any], base: str) -> str:
    items = "".join(
        f"<item><title>{escape(i['name'])}</title><link>{escape(_link(base, i))}</link>"
        f'<guid isPermaLink="true">{escape(_link(base, i))}</guid>'
        f"<pubDate>{_rfc822(i['created_at'])}</pubDate>"
        f"<description>{escape(_text(i))}</description></item>"
        for i in data["incidents"])
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(data['name'])}: incident history</title>"
            f"<link>{escape(base)}/status</link>"
            "<description>Incidents and their public updates</description>"
            f"<lastBuildDate>{_rfc822(data['updated_at'])}</lastBuildDate>"
            f"{items}</channel></rss>")
