"""The domain command every alert source translates into.

Ingest modules (Alertmanager, PagerDuty Events v2, Grafana, CDEvents, the
generic API) build :class:`RecordAlert` values and hand them to
``steward.incidents.service.record_alert``; dedup, routing, correlation and
incidents live there, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from steward.inputs import shorten
from steward.weburl import screen_url

# Where an alert keeps, as text, a url that is not http(s) (it is never a link).
URL_NOT_LINKED = "url_not_linked"

ALERT_STATUSES = ("firing", "acknowledged", "resolved")
SEVERITIES = ("critical", "error", "warning", "info")
INCIDENT_STATES = ("triggered", "acknowledged", "mitigated", "resolved", "closed")
OPEN_STATES = ("triggered", "acknowledged", "mitigated")


TITLE_LENGTH = 500  # an incident's title (its column's size)
SUMMARY_LENGTH = 1024  # an alert's summary: PagerDuty's own limit for one
URL_LENGTH = 2000


def alert_summary(summary: str) -> str:
    """The summary an alert keeps: all of it that its column holds."""
    return shorten(summary, SUMMARY_LENGTH)


def incident_title(summary: str, service: str) -> str:
    """The title of an incident an alert opens: its summary, shortened at a word boundary
    when longer than a title (the alert keeps the whole summary)."""
    return shorten(summary, TITLE_LENGTH) if summary else f"Alert on {service}"


@dataclass(frozen=True)
class RecordAlert:
    dedup_key: str  # identifies the alert within its integration (fingerprint, dedup_key)
    status: str  # firing, acknowledged (PagerDuty acknowledge), resolved
    summary: str = ""
    severity: str = "error"  # one of SEVERITIES
    service: str | None = None  # a service name the event names (label, payload field)
    # The wire field that named it, for messages ("labels.service", "payload.custom_details.
    # service"); routing itself is ``catalog.event_routing``.
    service_field: str = "service"
    occurred_at: datetime | None = None  # when the source saw it (UTC); None = now
    ended_at: datetime | None = None  # for resolved: when it stopped
    source: str = "generic"  # alertmanager, pagerduty, grafana, cdevents, generic
    labels: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    url: str | None = None  # a link back to the source (generatorURL, client_url, ...)
    # Several alerts of one Alertmanager group share it: lets the PagerDuty receiver's
    # one event per group and the webhook receiver's alerts land in one incident.
    group_key: str | None = None

    def __post_init__(self) -> None:
        # An alert is never refused for a bad link: a url that is not http(s) is
        # dropped and its text kept in the details (steward.weburl).
        url, refused = screen_url(self.url)
        object.__setattr__(self, "url", url)
        if refused is not None:
            object.__setattr__(self, "details", {**self.details, URL_NOT_LINKED: refused})
