"""Alertmanager's default PagerDuty details: the alerts in its text, and what they name.

The ``am-pagerduty-default-*`` captures are what Alertmanager 0.25.0 sent to a
``pagerduty_configs`` receiver configured with nothing but ``routing_key``,
``url`` and ``send_resolved`` (see tests/fixtures/payloads/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from steward.errors import ValidationError
from steward.ingest import pagerduty_events as pd
from steward.ingest.alertmanager_text import (
    ListedAlert,
    common_labels,
    listed_alerts,
    parse_alert_list,
)

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "alertmanager"
KEY = "0123456789abcdef0123456789abcdef"


def capture(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def details(name: str) -> dict[str, str]:
    return capture(name)["body"]["payload"]["custom_details"]


@pytest.mark.parametrize("name", sorted(p.name for p in PAYLOADS.glob(
    "am-pagerduty-default-*.json")))
def test_the_captures_are_what_alertmanager_wrote(name: str) -> None:
    """Rebuilt as Go's json.Encoder writes (compact, <>& escaped, a newline), each body
    has the length Alertmanager announced."""
    record = capture(name)
    assert record["headers"]["User-Agent"] == "Alertmanager/0.25.0"
    text = json.dumps(record["body"], separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    assert len((text + "\n").encode()) == int(record["headers"]["Content-Length"])


def test_the_captures_are_alertmanagers_defaults() -> None:
    record = capture("am-pagerduty-default-trigger.json")
    payload = record["body"]["payload"]
    assert set(payload["custom_details"]) == {"firing", "resolved", "num_firing",
                                              "num_resolved"}
    assert payload["severity"] == "error"  # Alertmanager's default, whatever the alerts say
    assert payload["source"] == record["body"]["client"] == "Alertmanager"


def test_two_firing_alerts_with_a_multi_line_annotation() -> None:
    alerts = parse_alert_list(details("am-pagerduty-default-trigger.json")["firing"])
    assert alerts == [
        ListedAlert(
            labels={"alertname": "DiskFull", "instance": "db1:9100",
                    "mountpoint": "/var/lib/postgresql", "service": "payments-db",
                    "severity": "critical"},
            annotations={"description": "Free space below 5% on /var/lib/postgresql.\n"
                                        "Largest table: ledger_entries (a = b)",
                         "runbook_url": "https://runbooks.example.com/disk-full",
                         "summary": "Disk 95% full on db1"},
            source="http://prometheus.example.com:9090/graph?g0.expr="
                   "node_filesystem_avail_bytes+%3C+0.05&g0.tab=1"),
        ListedAlert(
            labels={"alertname": "DiskFull", "instance": "db2:9100",
                    "mountpoint": "/var/lib/postgresql", "service": "payments-db",
                    "severity": "warning"},
            annotations={"summary": "Disk 85% full on db2"},
            source="http://prometheus.example.com:9090/graph?g0.expr="
                   "node_filesystem_avail_bytes"),
    ]
    assert common_labels(alerts) == {"alertname": "DiskFull",
                                     "mountpoint": "/var/lib/postgresql",
                                     "service": "payments-db"}


def test_no_annotations_and_no_source() -> None:
    alerts = parse_alert_list(details("am-pagerduty-default-two-services.json")["firing"])
    assert [a.labels["service"] for a in alerts] == ["checkout", "payments-api"]
    assert alerts[1].annotations == {} and alerts[1].source == ""


def test_the_firing_list_else_the_resolved_one() -> None:
    key, alerts = listed_alerts(details("am-pagerduty-default-partial-resolved.json"))
    assert key == "firing" and [a.labels["instance"] for a in alerts] == ["db1:9100"]
    key, alerts = listed_alerts(details("am-pagerduty-default-resolve.json"))
    assert key == "resolved" and len(alerts) == 2
    assert listed_alerts({"firing": "", "resolved": ""}) is None
    assert listed_alerts({"firing": "the disk is full"}) is None  # someone's own text
    assert listed_alerts("free text") is None


def test_what_the_text_cannot_hold_is_ignored() -> None:
    # A sender's own words before the first "Labels:", and an empty line inside a value.
    text = ("Alerts:\nLabels:\n - alertname = A\n - query = x = y\nAnnotations:\n"
            " - description = one\n\nthree\nSource: \n")
    [alert] = parse_alert_list(text)
    assert alert.labels == {"alertname": "A", "query": "x = y"}
    assert alert.annotations == {"description": "one\n\nthree"}
    assert parse_alert_list("") == [] and common_labels([]) == {}


@pytest.mark.parametrize(("name", "status", "listed"), [
    ("am-pagerduty-default-trigger.json", "firing", "firing"),
    ("am-pagerduty-default-partial-resolved.json", "firing", "firing"),
    ("am-pagerduty-default-resolve.json", "resolved", "resolved"),
])
def test_the_event_names_its_alerts_service_and_severity(name: str, status: str,
                                                          listed: str) -> None:
    body = capture(name)["body"]
    assert pd.validate(body) == []
    command = pd.translate(body)
    assert command.status == status
    assert command.service == "payments-db"
    assert command.service_field == f"payload.custom_details.{listed}"
    # The most severe of the listed alerts' severity labels, not payload.severity.
    assert command.severity == "critical"
    assert command.labels["alertname"] == "DiskFull"
    assert command.labels["source"] == "Alertmanager"  # the payload's fields win
    assert command.details["custom_details"] == body["payload"]["custom_details"]


def test_severity_labels_set_the_severity_only_when_there_are_some() -> None:
    body = capture("am-pagerduty-default-partial-resolved.json")["body"]
    custom = body["payload"]["custom_details"]
    custom["firing"] = custom["firing"].replace("severity = critical", "severity = minor")
    assert pd.translate(body).severity == "warning"  # minor is warning in Steward
    custom["firing"] = custom["firing"].replace(" - severity = minor\n", "")
    assert pd.translate(body).severity == "error"  # payload.severity


def test_an_explicit_service_detail_wins_over_the_alerts() -> None:
    body = capture("am-pagerduty-default-two-services.json")["body"]
    body["payload"]["custom_details"]["service"] = "checkout"
    assert pd.validate(body) == []
    command = pd.translate(body)
    assert command.service == "checkout"
    assert command.service_field == "payload.custom_details.service"


def test_alerts_of_two_services_in_one_notification_are_refused() -> None:
    body = capture("am-pagerduty-default-two-services.json")["body"]
    message = ("'payload.custom_details.firing' lists alerts of different services "
               "(checkout, payments-api); group the alerts by service in Alertmanager "
               "(add service to the route's group_by) so that each notification is about "
               "one service")
    assert pd.validate(body) == [message]
    with pytest.raises(ValidationError) as caught:
        pd.translate(body)
    assert caught.value.field == "payload.custom_details.firing"
    # Alerts without a service label name nothing: the other alerts' service stands.
    custom = body["payload"]["custom_details"]
    custom["firing"] = custom["firing"].replace(" - service = checkout\n", "")
    assert pd.translate(body).service == "payments-api"


def test_a_resolve_of_two_services_is_not_refused() -> None:
    """It settles its alert by dedup key; which service it names does not matter."""
    body = capture("am-pagerduty-default-two-services.json")["body"]
    custom = body["payload"]["custom_details"]
    custom["resolved"], custom["firing"] = custom["firing"], ""
    body["event_action"] = "resolve"
    assert pd.validate(body) == []
    assert pd.translate(body).service is None
