"""Alert severity: the four levels, what sources call them, and what each means for a service.

Pure logic. Every source's word for severity is read into one of Steward's four
levels; a word Steward does not know is recorded as ``DEFAULT`` and the alert says
so (its ``details`` keep the word as sent), so an alert is never refused for it.

What a level means for the service the alert is about (its impact):

======== ============ ==============================================
severity  impact       the service is
======== ============ ==============================================
critical  ``down``     down: it fails its users
error     ``down``     down
warning   ``degraded`` degraded: it works, worse than it should
info      ``none``     unaffected: the alert is recorded, nothing more
======== ============ ==============================================

Impact spreads through the dependency graph (``catalog.impact``) and decides an
incident's impact and a service's live health; severity alone decides urgency
(``priority.urgency_from``).
"""

from __future__ import annotations

from collections.abc import Iterable

SEVERITIES = ("critical", "error", "warning", "info")  # most severe first
DEFAULT = "error"

# What sources send, lower-cased, to Steward's level: Alertmanager and Grafana
# ``severity`` labels, PagerDuty's four levels, CDEvents ``customData.severity``,
# and the words common monitoring setups use for them.
ALIASES = {
    "critical": "critical", "crit": "critical", "page": "critical", "fatal": "critical",
    "emergency": "critical", "disaster": "critical", "p1": "critical", "sev1": "critical",
    "error": "error", "err": "error", "high": "error", "major": "error", "p2": "error",
    "sev2": "error",
    "warning": "warning", "warn": "warning", "minor": "warning", "medium": "warning",
    "moderate": "warning", "average": "warning", "p3": "warning", "sev3": "warning",
    "info": "info", "informational": "info", "information": "info", "none": "info",
    "low": "info", "notice": "info", "ok": "info", "p4": "info", "p5": "info",
    "sev4": "info", "sev5": "info",
}

DOWN, DEGRADED, NONE = "down", "degraded", "none"
IMPACT_BY_SEVERITY = {"critical": DOWN, "error": DOWN, "warning": DEGRADED, "info": NONE}
_IMPACT_ORDER = (DOWN, DEGRADED, NONE)  # worst first

# Where the word as sent is kept on an alert whose severity was not one Steward knows.
REPORTED_DETAIL = "severity_reported"


def normalise(value: object) -> tuple[str, str | None]:
    """Steward's level for what a source sent, and a sentence when it was not known
    (absent is not unknown: an alert without a severity is ``DEFAULT`` silently)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT, None
    if isinstance(value, str):
        known = ALIASES.get(value.strip().lower())
        if known is not None:
            return known, None
    return DEFAULT, (f"severity {str(value)[:50]!r} is not one Steward knows; "
                     f"recorded as {DEFAULT}")


def impact_of(severity: str) -> str:
    """``down``, ``degraded`` or ``none`` for one of the four levels (unknown: ``DEFAULT``'s)."""
    return IMPACT_BY_SEVERITY.get(severity, IMPACT_BY_SEVERITY[DEFAULT])


def worst_impact(severities: Iterable[str]) -> str:
    """The worst impact among alerts' severities; ``none`` for no alerts."""
    impacts = {impact_of(s) for s in severities}
    return next((i for i in _IMPACT_ORDER if i in impacts), NONE)


def most_severe(severities: Iterable[str]) -> str | None:
    found = set(severities)
    return next((s for s in SEVERITIES if s in found), None)
