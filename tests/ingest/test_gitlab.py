"""GitLab Deployment Hook, from the example in GitLab's webhook documentation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from steward.errors import ValidationError
from steward.ingest import gitlab
from steward.ingest.wire import Ignored

FIXTURE = (Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "gitlab"
           / "deployment-hook.json")


def hook(**changes: Any) -> dict[str, Any]:
    payload = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is KeyError:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def test_documented_success_event() -> None:
    command = gitlab.translate(hook())
    assert command is not None
    assert command.status == "succeeded"
    assert command.environment == "staging"
    assert command.repository == "root/test-deployment-webhooks"
    assert command.service is None
    # The full SHA comes from commit_url; 12 digits, like the GitHub source.
    assert command.version == "279484c09fbe"
    assert command.external_id == "root/test-deployment-webhooks#15"
    # "2021-04-28 21:50:00 +0200" is 19:50 UTC.
    assert command.finished_at == datetime(2021, 4, 28, 19, 50, tzinfo=UTC)
    assert command.started_at is None
    assert command.url == "http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796"
    assert command.author == "root"
    assert command.description == "Add new file"
    assert command.source == "gitlab"
    assert command.links == {
        "commit": "http://10.126.0.2:3000/root/test-deployment-webhooks/-/commit/"
                  "279484c09fbe69ededfced8c1bb6e6d24616b468",
        "environment": "https://staging.example.com",
    }
    assert command.commits == ()


def test_running_then_failed_update_one_deployment() -> None:
    running = gitlab.translate(hook(status="running",
                                    status_changed_at="2021-04-28 21:45:00 +0200"))
    failed = gitlab.translate(hook(status="failed"))
    assert running is not None and failed is not None
    assert running.status == "in_progress"
    assert running.started_at == datetime(2021, 4, 28, 19, 45, tzinfo=UTC)
    assert running.finished_at is None
    assert failed.status == "failed"
    assert failed.finished_at == datetime(2021, 4, 28, 19, 50, tzinfo=UTC)
    assert running.external_id == failed.external_id


@pytest.mark.parametrize("status", ["canceled", "skipped", "blocked", "created", "CANCELED"])
def test_deployments_that_never_ran_are_acknowledged_only(status: str) -> None:
    ignored = gitlab.translate(hook(status=status))
    assert isinstance(ignored, Ignored) and status.lower() in ignored.reason


@pytest.mark.parametrize(("event", "kind"), [("Push Hook", "push"),
                                             ("Pipeline Hook", "pipeline"),
                                             ("", "push"), ("", "pipeline"),
                                             ("Merge Request Hook", "merge_request")])
def test_events_steward_does_not_record_are_acknowledged_with_the_reason(event: str,
                                                                          kind: str) -> None:
    ignored = gitlab.translate({"object_kind": kind, "ref": "refs/heads/main"}, event)
    assert isinstance(ignored, Ignored) and repr(event or kind) in ignored.reason


def test_version_falls_back_to_short_sha_and_id_to_the_job() -> None:
    command = gitlab.translate(hook(commit_url=KeyError, deployment_id=KeyError,
                                    status_changed_at=KeyError, deployable_url=None))
    assert command is not None
    assert command.version == "279484c0"
    assert command.external_id == "root/test-deployment-webhooks#job-796"
    assert command.finished_at is None
    assert command.url is None  # deployments made through the API have no job


def test_commit_url_for_another_commit_is_not_trusted_for_the_version() -> None:
    command = gitlab.translate(hook(commit_url="http://x/-/commit/" + "a" * 40))
    assert command is not None and command.version == "279484c0"


def test_unknown_fields_are_ignored() -> None:
    command = gitlab.translate(hook(brand_new={"x": 1}, environment_tier="production"))
    assert command is not None and command.environment == "staging"


@pytest.mark.parametrize(("changes", "field"), [
    ({"status": "exploded"}, "status"),
    ({"status": KeyError}, "status"),
    ({"environment": ""}, "environment"),
    ({"environment": KeyError}, "environment"),
    ({"project": KeyError}, "project"),
    ({"project": {"name": "x"}}, "project.path_with_namespace"),
    ({"status_changed_at": "28/04/2021 21:50"}, "status_changed_at"),
])
def test_bad_or_missing_fields_are_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        gitlab.translate(hook(**changes))
    assert caught.value.field == field
    assert field in caught.value.message
