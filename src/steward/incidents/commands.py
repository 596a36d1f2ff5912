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

from steward.incidents import severity as severities
from steward.inputs import shorten
from steward.weburl import screen_url

# Where an alert keeps, as text, a url that is not http(s) (it is never a link).
URL_NOT_LINKED = "url_not_linked"

ALERT_STATUSES = ("firing", "acknowledged", "resolved")
SEVERITIES = severities.SEVERITIES
# Where an alert whose severity Steward did not know says so (beside ``severity_reported``).
SEVERITY_NOTE = "severity_note"
INCIDENT_STATES = ("triggered", "acknowledged", "mitigated", "resolved", "closed")
OPEN_STATES = ("triggered", "acknowledged", "mitigated")


TITLE_LENGTH = 500  # an incident's title (its column's size)
SUMMARY_LENGTH = 1024  # an alert's summary: PagerDuty's own limit for one
URL_LENGTH = 2000
REPORTED_LENGTH = 200  # an unknown severity word, as kept in the details


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
    # What the source calls it: read into one of SEVERITIES (``severity.normalise``); a
    # word Steward does not know is recorded as "error" and the details say so.
    severity: str = "error"
    service: str | None = None  # a service name the event names (label, payload field)
    # The wire field that named it, for messages ("labels.service", "payload.custom_details.
    # service"); routing itself is ``catalog.event_routing``.
    service_field: str = "service"
    # When the source saw it (UTC), as reported (the alert's reported_at); None = now.
    # The time that counts is made plausible when recorded (``incidents.event_time``).
    occurred_at: datetime | None = None
    # When Steward received it; None = now. Set only by what replays history (the demo's
    # seed): an event's time counts within a bound of this one.
    received_at: datetime | None = None
    ended_at: datetime | None = None  # for resolved: when it stopped
    source: str = "generic"  # alertmanager, pagerduty, grafana, cdevents, generic
    labels: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    url: str | None = None  # a link back to the source (generatorURL, client_url, ...)
    # Several alerts of one Alertmanager group share it: lets the PagerDuty receiver's
    # one event per group and the webhook receiver's alerts land in one incident.
    group_key: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            given: Any = self.severity
            level, note = severities.normalise(given)
            object.__setattr__(self, "severity", level)
            if note is not None:
                object.__setattr__(self, "details", {
                    **self.details, SEVERITY_NOTE: note,
                    severities.REPORTED_DETAIL: shorten(given, REPORTED_LENGTH)
                    if isinstance(given, str) else given})
        # An alert is never refused for a bad link: a url that is not http(s) is
        # dropped and its text kept in the details (steward.weburl).
        url, refused = screen_url(self.url)
        object.__setattr__(self, "url", url)
        if refused is not None:
            object.__setattr__(self, "details", {**self.details, URL_NOT_LINKED: refused})
