"""CDEvents incident.detected / reported / resolved -> alerts (v0.5.1 conformance examples)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from steward.errors import ValidationError
from steward.ingest import cdevents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "cdevents"
JSON = {"Content-Type": "application/json"}
AT = datetime(2022, 11, 11, 13, 52, 20, 79000, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_detected() -> None:
    command = cdevents.incident_to_alert(JSON, load("v0.5.1-incident_detected.json"))
    assert command is not None
    assert command.dedup_key == "incident-123"
    assert command.status == "firing"
    assert command.service == "myApp"
    assert command.summary == "Response time above threshold of 100ms"
    assert command.occurred_at == AT
    assert command.ended_at is None
    assert command.url is None
    assert command.source == "cdevents"
    assert command.severity == "error"
    assert command.labels == {"environment": "prod1"}
    assert command.details["cdevent_type"] == "incident.detected"
    assert command.details["cdevent_id"] == "F4BD2B55-B6F6-4F44-AF72-BD2D0E7A8708"
    assert command.details["cdevent_source"] == "/monitoring/prod1"
    assert command.details["customData"] == {"metric": "responseTime", "threshold": "100ms",
                                             "value": "200ms"}


def test_reported_fires_with_its_ticket() -> None:
    command = cdevents.incident_to_alert(JSON, load("v0.5.1-incident_reported.json"))
    assert command is not None
    assert command.status == "firing"
    assert command.url == "https://my-issues.example/incidents/ticket-345"
    # customData.severity "medium" is read as a warning.
    assert command.severity == "warning"


def test_resolved_settles_the_detected_alert() -> None:
    detected = cdevents.incident_to_alert(JSON, load("v0.5.1-incident_detected.json"))
    resolved = cdevents.incident_to_alert(JSON, load("v0.5.1-incident_resolved.json"))
    assert detected is not None and resolved is not None
    assert resolved.dedup_key == detected.dedup_key
    assert resolved.status == "resolved"
    assert resolved.ended_at == resolved.occurred_at == AT
    assert resolved.summary == "Response time restored below 100ms"
    assert resolved.service == detected.service


def test_other_cdevents_are_not_alerts() -> None:
    assert cdevents.incident_to_alert(JSON, load("v0.5.1-service_deployed.json")) is None


def test_binary_mode_transport() -> None:
    event = load("v0.5.1-incident_detected.json")
    headers = {"Content-Type": "application/json", "ce-specversion": "1.0",
               "ce-type": event["context"]["type"], "ce-id": event["context"]["id"],
               "ce-source": event["context"]["source"]}
    assert cdevents.incident_to_alert(headers, event) == \
        cdevents.incident_to_alert(JSON, event)


def test_an_incident_without_a_service_leaves_it_to_the_key() -> None:
    event = copy.deepcopy(load("v0.5.1-incident_detected.json"))
    del event["subject"]["content"]["service"]
    command = cdevents.incident_to_alert(JSON, event)
    assert command is not None and command.service is None


@pytest.mark.parametrize(("path", "value", "field"), [
    (("context", "timestamp"), "last tuesday", "context.timestamp"),
    (("context", "timestamp"), "0001-01-01T00:00:00+01:00", "context.timestamp"),
    (("subject", "id"), "", "subject.id"),
    (("subject", "id"), "i" * 256, "subject.id"),
])
def test_errors_name_the_field(path: tuple[str, str], value: Any, field: str) -> None:
    event = copy.deepcopy(load("v0.5.1-incident_detected.json"))
    event[path[0]][path[1]] = value
    with pytest.raises(ValidationError) as caught:
        cdevents.incident_to_alert(JSON, event)
    assert caught.value.field == field


def test_an_unknown_custom_severity_is_recorded_as_error_with_the_word() -> None:
    event = copy.deepcopy(load("v0.5.1-incident_reported.json"))
    event["customData"] = {**(event.get("customData") or {}), "severity": "sev-zero"}
    command = cdevents.incident_to_alert(JSON, event)
    assert command is not None and command.severity == "error"
    assert command.details["severity_reported"] == "sev-zero"


def test_a_timestamp_that_does_not_parse_is_that_events_400() -> None:
    event = copy.deepcopy(load("v0.5.1-incident_detected.json"))
    event["context"]["timestamp"] = "last tuesday"
    with pytest.raises(ValidationError) as caught:
        cdevents.incident_to_alert(JSON, event)
    assert (caught.value.status_code, caught.value.field) == (400, "context.timestamp")
