"""Prometheus Alertmanager webhook (``version: "4"``) -> one ``RecordAlert`` per alert.

Alertmanager POSTs a whole group at a time: ``{"version": "4", "groupKey",
"truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels",
"commonAnnotations", "externalURL", "alerts": [...]}``. Each alert carries its
own ``status``, and that is the one that counts: the group's ``status`` stays
``firing`` while any alert in it fires (a partial resolve).

- ``dedup_key`` is the alert's ``fingerprint``. When a sender leaves it out it
  is computed the way Alertmanager computes it (FNV-1a 64 over the sorted
  labels), so the same alert matches with or without it.
- ``group_key`` is the lowercase hex SHA-256 of ``groupKey``: exactly the
  ``dedup_key`` that Alertmanager's (and Grafana's) PagerDuty receiver sends
  for the group, so the webhook's alerts and the PagerDuty event of one group
  carry the same key and land in one incident. The raw ``groupKey`` is kept in
  ``details``.
- Firing alerts carry ``endsAt = "0001-01-01T00:00:00Z"`` (Go's zero time),
  which means "no end".
- The service an alert names is its ``service`` label, else a ``service``
  annotation (which service it lands on is the domain's rule,
  ``catalog.event_routing``).

- The severity is the alert's ``severity`` label, read by the command
  (``incidents.severity``: aliases are read, an unknown word is recorded as
  ``error`` and the alert keeps it).
- ``startsAt`` is kept as reported (``RecordAlert.occurred_at``); how much of it
  counts is the domain's rule (``incidents.event_time``). An alert whose
  ``startsAt`` or ``endsAt`` does not parse is refused alone
  (:func:`translate_group`): the rest of its group is recorded.

Unknown top-level and per-alert fields are ignored; Grafana's webhook
(:mod:`steward.ingest.grafana`) is this shape with a few more fields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from steward.errors import ValidationError
from steward.incidents.commands import RecordAlert
from steward.ingest.wire import Refusal, UnreadableTime, event_time, refuse_batch

VERSION = "4"
ALERT_STATUSES = ("firing", "resolved")
DEDUP_KEY_MAX = 255
GO_ZERO_TIME = "0001-01-01"  # any time on Go's zero day means "not set"

# Alertmanager's LabelSet.Fingerprint: FNV-1a 64 with 0xff after each name and value.
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = 0xFFFFFFFFFFFFFFFF

GROUP_DETAILS = ("receiver", "externalURL")


def translate(body: Any) -> list[RecordAlert]:
    """Every alert of a webhook notification as a command, in payload order; raises the
    first refusal (:func:`translate_group` records the others)."""
    commands, refused = translate_group(body)
    if refused:
        raise refuse_batch(refused)
    return commands


def translate_group(body: Any) -> tuple[list[RecordAlert], list[Refusal]]:
    """The commands of a notification's alerts, and the alerts refused one by one (a time
    that does not parse); anything else wrong refuses the whole notification."""
    group = read_group(body, version=VERSION)
    return each_alert(group, lambda alert, where: alert_command(
        alert, where, group, source="alertmanager", group_details=GROUP_DETAILS))


def each_alert(group: Mapping[str, Any], command: Callable[[Any, str], RecordAlert],
               ) -> tuple[list[RecordAlert], list[Refusal]]:
    """``command`` of every alert of a group, in order, an alert whose time does not
    parse refused alone."""
    commands, refused = [], []
    for index, alert in enumerate(group["alerts"]):
        where = f"alerts[{index}]"
        try:
            commands.append(command(alert, where))
        except UnreadableTime as exc:
            field = exc.field or where
            refused.append(Refusal(index, field, exc.message.removeprefix(f"{field}: ")))
    return commands, refused


def read_group(body: Any, *, version: str) -> dict[str, Any]:
    """Check the notification's envelope: a JSON object of ``version`` with an alert list."""
    if not isinstance(body, dict):
        raise ValidationError("body: expected a JSON object (an Alertmanager-style webhook "
                              "notification)", field="body")
    given = body.get("version")
    if given != version:
        what = "is required" if given is None else f"is {given!r}"
        raise ValidationError(f"version: {what}; this endpoint reads webhook payload "
                              f"version {version!r}", field="version")
    if not isinstance(body.get("alerts"), list):
        raise ValidationError("alerts: expected a list of alerts", field="alerts")
    for key in ("receiver", "externalURL", "groupKey"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ValidationError(f"{key}: expected a string", field=key)
    return body


def alert_command(alert: Any, where: str, group: Mapping[str, Any], *, source: str,
                  group_details: Sequence[str] = GROUP_DETAILS,
                  alert_details: Sequence[str] = ()) -> RecordAlert:
    """One alert of a group; ``where`` (``alerts[2]``) prefixes every field named in errors.

    ``group_details`` and ``alert_details`` name the envelope and alert fields
    copied into ``details`` when they are present and not empty.
    """
    if not isinstance(alert, dict):
        raise ValidationError(f"{where}: expected an alert object", field=where)
    status = alert.get("status")
    if status not in ALERT_STATUSES:
        raise ValidationError(f"{where}.status: must be 'firing' or 'resolved', got {status!r}",
                              field=f"{where}.status")
    labels = _labels(alert.get("labels"), f"{where}.labels")
    annotations = alert.get("annotations")
    if annotations is None:
        annotations = {}
    elif not isinstance(annotations, dict):
        raise ValidationError(f"{where}.annotations: expected an object",
                              field=f"{where}.annotations")
    if "startsAt" not in alert:
        raise ValidationError(f"{where}.startsAt: is required", field=f"{where}.startsAt")
    occurred_at = parse_time(alert["startsAt"], f"{where}.startsAt")
    ended_at = end_time(alert.get("endsAt"), f"{where}.endsAt")
    details: dict[str, Any] = dict(annotations)
    for key in group_details:
        if group.get(key) not in (None, ""):
            details[key] = group[key]
    for key in alert_details:
        if alert.get(key) not in (None, "", {}, []):
            details[key] = alert[key]
    group_key = group.get("groupKey")
    if isinstance(group_key, str) and group_key:
        details["groupKey"] = group_key
    service, service_field = named_service(labels, annotations)
    return RecordAlert(
        dedup_key=_dedup_key(alert.get("fingerprint"), labels, f"{where}.fingerprint"),
        status=status,
        summary=_summary(annotations, labels),
        severity=labels.get("severity", ""),  # read by the command (``severity``)
        service=service,
        service_field=service_field,
        occurred_at=occurred_at,
        ended_at=ended_at if status == "resolved" else None,
        source=source,
        labels=labels,
        details=details,
        url=_optional_str(alert.get("generatorURL"), f"{where}.generatorURL"),
        group_key=group_key_hash(group_key) if isinstance(group_key, str) and group_key
        else None,
    )


def named_service(labels: Mapping[str, str],
                  annotations: Mapping[str, Any]) -> tuple[str | None, str]:
    """The service an alert names, and the field that names it: its ``service`` label,
    else a ``service`` annotation."""
    label = labels.get("service", "").strip()
    if label:
        return label, "labels.service"
    annotation = annotations.get("service")
    if isinstance(annotation, str) and annotation.strip():
        return annotation.strip(), "annotations.service"
    return None, "labels.service"


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (16 lowercase hex digits)."""
    value = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name.encode("utf-8"), b"\xff", labels[name].encode("utf-8"), b"\xff"):
            for byte in part:
                value = ((value ^ byte) * _FNV_PRIME) & _MASK
    return f"{value:016x}"


def group_key_hash(group_key: str) -> str:
    """The ``dedup_key`` Alertmanager's PagerDuty receiver sends for ``group_key``."""
    return hashlib.sha256(group_key.encode("utf-8")).hexdigest()


def parse_time(value: Any, field: str) -> datetime:
    return event_time(value, field)


def end_time(value: Any, field: str) -> datetime | None:
    """An ``endsAt``: ``None`` when absent, empty or Go's zero time."""
    if value is None or (isinstance(value, str) and
                         (not value.strip() or value.strip().startswith(GO_ZERO_TIME))):
        return None
    return parse_time(value, field)


def _labels(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError(f"{where}: is required (an object of string values)", field=where)
    for name, label in value.items():
        if not isinstance(label, str):
            raise ValidationError(f"{where}.{name}: expected a string, got {label!r}",
                                  field=f"{where}.{name}")
    return dict(value)


def _dedup_key(value: Any, labels: Mapping[str, str], where: str) -> str:
    if value is None or value == "":
        return fingerprint(labels)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{where}: expected a non-empty string", field=where)
    if len(value.strip()) > DEDUP_KEY_MAX:
        raise ValidationError(f"{where}: longer than {DEDUP_KEY_MAX} characters", field=where)
    return value.strip()


def _summary(annotations: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    for value in (annotations.get("summary"), annotations.get("description"),
                  labels.get("alertname")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _optional_str(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{where}: expected a string", field=where)
    return value.strip() or None
