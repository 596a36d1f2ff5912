"""Steward's generic alert JSON (POST /api/v1/alerts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from steward.errors import ValidationError
from steward.ingest.generic_alert import AlertIn, parse_alert, parse_alerts, to_command

# The example of PRODUCT.md, "Shapes others rely on".
DOCUMENTED = {"service": "payments-api", "dedup_key": "disk-full-db1", "status": "firing",
              "severity": "critical", "summary": "Disk 95% full on db1",
              "occurred_at": "2026-03-02T10:05:00Z", "labels": {}, "details": {}}


def alert(**changes: Any) -> dict[str, Any]:
    data = dict(DOCUMENTED)
    for key, value in changes.items():
        if value is KeyError:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def error_of(data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_alerts(data)
    return caught.value


def test_documented_shape() -> None:
    command = to_command(parse_alert(DOCUMENTED))
    assert command.dedup_key == "disk-full-db1"
    assert command.status == "firing"
    assert command.severity == "critical"
    assert command.service == "payments-api"
    assert command.summary == "Disk 95% full on db1"
    assert command.occurred_at == datetime(2026, 3, 2, 10, 5, tzinfo=UTC)
    assert command.ended_at is None
    assert command.source == "generic"
    assert (command.labels, command.details, command.url) == ({}, {}, None)


def test_minimal_alert_and_defaults() -> None:
    parsed = AlertIn.model_validate({"dedup_key": " k ", "status": "firing"})
    assert (parsed.dedup_key, parsed.severity, parsed.summary, parsed.service) == \
        ("k", "error", "", None)
    assert to_command(parsed).occurred_at is None


def test_resolved_alert_ends_when_it_occurred() -> None:
    command = to_command(parse_alert(alert(status="resolved",
                                           occurred_at="2026-03-02T10:35:00+01:00")))
    assert command.status == "resolved"
    assert command.ended_at == command.occurred_at == datetime(2026, 3, 2, 9, 35, tzinfo=UTC)


def test_labels_details_and_url() -> None:
    command = to_command(parse_alert(alert(labels={"host": "db1"},
                                           details={"used": 0.95, "mounts": ["/"]},
                                           url="https://grafana.example/d/1")))
    assert command.labels == {"host": "db1"}
    assert command.details == {"used": 0.95, "mounts": ["/"]}
    assert command.url == "https://grafana.example/d/1"


def test_single_or_batch() -> None:
    assert len(parse_alerts(DOCUMENTED)) == 1
    batch = parse_alerts([DOCUMENTED, alert(dedup_key="b", status="resolved")])
    assert [a.dedup_key for a in batch] == ["disk-full-db1", "b"]
    assert parse_alerts([]) == []
    assert error_of("x").field == "body"


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"dedup_key": KeyError}, "dedup_key", "is required"),
    ({"dedup_key": " "}, "dedup_key", None),
    ({"dedup_key": "k" * 256}, "dedup_key", None),
    ({"status": KeyError}, "status", "is required"),
    ({"status": "acknowledged"}, "status", None),
    ({"severity": 5}, "severity", None),
    ({"summary": "s" * 1025}, "summary", None),
    ({"labels": {"n": 1}}, "labels.n", None),
    ({"labels": ["a"]}, "labels", None),
    ({"details": "x"}, "details", None),
    ({"service": ""}, "service", None),
    ({"occurred_at": "yesterday"}, "occurred_at", "'yesterday' is not an ISO-8601 time"),
    ({"occurred_at": 1709373900}, "occurred_at", "expected an ISO-8601 time, got 1709373900"),
    ({"occurred_at": "2026-02-30T10:00:00Z"}, "occurred_at", None),
    ({"occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at",
     "'0001-01-01T00:00:00+01:00' is out of range"),
    ({"environment": "prod"}, "environment", "unknown field"),
])
def test_errors_name_the_field(changes: dict[str, Any], field: str,
                               message: str | None) -> None:
    error = error_of(alert(**changes))
    assert error.field == field
    assert error.message.startswith(f"{field}: ")
    if message is not None:
        assert error.message == f"{field}: {message}"


def test_batch_errors_name_the_index() -> None:
    error = error_of([DOCUMENTED, DOCUMENTED, alert(occurred_at="nope")])
    assert error.field == "[2].occurred_at"
    assert error.details == [{"field": "[2].occurred_at",
                              "message": "'nope' is not an ISO-8601 time"}]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-26T04:57:41.599111416Z", datetime(2026, 11, 26, 4, 57, 41, 599111, tzinfo=UTC)),
    ("2022-05-24T13:18:03.612Z", datetime(2022, 5, 24, 13, 18, 3, 612000, tzinfo=UTC)),
    ("2021-10-12T09:51:03.157076+02:00", datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)),
    ("2015-07-17T08:42:58.315+0000", datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)),
    ("2021-04-28 21:50:00 +0200", datetime(2021, 4, 28, 19, 50, tzinfo=UTC)),
    ("2026-03-02T10:05:00", datetime(2026, 3, 2, 10, 5, tzinfo=UTC)),  # naive means UTC
])
def test_occurred_at_forms(text: str, expected: datetime) -> None:
    assert parse_alert(alert(occurred_at=text)).occurred_at == expected


def test_any_severity_word_is_read_by_the_command() -> None:
    assert to_command(parse_alert(alert(severity="HIGH"))).severity == "error"
    odd = to_command(parse_alert(alert(severity="purple")))
    assert (odd.severity, odd.details["severity_reported"]) == ("error", "purple")


def test_a_batch_refuses_only_the_alerts_whose_time_does_not_parse() -> None:
    from steward.ingest.generic_alert import read_batch

    split = read_batch([DOCUMENTED, alert(occurred_at="nope"), DOCUMENTED])
    assert split is not None
    alerts, refused = split
    assert len(alerts) == 2
    assert [r.to_dict() for r in refused] == [
        {"index": 1, "field": "[1].occurred_at", "message": "'nope' is not an ISO-8601 time"}]
    # Another problem in any alert refuses the whole batch, as it always did.
    assert read_batch([DOCUMENTED, alert(occurred_at="nope", environment="x")]) is None
