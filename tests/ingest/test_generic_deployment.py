"""Steward's own deployment JSON, the shape PRODUCT.md promises."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from steward.changes.commands import CommitInfo
from steward.errors import ValidationError
from steward.ingest.generic_deployment import DeploymentIn, parse_deployment, to_command

PRODUCT_EXAMPLE: dict[str, Any] = {
    "service": "payments-api", "environment": "production", "version": "1.4.2",
    "status": "succeeded", "started_at": "2026-03-02T10:00:00Z",
    "finished_at": "2026-03-02T10:04:00Z",
    "commits": [{"sha": "9f1c2ab", "committed_at": "2026-03-01T16:20:00Z",
                 "message": "Retry ledger writes"}],
    "rollback_of": None, "fixes_incident": None, "change_id": None,
}


def example(**changes: Any) -> dict[str, Any]:
    data = {**PRODUCT_EXAMPLE, "commits": [dict(c) for c in PRODUCT_EXAMPLE["commits"]]}
    for key, value in changes.items():
        if value is KeyError:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_the_documented_example() -> None:
    command = to_command(parse_deployment(example()))
    assert command.service == "payments-api"
    assert command.environment == "production"
    assert command.version == "1.4.2"
    assert command.status == "succeeded"
    assert command.started_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert command.finished_at == datetime(2026, 3, 2, 10, 4, tzinfo=UTC)
    assert command.commits == (CommitInfo(sha="9f1c2ab",
                                          committed_at=datetime(2026, 3, 1, 16, 20, tzinfo=UTC),
                                          message="Retry ledger writes"),)
    assert command.rollback_of is None and command.fixes_incident is None
    assert command.change_id is None
    assert command.source == "api"


def test_minimal_deployment_defaults_to_succeeded_now() -> None:
    command = to_command(parse_deployment({"service": "web", "environment": "staging"}),
                         source="cli")
    assert command.status == "succeeded"
    assert command.finished_at is None and command.commits == ()
    assert command.source == "cli"


def test_offsets_and_nanoseconds_become_utc() -> None:
    deployment = parse_deployment(example(started_at="2026-03-02T12:00:00.123456789+02:00",
                                          finished_at="2026-03-02 10:04:00"))
    assert deployment.started_at == datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=UTC)
    assert deployment.finished_at == datetime(2026, 3, 2, 10, 4, tzinfo=UTC)


def test_optional_extensions_reach_the_command() -> None:
    command = to_command(parse_deployment(example(
        repository="acme/payments-api", rollback_of=12, rollback_of_version="1.4.1",
        fixes_incident=7, change_id=3, url="https://ci.example.test/1", author="deploy-bot",
        external_id="run-1", links={"pipeline": "https://ci.example.test/1"},
        description="hotfix", status="rolled_back")))
    assert command.repository == "acme/payments-api"
    assert command.rollback_of == 12 and command.rollback_of_version == "1.4.1"
    assert command.fixes_incident == 7 and command.change_id == 3
    assert command.links == {"pipeline": "https://ci.example.test/1"}
    assert command.status == "rolled_back"


def test_commit_shas_are_normalised_to_lowercase() -> None:
    deployment = parse_deployment(example(commits=[{"sha": " 9F1C2AB "}]))
    assert deployment.commits[0].sha == "9f1c2ab"
    assert deployment.commits[0].committed_at is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"colour": "blue"}, "colour"),
    ({"service": KeyError}, "service"),
    ({"service": "  "}, "service"),
    ({"environment": KeyError}, "environment"),
    ({"status": "done"}, "status"),
    ({"started_at": "yesterday"}, "started_at"),
    ({"finished_at": "2026-02-30T10:00:00Z"}, "finished_at"),
    ({"finished_at": "2026-03-02T09:00:00Z"}, "finished_at"),
    ({"rollback_of": 0}, "rollback_of"),
    ({"change_id": "seven"}, "change_id"),
    ({"commits": [{"sha": "9f1c2ab"}, {"sha": "abc", "committed_at": "x"}]}, "commits.1.sha"),
    ({"commits": [{"sha": "9f1c2ab"}, {"sha": "abcd", "committed_at": "x"}]},
     "commits.1.committed_at"),
    ({"commits": [{"sha": "9f1c2ab", "author": "me"}]}, "commits.0.author"),
])
def test_bad_fields_are_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_deployment(example(**changes))
    assert caught.value.field == field
    assert caught.value.message.startswith(field)


def test_time_errors_name_the_field_in_the_message() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_deployment(example(started_at="yesterday"))
    assert "started_at: 'yesterday' is not an ISO-8601 time" in caught.value.message


def test_the_model_is_usable_directly_by_fastapi() -> None:
    assert DeploymentIn.model_json_schema()["additionalProperties"] is False
