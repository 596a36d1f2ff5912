"""Grafana alerting webhook (unified alerting, payload ``version: "1"``) -> ``RecordAlert``.

Grafana's webhook contact point sends Alertmanager's webhook shape (Grafana
alerting embeds Alertmanager) plus Grafana's own fields: ``orgId``, ``title``,
``state``, ``message`` on the envelope; ``silenceURL``, ``dashboardURL``,
``panelURL``, ``imageURL`` and ``values`` (``valueString`` in older versions)
on each alert. So each alert is read exactly as in
:mod:`steward.ingest.alertmanager` (fingerprint, severity label, ``service``
label, Go zero ``endsAt``, ``group_key`` = SHA-256 of ``groupKey``, which is
also the ``dedup_key`` of Grafana's PagerDuty contact point), with those extra
fields kept in ``details``.

The legacy (pre-unified) Grafana alerting webhook, ``{"ruleId", "ruleName",
"state", "evalMatches", ...}``, is refused with a message saying so: it names
no alerts, fingerprints or start times.
"""

from __future__ import annotations

from typing import Any

from steward.errors import ValidationError
from steward.incidents.commands import RecordAlert
from steward.ingest.alertmanager import alert_command, read_group

VERSION = "1"
GROUP_DETAILS = ("receiver", "externalURL", "orgId")
ALERT_DETAILS = ("silenceURL", "dashboardURL", "panelURL", "imageURL", "values",
                 "valueString")
_LEGACY_FIELDS = ("ruleId", "evalMatches", "ruleUrl")


def translate(body: Any) -> list[RecordAlert]:
    """Every alert of a Grafana webhook notification as a command, in payload order."""
    if isinstance(body, dict) and "alerts" not in body \
            and any(key in body for key in _LEGACY_FIELDS):
        raise ValidationError(
            "alerts: is required; this is a legacy Grafana alerting notification "
            "(ruleId/evalMatches), which Steward does not read: send from a Grafana "
            "alerting (unified alerting) webhook contact point", field="alerts")
    group = read_group(body, version=VERSION)
    return [alert_command(alert, f"alerts[{index}]", group, source="grafana",
                          group_details=GROUP_DETAILS, alert_details=ALERT_DETAILS)
            for index, alert in enumerate(group["alerts"])]
