"""Alertmanager webhook v4: real Alertmanager 0.25 / Prometheus 2.42 captures."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from steward.errors import ValidationError
from steward.ingest import alertmanager

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "alertmanager"
WEBHOOKS = sorted(p.name for p in FIXTURES.glob("*am-webhook-v4-*.json"))
GROUP_KEY = '{}/{}:{alertname="HighErrorRate", service="checkout"}'
PD_DEDUP_KEY = "95c86ac8f42bf23e4f8269820a74733b18c5d5ce4d933ac2fc78ec0b9b250250"


def record(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def body(name: str) -> dict[str, Any]:
    return copy.deepcopy(record(name)["body"])


def go_wire_bytes(name: str) -> bytes:
    """The request body as Go's json.Encoder wrote it (the fixtures README explains)."""
    captured = record(name)
    text = json.dumps(captured["body"], separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    raw = (text + "\n").encode("utf-8")
    assert len(raw) == int(captured["headers"]["Content-Length"])
    return raw


def one_alert(**changes: Any) -> dict[str, Any]:
    payload = body("am-webhook-v4-firing.json")
    alert = payload["alerts"][0]
    for key, value in changes.items():
        if value is KeyError:
            alert.pop(key, None)
        else:
            alert[key] = value
    return payload


def error_of(payload: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        alertmanager.translate(payload)
    return caught.value


def test_every_capture_is_covered() -> None:
    assert len(WEBHOOKS) == 7


@pytest.mark.parametrize("name", WEBHOOKS)
def test_go_encoded_wire_bytes_give_the_same_commands(name: str) -> None:
    raw = go_wire_bytes(name)
    assert b"\\u003e" in raw or b"\\u0026" in raw or name.endswith("bearer-auth.json")
    assert alertmanager.translate(orjson.loads(raw)) == alertmanager.translate(body(name))


@pytest.mark.parametrize("name", WEBHOOKS)
def test_every_alert_of_every_capture(name: str) -> None:
    payload = body(name)
    commands = alertmanager.translate(payload)
    assert len(commands) == len(payload["alerts"])
    for alert, command in zip(payload["alerts"], commands, strict=True):
        assert command.dedup_key == alert["fingerprint"]
        assert command.dedup_key == alertmanager.fingerprint(alert["labels"])
        assert command.status == alert["status"]
        assert command.source == "alertmanager"
        assert command.service == alert["labels"]["service"]
        assert command.labels == alert["labels"]
        assert command.group_key == hashlib.sha256(payload["groupKey"].encode()).hexdigest()
        assert command.details["groupKey"] == payload["groupKey"]
        assert command.details["receiver"] == "itsm-webhook"
        assert command.details["externalURL"] == "http://127.0.0.1:9093"
        assert command.summary == alert["annotations"]["summary"]
        assert command.occurred_at is not None and command.occurred_at.tzinfo is not None
        if alert["status"] == "firing":
            assert alert["endsAt"] == "0001-01-01T00:00:00Z"
            assert command.ended_at is None
        else:
            assert command.ended_at is not None and command.ended_at > command.occurred_at


def test_first_firing_alert() -> None:
    [command] = alertmanager.translate(body("am-webhook-v4-firing.json"))
    assert command.dedup_key == "212e759d9d3fd71e"
    assert command.status == "firing"
    assert command.severity == "critical"
    assert command.summary == "Checkout 5xx > 5%"
    assert command.occurred_at == datetime(2026, 11, 26, 4, 57, 30, tzinfo=UTC)
    assert command.url == "http://127.0.0.1:9090/graph?g0.expr=rate%28http_5xx%5B5m%5D%29"
    assert command.details["runbook_url"] == "http://127.0.0.1:9999/runbooks/high-error-rate"
    assert command.details["description"] == "error ratio 7.2% over 5m"


def test_group_key_is_the_pagerduty_receivers_dedup_key() -> None:
    assert alertmanager.group_key_hash(GROUP_KEY) == PD_DEDUP_KEY
    pd = record("am-pagerduty-v2-trigger.json")["body"]
    [command] = alertmanager.translate(body("am-webhook-v4-firing.json"))
    assert command.group_key == pd["dedup_key"] == PD_DEDUP_KEY


def test_partial_resolve_reads_each_alerts_own_status() -> None:
    payload = body("am-webhook-v4-partial-resolved.json")
    assert payload["status"] == "firing"
    resolved, firing = alertmanager.translate(payload)
    assert (resolved.dedup_key, resolved.status) == ("212e759d9d3fd71e", "resolved")
    assert resolved.ended_at == datetime(2026, 11, 26, 4, 57, 48, tzinfo=UTC)
    assert (firing.dedup_key, firing.status, firing.ended_at) == \
        ("72c0d4c9c60d0e39", "firing", None)
    # amtool's start time has nanoseconds: kept to the microsecond.
    assert firing.occurred_at == datetime(2026, 11, 26, 4, 57, 41, 599111, tzinfo=UTC)


def test_prometheus_alert_resolved_by_ends_at_expiry() -> None:
    [command] = alertmanager.translate(
        body("prometheus-to-am-webhook-v4-resolved-by-endsAt-expiry.json"))
    assert command.status == "resolved"
    assert command.severity == "warning"
    assert command.service == "synthetic"
    assert command.occurred_at == datetime(2026, 11, 26, 4, 59, 37, 20000, tzinfo=UTC)
    assert command.ended_at == datetime(2026, 11, 26, 5, 4, 38, 20000, tzinfo=UTC)
    assert command.url == "http://127.0.0.1:9090/graph?g0.expr=vector%281%29+%3E+0&g0.tab=1"


def test_empty_generator_url_is_no_url() -> None:
    [command] = alertmanager.translate(body("am-webhook-v4-with-bearer-auth.json"))
    assert command.url is None
    assert command.service == "auth"
    assert command.severity == "warning"


def test_missing_fingerprint_is_computed_like_alertmanager() -> None:
    [with_it] = alertmanager.translate(body("am-webhook-v4-firing.json"))
    [without] = alertmanager.translate(one_alert(fingerprint=KeyError))
    [empty] = alertmanager.translate(one_alert(fingerprint=""))
    assert without.dedup_key == empty.dedup_key == with_it.dedup_key == "212e759d9d3fd71e"


@pytest.mark.parametrize(("label", "expected"), [
    ("critical", "critical"), ("CRITICAL", "critical"),
    ("error", "error"), ("high", "error"), ("major", "error"),
    ("warning", "warning"), ("warn", "warning"), ("minor", "warning"),
    ("info", "info"), ("none", "info"), ("low", "info"),
    ("page", "critical"), ("P3", "warning"), ("", "error"), (None, "error"),
])
def test_severity_label_mapping(label: str | None, expected: str) -> None:
    labels = {"alertname": "X", "service": "checkout"}
    if label is not None:
        labels["severity"] = label
    [command] = alertmanager.translate(one_alert(labels=labels))
    assert command.severity == expected


def test_summary_falls_back_to_description_then_alertname() -> None:
    [described] = alertmanager.translate(one_alert(annotations={"description": "d"}))
    [named] = alertmanager.translate(one_alert(annotations=KeyError))
    assert described.summary == "d"
    assert named.summary == "HighErrorRate"
    assert named.details == {"receiver": "itsm-webhook", "externalURL": "http://127.0.0.1:9093",
                             "groupKey": GROUP_KEY}


def test_no_service_label_means_no_service() -> None:
    [command] = alertmanager.translate(one_alert(labels={"alertname": "X", "job": "api"}))
    assert command.service is None


def test_the_service_label_else_a_service_annotation() -> None:
    [labelled] = alertmanager.translate(body("am-webhook-v4-firing.json"))
    assert (labelled.service, labelled.service_field) == ("checkout", "labels.service")
    [annotated] = alertmanager.translate(one_alert(
        labels={"alertname": "X"}, annotations={"service": " payments-db ", "summary": "s"}))
    assert annotated.service == "payments-db"
    assert annotated.service_field == "annotations.service"
    [both] = alertmanager.translate(one_alert(
        labels={"alertname": "X", "service": "checkout"}, annotations={"service": "other"}))
    assert both.service == "checkout"


def test_unknown_fields_are_ignored() -> None:
    payload = one_alert(somethingNew=1)
    payload["futureField"] = {"x": 1}
    expected = alertmanager.translate(body("am-webhook-v4-firing.json"))
    assert alertmanager.translate(payload) == expected


def test_empty_alert_list() -> None:
    payload = body("am-webhook-v4-firing.json")
    payload["alerts"] = []
    assert alertmanager.translate(payload) == []


@pytest.mark.parametrize(("value", "field"), [
    ({"version": "3"}, "version"),
    ({"version": 4}, "version"),
    ({"version": KeyError}, "version"),
    ({"alerts": {"0": {}}}, "alerts"),
    ({"alerts": KeyError}, "alerts"),
    ({"groupKey": 7}, "groupKey"),
])
def test_envelope_errors_name_the_field(value: dict[str, Any], field: str) -> None:
    payload = body("am-webhook-v4-firing.json")
    for key, new in value.items():
        if new is KeyError:
            payload.pop(key)
        else:
            payload[key] = new
    assert error_of(payload).field == field


def test_prometheus_api_alert_list_is_not_a_webhook() -> None:
    # What Prometheus posts to Alertmanager's /api/v2/alerts: a JSON array.
    assert error_of(record("prometheus-to-alertmanager-api-v2-alerts.json")["body"]).field \
        == "body"


@pytest.mark.parametrize(("changes", "field"), [
    ({"status": KeyError}, "alerts[2].status"),
    ({"status": "pending"}, "alerts[2].status"),
    ({"labels": KeyError}, "alerts[2].labels"),
    ({"labels": ["a"]}, "alerts[2].labels"),
    ({"labels": {"severity": 1}}, "alerts[2].labels.severity"),
    ({"annotations": "x"}, "alerts[2].annotations"),
    ({"startsAt": KeyError}, "alerts[2].startsAt"),
    ({"startsAt": "yesterday"}, "alerts[2].startsAt"),
    ({"startsAt": None}, "alerts[2].startsAt"),
    ({"startsAt": "2026-02-30T00:00:00Z"}, "alerts[2].startsAt"),
    ({"endsAt": "soon"}, "alerts[2].endsAt"),
    ({"endsAt": "9999-12-31T23:59:59-05:00"}, "alerts[2].endsAt"),
    ({"generatorURL": 5}, "alerts[2].generatorURL"),
    ({"fingerprint": 5}, "alerts[2].fingerprint"),
    ({"fingerprint": "f" * 256}, "alerts[2].fingerprint"),
])
def test_alert_errors_name_the_alert_and_field(changes: dict[str, Any], field: str) -> None:
    payload = body("am-webhook-v4-firing-2alerts.json")
    alert = copy.deepcopy(payload["alerts"][0])
    for key, value in changes.items():
        if value is KeyError:
            alert.pop(key, None)
        else:
            alert[key] = value
    payload["alerts"].append(alert)
    error = error_of(payload)
    assert error.field == field
    assert error.message.startswith(field)


def test_an_alert_that_is_not_an_object() -> None:
    payload = body("am-webhook-v4-firing.json")
    payload["alerts"].append("x")
    assert error_of(payload).field == "alerts[1]"


@pytest.mark.parametrize(("text", "expected"), [
    # Alertmanager / Prometheus: RFC 3339, Z, 0 to 9 fractional digits.
    ("2026-11-26T04:57:30Z", datetime(2026, 11, 26, 4, 57, 30, tzinfo=UTC)),
    ("2026-11-26T04:59:37.02Z", datetime(2026, 11, 26, 4, 59, 37, 20000, tzinfo=UTC)),
    ("2026-11-26T04:57:41.599111416Z", datetime(2026, 11, 26, 4, 57, 41, 599111, tzinfo=UTC)),
    # Grafana: offsets with microseconds, milliseconds with Z.
    ("2021-10-12T09:51:03.157076+02:00", datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)),
    ("2022-05-24T13:18:03.612Z", datetime(2022, 5, 24, 13, 18, 3, 612000, tzinfo=UTC)),
    # PagerDuty: offset without a colon.
    ("2015-07-17T08:42:58.315+0000", datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)),
    # GitLab: a space before the time and before the offset.
    ("2021-04-28 21:50:00 +0200", datetime(2021, 4, 28, 19, 50, tzinfo=UTC)),
])
def test_start_times_in_every_iso_form_the_peers_send(text: str, expected: datetime) -> None:
    [command] = alertmanager.translate(one_alert(startsAt=text))
    assert command.occurred_at == expected


@pytest.mark.parametrize("zero", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "",
                                  None])
def test_go_zero_end_time_means_no_end(zero: str | None) -> None:
    [command] = alertmanager.translate(one_alert(status="resolved", endsAt=zero))
    assert command.status == "resolved"
    assert command.ended_at is None


def test_a_firing_alerts_end_time_is_checked_but_not_kept() -> None:
    [command] = alertmanager.translate(one_alert(endsAt="2026-11-26T05:30:00Z"))
    assert command.ended_at is None


def test_an_unknown_severity_label_is_recorded_as_error_with_the_word() -> None:
    [command] = alertmanager.translate(one_alert(labels={
        "alertname": "X", "service": "checkout", "severity": "catastrophic"}))
    assert command.severity == "error"
    assert command.details["severity_reported"] == "catastrophic"
    assert command.details["severity_note"] == (
        "severity 'catastrophic' is not one Steward knows; recorded as error")


def test_a_time_that_does_not_parse_refuses_its_alert_only() -> None:
    payload = body("am-webhook-v4-firing-2alerts.json")
    payload["alerts"][1]["startsAt"] = "yesterday"
    payload["alerts"][0]["startsAt"] = "2099-01-01T00:00:00Z"  # far ahead: kept, as reported
    commands, refused = alertmanager.translate_group(payload)
    assert len(commands) == 1
    assert commands[0].occurred_at == datetime(2099, 1, 1, tzinfo=UTC)
    assert [r.to_dict() for r in refused] == [{
        "index": 1, "field": "alerts[1].startsAt",
        "message": "'yesterday' is not an ISO-8601 time"}]
    assert error_of(payload).status_code == 400  # one at a time: that event's 400
