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
from steward.ingest.alertmanager import alert_command, each_alert, read_group
from steward.ingest.wire import Refusal, refuse_batch

VERSION = "1"
GROUP_DETAILS = ("receiver", "externalURL", "orgId")
ALERT_DETAILS = ("silenceURL", "dashboardURL", "panelURL", "imageURL", "values",
                 "valueString")
_LEGACY_FIELDS = ("ruleId", "evalMatches", "ruleUrl")


def translate(body: Any) -> list[RecordAlert]:
    """Every alert of a Grafana webhook notification as a command, in payload order;
    raises the first refusal (:func:`translate_group` records the others)."""
    commands, refused = translate_group(body)
    if refused:
        raise refuse_batch(refused)
    return commands


def translate_group(body: Any) -> tuple[list[RecordAlert], list[Refusal]]:
    """The commands of a notification's alerts, and the alerts refused one by one (a time
    that does not parse); anything else wrong refuses the whole notification."""
    if isinstance(body, dict) and "alerts" not in body \
            and any(key in body for key in _LEGACY_FIELDS):
        raise ValidationError(
            "alerts: is required; this is a legacy Grafana alerting notification "
            "(ruleId/evalMatches), which Steward does not read: send from a Grafana "
            "alerting (unified alerting) webhook contact point", field="alerts")
    group = read_group(body, version=VERSION)
    return each_alert(group, lambda alert, where: alert_command(
        alert, where, group, source="grafana", group_details=GROUP_DETAILS,
        alert_details=ALERT_DETAILS))
