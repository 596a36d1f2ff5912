"""PagerDuty Events API v2 alert events (``POST /v2/enqueue``) -> ``RecordAlert``.

Request (PagerDuty developer docs, "Send an Alert Event", and the Events API v2
OpenAPI description): ``routing_key`` (the 32-character integration key) and
``event_action`` (``trigger``, ``acknowledge`` or ``resolve``) are required;
``dedup_key`` (at most 255 characters) is required to acknowledge or resolve;
a trigger needs ``payload`` with ``summary`` (at most 1024 characters),
``source`` and ``severity`` (``critical``, ``error``, ``warning``, ``info``),
and may carry ``payload.timestamp`` (ISO-8601), ``component``, ``group``,
``class`` and ``custom_details``, plus ``images`` ``[{src, href, alt}]``,
``links`` ``[{href, text}]``, ``client`` and ``client_url``. Unknown fields
are ignored, as PagerDuty does.

Answers: ``202 {"status": "success", "message": "Event processed",
"dedup_key": ...}`` and ``400 {"status": "invalid event", "message": "Event
object is invalid", "errors": [...]}``. The wording of the errors is
PagerDuty's where it is known from real responses ("Length of 'routing_key' is
incorrect (should be 32 characters)", "'payload.source' is missing or blank",
"'payload.severity' is missing or blank"); the rest follows the same pattern. A
severity PagerDuty does not know is not refused: it is recorded as ``error``
and the alert keeps the word (``incidents.severity``).

The service an event names is ``payload.custom_details.service``. Alertmanager's
``pagerduty_configs`` receiver sends none with its default ``details``: it
sends its alerts as text in ``custom_details.firing`` and ``resolved``
(:mod:`steward.ingest.alertmanager_text`), so the ``service`` label of the
firing alerts (else the resolved ones) names it. Alerts of one notification
naming different services are refused (group them by ``service`` in
Alertmanager). Alertmanager sends ``payload.severity: error`` unless told
otherwise, so the alerts' own ``severity`` labels set the severity when they
have one (the most severe), and the labels all of them share are kept.

A trigger without ``dedup_key`` gets a new random key (PagerDuty uses a UUID),
returned in ``RecordAlert.dedup_key`` for the answer. ``group_key`` is the
``dedup_key``: for Alertmanager's and Grafana's PagerDuty receivers that is the
SHA-256 of the group key, the same value their webhook alerts carry.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from steward.errors import ValidationError
from steward.incidents import severity as severities
from steward.incidents.commands import RecordAlert
from steward.ingest import alertmanager_text
from steward.ingest.wire import list_problems
from steward.timeutil import parse_timestamp

ROUTING_KEY_LENGTH = 32
DEDUP_KEY_MAX = 255
SUMMARY_MAX = 1024
EVENT_ACTIONS = {"trigger": "firing", "acknowledge": "acknowledged", "resolve": "resolved"}
MOST_SEVERE_FIRST = severities.SEVERITIES
SUCCESS_MESSAGE = "Event processed"
INVALID_RESPONSE = {"status": "invalid event", "message": "Event object is invalid"}
PAYLOAD_STRINGS = ("component", "group", "class")


def validate(body: Any) -> list[str]:
    """PagerDuty-style error messages for ``body``; empty when the event is valid."""
    return [message for _, message in _problems(body)]


def success_response(dedup_key: str) -> dict[str, Any]:
    """The 202 body PagerDuty answers an accepted event with."""
    return {"status": "success", "message": SUCCESS_MESSAGE, "dedup_key": dedup_key}


def invalid_response(errors: list[str]) -> dict[str, Any]:
    """The 400 body PagerDuty answers an invalid event with."""
    return {**INVALID_RESPONSE, "errors": list(errors)}


def throttled_response(retry_after: int) -> dict[str, Any]:
    """The 429 body of an event sent faster than its routing key may send: PagerDuty's
    status text, which its clients recognise, and when to retry."""
    return {"status": "throttle exceeded",
            "message": f"Events for this routing key are arriving too quickly; retry in "
                       f"{retry_after} s."}


def translate(body: Any) -> RecordAlert:
    """A valid event as a command; raises ``ValidationError`` (all errors in ``details``)."""
    problems = _problems(body)
    if problems:
        field, message = problems[0]
        raise ValidationError(message, field=field, details=[m for _, m in problems])
    action = body["event_action"]
    # Kept as sent (PagerDuty answers with the key it was given).
    dedup_key = body["dedup_key"] if _text(body.get("dedup_key")) else uuid.uuid4().hex
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    custom = payload.get("custom_details")
    timestamp = payload.get("timestamp")
    occurred_at = _time(timestamp) if _present(timestamp) else None
    severity: Any = payload.get("severity")
    labels = {key: payload[key].strip() for key in ("source", *PAYLOAD_STRINGS)
              if _text(payload.get(key))}
    service, service_field = named_service(custom)
    listed = alertmanager_text.listed_alerts(custom)
    if listed is not None:
        alerts = listed[1]
        named = [severities.normalise(a.labels["severity"])[0] for a in alerts
                 if "severity" in a.labels]
        if named:
            severity = min(named, key=MOST_SEVERE_FIRST.index)
        labels = {**alertmanager_text.common_labels(alerts), **labels}
    details: dict[str, Any] = {"event_action": action}
    if custom is not None:
        details["custom_details"] = custom
    for key in ("client", "client_url", "links", "images"):
        if body.get(key) not in (None, "", []):
            details[key] = body[key]
    return RecordAlert(
        dedup_key=dedup_key,
        status=EVENT_ACTIONS[action],
        summary=_text(payload.get("summary")) or "",
        severity=severity,  # read by the command: an unknown word is "error", said so
        service=service,
        service_field=service_field,
        occurred_at=occurred_at,
        ended_at=occurred_at if action == "resolve" else None,
        source="pagerduty",
        labels=labels,
        details=details,
        url=_text(body.get("client_url")),
        group_key=dedup_key,
    )


def named_service(custom_details: Any) -> tuple[str | None, str]:
    """The service an event names and the field naming it: ``custom_details.service``,
    else the ``service`` label of the alerts Alertmanager lists (see :func:`_problems`
    for alerts naming several)."""
    field = "payload.custom_details.service"
    if not isinstance(custom_details, dict):
        return None, field
    given = _text(custom_details.get("service"))
    if given:
        return given, field
    listed = alertmanager_text.listed_alerts(custom_details)
    if listed is None:
        return None, field
    key, alerts = listed
    names = _listed_services(alerts)
    return (names[0] if len(names) == 1 else None), f"payload.custom_details.{key}"


def _listed_services(alerts: list[alertmanager_text.ListedAlert]) -> list[str]:
    return sorted({a.labels["service"].strip() for a in alerts
                   if a.labels.get("service", "").strip()})


def _problems(body: Any) -> list[tuple[str, str]]:
    if not isinstance(body, dict):
        return [("body", "Event object must be a JSON object")]
    problems = _routing_key_problems(body.get("routing_key"))
    action = body.get("event_action")
    if not _present(action):
        problems.append(("event_action", "'event_action' is missing or blank"))
    elif not isinstance(action, str) or action not in EVENT_ACTIONS:
        problems.append(("event_action", "'event_action' is invalid (must be one of the "
                                         "following: 'trigger', 'acknowledge' or 'resolve')"))
    dedup_key = body.get("dedup_key")
    if _present(dedup_key):
        if not isinstance(dedup_key, str):
            problems.append(("dedup_key", "'dedup_key' must be a string"))
        elif len(dedup_key) > DEDUP_KEY_MAX:
            problems.append(("dedup_key", "'dedup_key' is too long "
                                          f"(maximum is {DEDUP_KEY_MAX} characters)"))
    if action in ("acknowledge", "resolve") and not _text(dedup_key):
        problems.append(("dedup_key", "'dedup_key' is missing or blank"))
    payload = body.get("payload")
    if action == "trigger":
        if not isinstance(payload, dict) or not payload:
            problems.append(("payload", "'payload' is missing or blank"))
        else:
            problems += _payload_problems(payload)
    elif payload is not None and not isinstance(payload, dict):
        problems.append(("payload", "'payload' must be an object"))
    for key in ("client", "client_url"):
        if body.get(key) is not None and not isinstance(body[key], str):
            problems.append((key, f"'{key}' must be a string"))
    problems += list_problems(body.get("links"), "links", "href", ("text",))
    problems += list_problems(body.get("images"), "images", "src", ("href", "alt"))
    return problems


def _routing_key_problems(key: Any) -> list[tuple[str, str]]:
    if not isinstance(key, str) or not key.strip():
        return [("routing_key", "'routing_key' is missing or blank")]
    problems = []
    if len(key) != ROUTING_KEY_LENGTH:
        problems.append(("routing_key", "Length of 'routing_key' is incorrect "
                                        f"(should be {ROUTING_KEY_LENGTH} characters)"))
    if not (key.isascii() and key.isalnum()):
        problems.append(("routing_key",
                         "'routing_key' cannot contain non-alphanumeric characters."))
    return problems


def _payload_problems(payload: dict[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems.append(("payload.summary", "'payload.summary' is missing or blank"))
    elif len(summary) > SUMMARY_MAX:
        problems.append(("payload.summary", "'payload.summary' is too long "
                                            f"(maximum is {SUMMARY_MAX} characters)"))
    source = payload.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append(("payload.source", "'payload.source' is missing or blank"))
    # A severity PagerDuty would refuse is recorded as "error", and the alert says so.
    if not _present(payload.get("severity")):
        problems.append(("payload.severity", "'payload.severity' is missing or blank"))
    timestamp = payload.get("timestamp")
    if _present(timestamp):
        try:
            _time(timestamp)
        except ValidationError:
            problems.append(("payload.timestamp",
                             "'payload.timestamp' is not a valid ISO 8601 timestamp"))
    for key in PAYLOAD_STRINGS:
        if payload.get(key) is not None and not isinstance(payload[key], str):
            problems.append((f"payload.{key}", f"'payload.{key}' must be a string"))
    return problems + _service_problems(payload.get("custom_details"))


def _service_problems(custom: Any) -> list[tuple[str, str]]:
    """Alertmanager alerts of one notification naming different services: which one the
    event is about cannot be told, so it is refused rather than put on either."""
    if not isinstance(custom, dict) or _text(custom.get("service")):
        return []
    listed = alertmanager_text.listed_alerts(custom)
    if listed is None:
        return []
    key, alerts = listed
    names = _listed_services(alerts)
    if len(names) < 2:
        return []
    where = f"payload.custom_details.{key}"
    return [(where, f"'{where}' lists alerts of different services ({', '.join(names)}); "
                    "group the alerts by service in Alertmanager (add service to the "
                    "route's group_by) so that each notification is about one service")]




def _time(value: Any) -> datetime:
    return parse_timestamp(value, field="payload.timestamp")


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
