"""Grafana alerting webhook: the JSON examples of Grafana's webhook notifier docs."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from steward.errors import ValidationError
from steward.ingest import grafana

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "grafana"
EXAMPLES = ["webhook-docs-example.json", "webhook-docs-example-grafana-9.json"]


def load(name: str = "webhook-docs-example.json") -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def error_of(payload: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        grafana.translate(payload)
    return caught.value


@pytest.mark.parametrize("name", EXAMPLES)
def test_documented_example(name: str) -> None:
    memory, cpu = grafana.translate(load(name))
    assert memory.dedup_key == "c6eadffa33fcdf37"
    assert cpu.dedup_key == "bc97ff14869b13e3"
    assert memory.source == cpu.source == "grafana"
    assert memory.status == "firing"
    assert memory.ended_at is None  # "0001-01-01T00:00:00Z"
    assert memory.summary == "This alert was triggered for zone us-1"
    assert memory.severity == "error"  # no severity label
    assert memory.service is None  # no service label
    assert memory.labels == {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}
    assert memory.occurred_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    assert cpu.occurred_at == datetime(2021, 10, 12, 7, 56, 3, 157076, tzinfo=UTC)
    assert memory.url == "https://play.grafana.org/alerting/1afz29v7z/edit"
    assert memory.group_key == cpu.group_key == hashlib.sha256(b"{}:{}").hexdigest()
    details = memory.details
    assert details["orgId"] == 1
    assert details["receiver"] == "My Super Webhook"
    assert details["externalURL"] == "https://play.grafana.org/"
    assert details["groupKey"] == "{}:{}"
    assert details["runbook_url"] == "https://myrunbook.com/runbook/1234"
    assert details["silenceURL"].startswith("https://play.grafana.org/alerting/silence/new?")
    assert "dashboardURL" not in details and "panelURL" not in details  # empty in the example


def test_values_and_value_string_are_kept() -> None:
    [current, _] = grafana.translate(load("webhook-docs-example.json"))
    [older, _] = grafana.translate(load("webhook-docs-example-grafana-9.json"))
    assert current.details["values"] == {"B": 44.23943737541908, "C": 1}
    assert older.details["valueString"] == "[ metric='' labels={} value=14151.331895396988 ]"


def test_resolved_alert_with_grafana_times() -> None:
    payload = load()
    alert = payload["alerts"][0]
    alert.update(status="resolved", startsAt="2022-05-24T13:18:03.612Z",
                 endsAt="2022-05-24T13:25:03.612Z",
                 labels={**alert["labels"], "severity": "warning", "service": "payments-api"},
                 dashboardURL="https://play.grafana.org/d/abc", imageURL="https://img/1.png")
    command = grafana.translate(payload)[0]
    assert command.status == "resolved"
    assert command.occurred_at == datetime(2022, 5, 24, 13, 18, 3, 612000, tzinfo=UTC)
    assert command.ended_at == datetime(2022, 5, 24, 13, 25, 3, 612000, tzinfo=UTC)
    assert command.severity == "warning"
    assert command.service == "payments-api"
    assert command.details["dashboardURL"] == "https://play.grafana.org/d/abc"
    assert command.details["imageURL"] == "https://img/1.png"


def test_version_must_be_grafanas() -> None:
    payload = load()
    payload["version"] = "4"
    assert error_of(payload).field == "version"


def test_errors_name_the_alert_and_field() -> None:
    payload = load()
    payload["alerts"][1]["startsAt"] = "12/10/2021 09:56"
    error = error_of(payload)
    assert error.field == "alerts[1].startsAt"


def test_legacy_grafana_alerting_is_refused_with_a_reason() -> None:
    legacy = {"dashboardId": 1, "evalMatches": [{"value": 1, "metric": "Count", "tags": {}}],
              "message": "Notification Message", "orgId": 1, "panelId": 2, "ruleId": 1,
              "ruleName": "Panel Title alert", "ruleUrl": "http://localhost:3000/d/x",
              "state": "alerting", "tags": {}, "title": "[Alerting] Panel Title alert"}
    error = error_of(legacy)
    assert error.field == "alerts"
    assert "legacy" in error.message


def test_unknown_fields_are_ignored() -> None:
    payload = copy.deepcopy(load())
    payload["notYetInvented"] = True
    payload["alerts"][0]["annotations"]["__value_string__"] = "x"
    assert len(grafana.translate(payload)) == 2


def test_a_time_that_does_not_parse_refuses_its_alert_only() -> None:
    payload = load()
    payload["alerts"][1]["startsAt"] = "12/10/2021 09:56"
    commands, refused = grafana.translate_group(payload)
    assert len(commands) == len(payload["alerts"]) - 1
    assert [(r.index, r.field) for r in refused] == [(1, "alerts[1].startsAt")]
