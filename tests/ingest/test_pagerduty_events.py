"""PagerDuty Events API v2 alert events: Alertmanager's PagerDuty receiver and the docs."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from steward.errors import ValidationError
from steward.ingest import alertmanager
from steward.ingest import pagerduty_events as pd

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
KEY = "R0123456789abcdef0123456789abcdE"  # 32 characters
PD_DEDUP_KEY = "95c86ac8f42bf23e4f8269820a74733b18c5d5ce4d933ac2fc78ec0b9b250250"
LENGTH_ERROR = "Length of 'routing_key' is incorrect (should be 32 characters)"
CAPTURES = ["am-pagerduty-v2-trigger.json", "am-pagerduty-v2-trigger-update.json",
            "am-pagerduty-v2-trigger-partial-resolved.json", "am-pagerduty-v2-resolve.json"]


def capture(name: str) -> dict[str, Any]:
    """An Alertmanager PagerDuty request body, with a routing key of the right length."""
    path = PAYLOADS / "alertmanager" / name
    body = json.loads(path.read_text(encoding="utf-8"))["body"]
    body["routing_key"] = KEY
    return body


def docs(name: str, **changes: Any) -> dict[str, Any]:
    body = json.loads((PAYLOADS / "pagerduty" / name).read_text(encoding="utf-8"))
    body["routing_key"] = KEY
    body.update(changes)
    return body


def trigger(**payload_changes: Any) -> dict[str, Any]:
    body = docs("alert-event-docs-trigger.json")
    for key, value in payload_changes.items():
        if value is KeyError:
            body["payload"].pop(key, None)
        else:
            body["payload"][key] = value
    return body


def test_the_captured_31_character_key_is_refused_like_pagerduty_does() -> None:
    # The capture's Alertmanager config used "R0123456789abcdef0123456789abcd" (31).
    raw = json.loads((PAYLOADS / "alertmanager" / CAPTURES[0]).read_text())["body"]
    assert len(raw["routing_key"]) == 31
    assert pd.validate(raw) == [LENGTH_ERROR]
    assert pd.invalid_response(pd.validate(raw)) == {
        "status": "invalid event", "message": "Event object is invalid",
        "errors": [LENGTH_ERROR]}
    with pytest.raises(ValidationError) as caught:
        pd.translate(raw)
    assert caught.value.field == "routing_key"
    assert caught.value.details == [LENGTH_ERROR]


@pytest.mark.parametrize("name", CAPTURES)
def test_alertmanager_pagerduty_receiver_events(name: str) -> None:
    body = capture(name)
    assert pd.validate(body) == []
    command = pd.translate(body)
    assert command.dedup_key == PD_DEDUP_KEY
    assert command.group_key == PD_DEDUP_KEY
    assert command.status == ("resolved" if name.endswith("resolve.json") else "firing")
    assert command.severity == "critical"
    assert command.source == "pagerduty"
    # The service label of the alerts Alertmanager lists (firing, else resolved).
    assert command.service == "checkout"
    listed = "resolved" if name.endswith("resolve.json") else "firing"
    assert command.service_field == f"payload.custom_details.{listed}"
    assert command.occurred_at is None  # Alertmanager sends no payload.timestamp
    assert command.url == "http://127.0.0.1:9093/#/alerts?receiver=itsm-pagerduty"
    # The payload's fields, and the labels the listed alerts share.
    assert {k: command.labels[k] for k in ("source", "component", "group", "class")} == {
        "source": "alertmanager-test", "component": "checkout", "group": "payments",
        "class": "HighErrorRate"}
    assert {k: command.labels[k] for k in ("alertname", "service", "team")} == {
        "alertname": "HighErrorRate", "service": "checkout", "team": "payments"}
    assert command.details["custom_details"] == body["payload"]["custom_details"]
    assert command.details["client"] == "Alertmanager"
    assert command.details["links"] == [{"href": "http://127.0.0.1:9999/runbook",
                                         "text": "Runbook"}]
    assert command.details["images"][0]["src"] == "http://127.0.0.1:9999/graph.png"
    assert pd.success_response(command.dedup_key) == {
        "status": "success", "message": "Event processed", "dedup_key": PD_DEDUP_KEY}


def test_summaries_follow_the_group() -> None:
    summaries = [pd.translate(capture(name)).summary for name in CAPTURES]
    assert summaries[0] == "[FIRING:1] HighErrorRate checkout (10.0.0.1:8080 critical payments)"
    assert summaries[1].startswith("[FIRING:2] HighErrorRate checkout")
    assert summaries[2].startswith("[FIRING:1] HighErrorRate checkout")
    assert summaries[3].startswith("[RESOLVED] HighErrorRate checkout")


def test_pagerduty_event_joins_the_webhook_alerts_of_its_group() -> None:
    webhook = json.loads((PAYLOADS / "alertmanager" / "am-webhook-v4-firing.json").read_text())
    [alert] = alertmanager.translate(webhook["body"])
    assert pd.translate(capture(CAPTURES[0])).group_key == alert.group_key


def test_documented_trigger_example() -> None:
    body = docs("alert-event-docs-trigger.json")
    assert pd.validate(body) == []
    command = pd.translate(body)
    assert command.dedup_key == "samplekeyhere"
    assert command.status == "firing"
    assert command.severity == "info"
    assert command.summary == "Example alert on host1.example.com"
    assert command.occurred_at == datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert command.ended_at is None
    assert command.details["custom_details"] == {"ping time": "1500ms", "load avg": 0.75}
    assert command.url == "https://monitoring.example.com"
    assert command.labels["component"] == "postgres"


def test_openapi_example_is_valid_as_it_stands() -> None:
    body = json.loads((PAYLOADS / "pagerduty" / "alert-event-openapi-example.json").read_text())
    assert pd.validate(body) == []
    command = pd.translate(body)
    assert (command.dedup_key, command.severity, command.status) == \
        ("srv01/mysql", "critical", "firing")


@pytest.mark.parametrize(("name", "status"), [
    ("alert-event-docs-acknowledge.json", "acknowledged"),
    ("alert-event-docs-resolve.json", "resolved"),
])
def test_documented_acknowledge_and_resolve(name: str, status: str) -> None:
    raw = json.loads((PAYLOADS / "pagerduty" / name).read_text())
    assert pd.validate(raw) == [LENGTH_ERROR]  # "routingkeyhere" is a placeholder
    command = pd.translate(docs(name))
    assert (command.dedup_key, command.status, command.summary) == ("dedupkeyhere", status, "")
    assert command.severity == "error"
    assert command.details == {"event_action": name.split("-")[-1].removesuffix(".json")}


def test_trigger_without_dedup_key_gets_a_new_one_each_time() -> None:
    body = docs("alert-event-docs-trigger.json")
    del body["dedup_key"]
    first, second = pd.translate(body), pd.translate(copy.deepcopy(body))
    assert len(first.dedup_key) == 32 and int(first.dedup_key, 16) >= 0
    assert first.dedup_key != second.dedup_key
    assert first.group_key == first.dedup_key


def test_service_from_custom_details() -> None:
    command = pd.translate(trigger(custom_details={"service": " payments-api "}))
    assert command.service == "payments-api"
    assert pd.translate(trigger(custom_details="free text")).service is None


def test_resolve_timestamp_is_the_end() -> None:
    body = docs("alert-event-docs-resolve.json",
                payload={"timestamp": "2021-04-28 21:50:00 +0200"})
    command = pd.translate(body)
    assert command.ended_at == datetime(2021, 4, 28, 19, 50, tzinfo=UTC)


@pytest.mark.parametrize(("body", "errors"), [
    ({"event_action": "trigger"}, ["'routing_key' is missing or blank",
                                   "'payload' is missing or blank"]),
    ({"routing_key": KEY, "event_action": "page", "dedup_key": "x"},
     ["'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' "
      "or 'resolve')"]),
    ({"routing_key": KEY}, ["'event_action' is missing or blank"]),
    ({"routing_key": KEY, "event_action": ["trigger"]},
     ["'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' "
      "or 'resolve')"]),
    ({"routing_key": KEY, "event_action": "resolve"}, ["'dedup_key' is missing or blank"]),
    ({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "  "},
     ["'dedup_key' is missing or blank"]),
    ({"routing_key": KEY, "event_action": "resolve", "dedup_key": "k" * 256},
     ["'dedup_key' is too long (maximum is 255 characters)"]),
    ({"routing_key": "a-b_c" + "x" * 27, "event_action": "resolve", "dedup_key": "k"},
     ["'routing_key' cannot contain non-alphanumeric characters."]),
    ([], ["Event object must be a JSON object"]),
])
def test_event_errors(body: Any, errors: list[str]) -> None:
    assert pd.validate(body) == errors


@pytest.mark.parametrize(("changes", "error"), [
    ({"summary": KeyError}, "'payload.summary' is missing or blank"),
    ({"summary": "x" * 1025}, "'payload.summary' is too long (maximum is 1024 characters)"),
    ({"source": " "}, "'payload.source' is missing or blank"),
    ({"severity": KeyError}, "'payload.severity' is missing or blank"),
    ({"timestamp": "17/07/2015"}, "'payload.timestamp' is not a valid ISO 8601 timestamp"),
    ({"timestamp": "9999-12-31T23:59:59-05:00"},
     "'payload.timestamp' is not a valid ISO 8601 timestamp"),
    ({"component": 5}, "'payload.component' must be a string"),
])
def test_trigger_payload_errors(changes: dict[str, Any], error: str) -> None:
    body = trigger(**changes)
    assert pd.validate(body) == [error]
    with pytest.raises(ValidationError) as caught:
        pd.translate(body)
    assert caught.value.field == error.split("'")[1]


def test_links_and_images_errors() -> None:
    body = docs("alert-event-docs-trigger.json", links=[{"text": "no href"}],
                images=["x"], client_url=3)
    assert pd.validate(body) == ["'client_url' must be a string",
                                 "'links[0].href' is missing or blank",
                                 "'images[0]' must be an object"]


def test_payload_is_not_required_to_resolve() -> None:
    body = capture("am-pagerduty-v2-resolve.json")
    del body["payload"]
    assert pd.validate(body) == []
    assert pd.translate(body).summary == ""


@pytest.mark.parametrize(("text", "expected"), [
    ("2015-07-17T08:42:58.315+0000", datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)),
    ("2026-11-26T04:57:41.599111416Z", datetime(2026, 11, 26, 4, 57, 41, 599111, tzinfo=UTC)),
    ("2021-10-12T09:51:03.157076+02:00", datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)),
    ("2021-04-28 21:50:00 +0200", datetime(2021, 4, 28, 19, 50, tzinfo=UTC)),
])
def test_timestamps(text: str, expected: datetime) -> None:
    assert pd.translate(trigger(timestamp=text)).occurred_at == expected


@pytest.mark.parametrize(("word", "level", "noted"), [
    ("Critical", "critical", False), ("high", "error", False), ("Sev-9", "error", True)])
def test_a_severity_pagerduty_does_not_know_is_read_not_refused(word: str, level: str,
                                                                noted: bool) -> None:
    body = trigger(severity=word)
    assert pd.validate(body) == []
    command = pd.translate(body)
    assert command.severity == level
    assert command.details.get("severity_reported") == (word if noted else None)


def test_a_timestamp_from_2015_is_kept_as_reported() -> None:
    command = pd.translate(trigger(timestamp="2015-03-01T00:00:00Z"))
    assert command.occurred_at == datetime(2015, 3, 1, tzinfo=UTC)
