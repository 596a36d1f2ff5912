"""The emails status page subscribers receive, as notification bodies the mail channel
renders (``kind: "message"``: a heading, paragraphs, one button and an unsubscribe link,
see ``steward.notify.channels.mail``). Pure.

They carry only what the public page shows: the public title, status, text and
components of an update; never internal names, numbers or people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from steward.status.links import CONFIRM_DAYS

STATE_WORDS = {"investigating": "Investigating", "identified": "Identified",
               "monitoring": "Monitoring", "resolved": "Resolved"}
COMPONENT_WORDS = {"operational": "operational", "degraded_performance":
                   "degraded performance", "partial_outage": "partial outage",
                   "major_outage": "major outage", "under_maintenance": "under maintenance"}


def confirmation(*, page_name: str, confirm_url: str, components: Sequence[str]
                 ) -> tuple[str, dict[str, Any]]:
    """Subject and body of the double opt-in email."""
    what = (f"the components {', '.join(components)}" if components
            else "every incident on the page")
    return (f"Confirm your subscription to {page_name}", {
        "kind": "message",
        "heading": f"Confirm your subscription to {page_name}",
        "paragraphs": [
            f"Someone (we hope you) asked for email updates about {what}.",
            "Nothing will be sent until you confirm. If it was not you, ignore this email: "
            "no further emails will follow.",
            f"The link works for {CONFIRM_DAYS} days."],
        "action": {"label": "Confirm subscription", "url": confirm_url},
        "footer": f"{page_name}: a confirmation for a subscription to its status updates."})


def update(*, page_name: str, title: str, status: str, body: str,
           components: Sequence[tuple[str, str]], incident_url: str, unsubscribe_url: str
           ) -> tuple[str, dict[str, Any]]:
    """Subject and body of one published update, for one subscriber."""
    state = STATE_WORDS.get(status, status)
    paragraphs = [f"{state}: {body}"]
    if components:
        paragraphs.append("Affected: " + "; ".join(
            f"{name} ({COMPONENT_WORDS.get(s, s)})" for name, s in components))
    return (f"[{page_name}] {state}: {title}", {
        "kind": "message",
        "heading": title,
        "paragraphs": paragraphs,
        "action": {"label": "View the incident", "url": incident_url},
        "unsubscribe_url": unsubscribe_url,
        "footer": f"You receive this because you subscribed to {page_name}."})
