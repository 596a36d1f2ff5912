"""CDEvents over CloudEvents: the spec's conformance examples and real HTTP captures."""

from __future__ import annotations

import base64
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
DIGEST = "sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"
EVENT_ID = "271069a8-fc18-44f1-b38f-9d70a1695819"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def capture(name: str) -> tuple[dict[str, str], dict[str, Any]]:
    record = load(name)
    return record["headers"], record["body"]


def test_binary_structured_and_bare_modes_give_the_same_command() -> None:
    binary = cdevents.translate(*capture("cloudevents-binary-mode-request.json"))
    structured = cdevents.translate(*capture("cloudevents-structured-mode-request.json"))
    bare = cdevents.translate(JSON, load("v0.5.1-service_deployed.json"))
    assert binary == structured == bare
    assert binary is not None
    assert binary.status == "succeeded"
    assert binary.environment == "test123"
    assert binary.service == "mySubject123"
    assert binary.repository is None
    assert binary.version == DIGEST
    assert binary.finished_at == datetime(2023, 3, 20, 14, 27, 5, 315384, tzinfo=UTC)
    assert binary.started_at is None
    assert binary.external_id == f"/event/source/123#{EVENT_ID}"
    assert binary.source == "cdevents"
    assert "pkg:oci/myapp@" in binary.description


def test_header_names_are_case_insensitive() -> None:
    headers, body = capture("cloudevents-binary-mode-request.json")
    lowered = {k.lower(): v for k, v in headers.items()}
    assert cdevents.translate(lowered, body) == cdevents.translate(headers, body)


@pytest.mark.parametrize(("name", "rollback"), [
    ("draft-0.5.0-service_upgraded.json", False),
    ("draft-0.5.0-service_rolledback.json", True),
])
def test_v04_style_context_upgraded_and_rolledback(name: str, rollback: bool) -> None:
    """A rollback is a successful deployment of the older version that rolls back the last."""
    command = cdevents.translate(JSON, load(name))
    assert command is not None
    assert command.status == "succeeded"
    assert command.is_rollback is rollback
    assert command.service == "mySubject123"
    assert command.environment == "test123"
    assert command.version == DIGEST


def test_service_removed_is_acknowledged_only() -> None:
    assert cdevents.translate(JSON, load("draft-0.5.0-service_removed.json")) is None


def test_service_name_is_the_last_segment_of_the_subject_id() -> None:
    event = load("v0.5.1-service_deployed.json")
    event["subject"]["id"] = "service/payments-api"
    command = cdevents.translate(JSON, event)
    assert command is not None and command.service == "payments-api"


def test_structured_data_as_a_json_string_or_base64() -> None:
    headers, envelope = capture("cloudevents-structured-mode-request.json")
    expected = cdevents.translate(headers, envelope)
    as_text = dict(envelope, data=json.dumps(envelope["data"]))
    as_base64 = {k: v for k, v in envelope.items() if k != "data"}
    as_base64["data_base64"] = base64.b64encode(json.dumps(envelope["data"]).encode()).decode()
    assert cdevents.translate(headers, as_text) == expected
    assert cdevents.translate(headers, as_base64) == expected
    # An envelope is recognised even when sent as plain application/json.
    assert cdevents.translate(JSON, envelope) == expected


def test_other_cdevents_are_not_deployments() -> None:
    assert cdevents.translate(JSON, load("v0.5.1-incident_detected.json")) is None
    kind, _ = cdevents.read_event(JSON, load("v0.5.1-incident_detected.json"))
    assert kind == "incident.detected"


@pytest.mark.parametrize(("purl", "version"), [
    ("pkg:oci/myapp@sha256%3A0b31", "sha256:0b31"),
    ("pkg:oci/myapp@sha256%3A0b31?repository_url=ghcr.io/acme&tag=1.4.2", "1.4.2"),
    ("pkg:npm/%40angular/animation@12.3.1", "12.3.1"),
    ("pkg:golang/github.com/acme/api@v1.2.0#cmd/api", "v1.2.0"),
    ("pkg:oci/myapp", None),
    ("myapp:1.2", None),
])
def test_purl_version(purl: str, version: str | None) -> None:
    assert cdevents.purl_version(purl) == version


# -- incidents -----------------------------------------------------------------

@pytest.mark.parametrize(("name", "kind", "description"), [
    ("v0.5.1-incident_detected.json", "detected", "Response time above threshold of 100ms"),
    ("v0.5.1-incident_reported.json", "detected", "Response time above threshold of 100ms"),
    ("v0.5.1-incident_resolved.json", "resolved", "Response time restored below 100ms"),
])
def test_incident_events(name: str, kind: str, description: str) -> None:
    facts = cdevents.incident_event(JSON, load(name))
    assert facts is not None
    assert facts["kind"] == kind
    assert facts["id"] == "incident-123"
    assert facts["service"] == "myApp"
    assert facts["environment"] == "prod1"
    assert facts["description"] == description
    assert facts["timestamp"] == datetime(2022, 11, 11, 13, 52, 20, 79000, tzinfo=UTC)
    assert facts["event_id"] == "F4BD2B55-B6F6-4F44-AF72-BD2D0E7A8708"
    assert facts["source"] == "/monitoring/prod1"


def test_reported_incident_carries_its_ticket_and_custom_data() -> None:
    facts = cdevents.incident_event(JSON, load("v0.5.1-incident_reported.json"))
    assert facts is not None
    assert facts["url"] == "https://my-issues.example/incidents/ticket-345"
    assert facts["custom_data"]["priority"] == "critical"


def test_incident_event_ignores_deployments() -> None:
    assert cdevents.incident_event(*capture("cloudevents-binary-mode-request.json")) is None


# -- bad input -----------------------------------------------------------------

def test_binary_mode_requires_its_headers() -> None:
    headers, body = capture("cloudevents-binary-mode-request.json")
    del headers["Ce-Id"]
    with pytest.raises(ValidationError) as caught:
        cdevents.translate(headers, body)
    assert caught.value.field == "ce-id"


def test_binary_type_must_match_the_cdevent() -> None:
    headers, body = capture("cloudevents-binary-mode-request.json")
    headers["Ce-Type"] = "dev.cdevents.service.rolledback.0.3.0"
    with pytest.raises(ValidationError) as caught:
        cdevents.translate(headers, body)
    assert caught.value.field == "ce-type"


def test_structured_mode_requires_data() -> None:
    headers, envelope = capture("cloudevents-structured-mode-request.json")
    del envelope["data"]
    with pytest.raises(ValidationError) as caught:
        cdevents.translate(headers, envelope)
    assert caught.value.field == "data"
    envelope["data"] = "{not json"
    with pytest.raises(ValidationError) as caught:
        cdevents.translate(headers, envelope)
    assert caught.value.field == "data"


def test_batch_mode_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        cdevents.translate({"content-type": "application/cloudevents-batch+json"}, {})
    assert caught.value.field == "Content-Type"


def _deployed(path: str, value: Any) -> dict[str, Any]:
    event = copy.deepcopy(load("v0.5.1-service_deployed.json"))
    *parents, leaf = path.split(".")
    target = event
    for part in parents:
        target = target[part]
    if value is KeyError:
        del target[leaf]
    else:
        target[leaf] = value
    return event


@pytest.mark.parametrize(("path", "value", "field"), [
    ("context.type", "com.example.deployed", "context.type"),
    ("context.type", KeyError, "context.type"),
    ("context", KeyError, "body"),
    ("context.id", "", "context.id"),
    ("context.timestamp", "2023-03-20", "context.timestamp"),
    ("context.timestamp", KeyError, "context.timestamp"),
    ("subject", KeyError, "subject"),
    ("subject.id", KeyError, "subject.id"),
    ("subject.id", "service/", "subject.id"),
    ("subject.content.environment", KeyError, "subject.content.environment"),
    ("subject.content.environment.id", "", "subject.content.environment.id"),
    ("subject.content.artifactId", KeyError, "subject.content.artifactId"),
])
def test_bad_or_missing_fields_are_named(path: str, value: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        cdevents.translate(JSON, _deployed(path, value))
    assert caught.value.field == field


def test_unknown_fields_are_ignored() -> None:
    event = _deployed("subject.content.brandNew", {"x": 1})
    event["customData"] = {"anything": True}
    command = cdevents.translate(JSON, event)
    assert command is not None and command.environment == "test123"
