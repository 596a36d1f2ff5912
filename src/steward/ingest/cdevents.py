"""CDEvents over CloudEvents HTTP -> ``RecordDeployment``, and incidents -> ``RecordAlert``.

Accepted transports (CloudEvents HTTP binding 1.0):

- **binary** mode: ``ce-specversion``/``ce-type``/``ce-id``/``ce-source``
  headers, the body is the CDEvent itself;
- **structured** mode: ``Content-Type: application/cloudevents+json``, the body
  is the CloudEvent envelope and the CDEvent is its ``data``;
- a bare CDEvent (``context`` + ``subject``) sent as ``application/json``.

CDEvents v0.3 to v0.5 are read: ``context.specversion`` (v0.5) or
``context.version`` (v0.4 and before), ``type`` of the form
``dev.cdevents.<subject>.<predicate>.<schema version>``.

Service naming: a service subject's ``id`` names the service ("service/myapp",
"daemonset/myapp" in the spec), so the Steward service is its last path
segment. The artifact's purl only gives the version.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from steward.changes.commands import RecordDeployment
from steward.errors import ValidationError
from steward.incidents.commands import RecordAlert
from steward.ingest.wire import event_time, object_at, required_str
from steward.timeutil import parse_timestamp

_TYPE = re.compile(r"dev\.cdevents\.([a-z]+)\.([a-z]+)\.(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)")
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"

DEPLOYMENT_KINDS: dict[str, str | None] = {
    "service.deployed": "succeeded",
    "service.upgraded": "succeeded",
    # The artifact named is the one now running (rolled back *to*); the domain
    # marks the service's previous deployment in that environment as rolled back.
    "service.rolledback": "succeeded",
    # A removed service is not a new version in the environment: acknowledged only.
    "service.removed": None,
}
ALERT_DEDUP_KEY_MAX = 255
INCIDENT_KINDS = {
    "incident.detected": "detected",
    "incident.reported": "detected",
    "incident.resolved": "resolved",
}


def read_event(headers: Mapping[str, str], body: Any) -> tuple[str, dict[str, Any]]:
    """Unwrap the transport: ``("service.deployed", cdevent)``.

    Raises ``ValidationError`` naming the header or field that is missing or wrong.
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    content_type = lowered.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == BATCH:
        raise ValidationError("Content-Type: CloudEvents batch mode is not supported; "
                              "send one event per request", field="Content-Type")
    if not isinstance(body, dict):
        raise ValidationError("body: expected a JSON object", field="body")
    if "ce-type" in lowered or "ce-specversion" in lowered:
        for header in ("ce-specversion", "ce-type", "ce-id", "ce-source"):
            if not lowered.get(header, "").strip():
                raise ValidationError(f"{header}: required in CloudEvents binary mode",
                                      field=header)
        envelope_type, envelope_field, event = lowered["ce-type"].strip(), "ce-type", body
    elif content_type == STRUCTURED or _is_envelope(body):
        for key in ("specversion", "type", "id", "source"):
            if not isinstance(body.get(key), str) or not body[key].strip():
                raise ValidationError(f"{key}: required in a structured CloudEvent", field=key)
        envelope_type, envelope_field, event = body["type"].strip(), "type", _data(body)
    elif "context" in body:
        envelope_type, envelope_field, event = None, "", body
    else:
        raise ValidationError("body: neither a CloudEvent nor a CDEvent (no 'context')",
                              field="body")

    context = event.get("context")
    if not isinstance(context, dict):
        raise ValidationError("context: expected the CDEvent context object", field="context")
    event_type = context.get("type")
    if not isinstance(event_type, str) or not event_type.strip():
        if envelope_type is None:
            raise ValidationError("context.type: is required", field="context.type")
        event_type = envelope_type
    event_type = event_type.strip()
    if envelope_type is not None and envelope_type != event_type:
        raise ValidationError(
            f"{envelope_field}: {envelope_type!r} does not match the CDEvent's context.type "
            f"{event_type!r}", field=envelope_field)
    match = _TYPE.fullmatch(event_type)
    if match is None:
        raise ValidationError(
            f"context.type: {event_type!r} is not a CDEvents type "
            "(dev.cdevents.<subject>.<predicate>.<version>)", field="context.type")
    return f"{match.group(1)}.{match.group(2)}", event


def translate(headers: Mapping[str, str], body: Any) -> RecordDeployment | None:
    """A service deployment event as a command; ``None`` for any other CDEvent."""
    kind, event = read_event(headers, body)
    if kind not in DEPLOYMENT_KINDS:
        return None
    status = DEPLOYMENT_KINDS[kind]
    context, subject = event["context"], _subject(event)
    event_id = required_str(context, "context.id")
    finished_at = _time(context, "context.timestamp")
    if status is None:
        return None
    content = object_at(subject, "subject.content")
    environment = _environment(content)
    artifact = required_str(content, "subject.content.artifactId")
    source = context.get("source")
    external_id = f"{source.strip()}#{event_id}" if isinstance(source, str) and source.strip() \
        else event_id
    return RecordDeployment(
        environment=environment,
        status=status,
        service=_last_segment(required_str(subject, "subject.id"), "subject.id"),
        named_field="subject.id",
        version=purl_version(artifact),
        finished_at=finished_at,
        source="cdevents",
        external_id=external_id,
        description=f"CDEvents {kind}: {artifact}",
        is_rollback=kind == "service.rolledback",
    )


def incident_event(headers: Mapping[str, str], body: Any) -> dict[str, Any] | None:
    """``incident.detected/reported/resolved`` as plain facts; ``None`` for other CDEvents."""
    kind, event = read_event(headers, body)
    if kind not in INCIDENT_KINDS:
        return None
    context, subject = event["context"], _subject(event)
    content = object_at(subject, "subject.content")
    service = content.get("service")
    service_id = service.get("id") if isinstance(service, dict) else None
    description = content.get("description")
    ticket = content.get("ticketURI")
    custom = event.get("customData")
    return {
        "kind": INCIDENT_KINDS[kind],
        "type": kind,
        "id": required_str(subject, "subject.id"),
        "service": _last_segment(service_id, "subject.content.service.id")
        if isinstance(service_id, str) and service_id.strip() else None,
        "environment": _environment(content),
        "description": description.strip() if isinstance(description, str) else "",
        # a time that does not parse refuses the event 400; any other is kept as reported
        "timestamp": event_time(context.get("timestamp"), "context.timestamp"),
        "event_id": required_str(context, "context.id"),
        "source": context.get("source") if isinstance(context.get("source"), str) else None,
        "url": ticket.strip() if isinstance(ticket, str) and ticket.strip() else None,
        "artifact_id": content.get("artifactId") if isinstance(content.get("artifactId"),
                                                                str) else None,
        "custom_data": custom if isinstance(custom, dict) else {},
    }


def incident_to_alert(headers: Mapping[str, str], body: Any) -> RecordAlert | None:
    """``incident.detected/reported`` (firing) or ``incident.resolved`` as an alert command.

    ``None`` for any other CDEvent. The subject id names the incident, so it is
    the dedup key: the resolved event settles the alert its detected event opened.
    ``customData.severity`` sets the severity (``incidents.severity``: an alias such
    as ``high``/``low`` is read, a word Steward does not know is ``error`` and the
    alert says so); absent, it is ``error``.
    """
    facts = incident_event(headers, body)
    if facts is None:
        return None
    if len(facts["id"]) > ALERT_DEDUP_KEY_MAX:
        raise ValidationError(f"subject.id: longer than {ALERT_DEDUP_KEY_MAX} characters",
                              field="subject.id")
    custom = facts["custom_data"]
    resolved = facts["kind"] == "resolved"
    details: dict[str, Any] = {"cdevent_type": facts["type"], "cdevent_id": facts["event_id"]}
    for key, value in (("cdevent_source", facts["source"]),
                       ("artifactId", facts["artifact_id"]), ("customData", custom)):
        if value:
            details[key] = value
    return RecordAlert(
        dedup_key=facts["id"],
        status="resolved" if resolved else "firing",
        summary=facts["description"],
        severity=custom.get("severity"),  # read by the command (``incidents.severity``)
        service=facts["service"],
        service_field="subject.content.service.id",
        occurred_at=facts["timestamp"],
        ended_at=facts["timestamp"] if resolved else None,
        source="cdevents",
        labels={"environment": facts["environment"]},
        details=details,
        url=facts["url"],
    )


def purl_version(purl: str) -> str | None:
    """The version a package URL names: its ``tag`` qualifier, else its ``@version``.

    ``pkg:oci/myapp@sha256%3A0b31...`` -> ``sha256:0b31...``;
    ``pkg:oci/myapp@sha256%3Aab?tag=1.4.2`` -> ``1.4.2``. Not a purl -> ``None``.
    """
    text = purl.strip()
    if not text.lower().startswith("pkg:"):
        return None
    text = text.split("#", 1)[0]
    path, _, query = text.partition("?")
    qualifiers = {k.lower(): v for k, v in parse_qsl(query, keep_blank_values=False)}
    if qualifiers.get("tag", "").strip():
        return qualifiers["tag"].strip()
    _, at, version = path.rpartition("@")
    if not at:
        return None
    return unquote(version).strip() or None


def _is_envelope(body: dict[str, Any]) -> bool:
    return "specversion" in body and "type" in body and "context" not in body \
        and ("data" in body or "data_base64" in body)


def _data(envelope: dict[str, Any]) -> dict[str, Any]:
    data: Any = envelope.get("data")
    try:
        if data is None and isinstance(envelope.get("data_base64"), str):
            data = json.loads(base64.b64decode(envelope["data_base64"], validate=True))
        elif isinstance(data, str | bytes):
            data = json.loads(data)
    except (ValueError, binascii.Error) as exc:
        raise ValidationError(f"data: the CloudEvent data is not JSON ({exc})",
                              field="data") from exc
    if not isinstance(data, dict):
        raise ValidationError("data: expected the CDEvent as a JSON object", field="data")
    return data


def _subject(event: dict[str, Any]) -> dict[str, Any]:
    return object_at(event, "subject")


def _environment(content: dict[str, Any]) -> str:
    environment = content.get("environment")
    if not isinstance(environment, dict):
        raise ValidationError("subject.content.environment: expected an object with an id",
                              field="subject.content.environment")
    return required_str(environment, "subject.content.environment.id")


def _last_segment(value: str, path: str) -> str:
    segment = value.strip().rsplit("/", 1)[-1].strip()
    if not segment:
        raise ValidationError(f"{path}: {value!r} names no service", field=path)
    return segment






def _time(parent: dict[str, Any], path: str) -> datetime:
    return parse_timestamp(parent.get(path.rsplit(".", 1)[-1]), field=path)
