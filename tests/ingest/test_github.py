"""GitHub deployment webhooks, from GitHub's own example payloads (octokit/webhooks)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from steward.errors import ValidationError
from steward.ingest import github
from steward.ingest.wire import Ignored

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "github"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# -- signature ---------------------------------------------------------------

def test_signature_matches_githubs_documented_test_vector() -> None:
    # docs.github.com "Validating webhook deliveries": secret, payload and expected header.
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert github.verify_signature(b"It's a Secret to Everybody", b"Hello, World!", header)


def test_signature_over_a_real_payload_body() -> None:
    body = (FIXTURES / "deployment" / "payload.json").read_bytes()
    secret = b"whsec-test"
    header = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    assert github.verify_signature(secret, body, header)
    assert github.verify_signature(secret, body, header.upper().replace("SHA256=", "sha256="))
    assert not github.verify_signature(secret, body + b" ", header)
    assert not github.verify_signature(b"other-secret", body, header)


@pytest.mark.parametrize("header", [
    None, "", "sha256=", "sha256=abc", "sha1=" + "0" * 40,
    "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    "sha256=" + "z" * 64, "sha256=" + "é" * 64,
])
def test_missing_or_malformed_signature_is_refused(header: str | None) -> None:
    assert not github.verify_signature(b"It's a Secret to Everybody", b"Hello, World!", header)


def test_empty_secret_never_verifies() -> None:
    header = "sha256=" + hmac.new(b"", b"x", hashlib.sha256).hexdigest()
    assert not github.verify_signature(b"", b"x", header)


# -- translation of the real payloads ----------------------------------------

def test_deployment_created() -> None:
    command = github.translate("deployment", load("deployment/payload.json"))
    assert command is not None
    assert command.status == "in_progress"
    assert command.environment == "production"
    assert command.repository == "Codertocat/Hello-World"
    assert command.service is None
    assert command.version == "f95f852bd8fc"
    assert command.external_id == "Codertocat/Hello-World#145988746"
    assert command.started_at == datetime(2019, 5, 15, 15, 20, 53, tzinfo=UTC)
    assert command.finished_at is None
    assert command.author == "Codertocat"
    assert command.source == "github"
    assert command.description == ""
    assert command.url is None
    assert command.commits == ()


def test_deployment_status_success() -> None:
    command = github.translate("deployment_status", load("deployment_status/payload.json"))
    assert command is not None
    assert command.status == "succeeded"
    assert command.external_id == "Codertocat/Hello-World#145988746"
    assert command.started_at is None  # the deployment event or an in_progress status says
    assert command.finished_at == datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC)
    assert command.url is None  # target_url is "" in this payload
    assert command.version == "f95f852bd8fc"


def test_deployment_status_in_progress_from_github_pages() -> None:
    command = github.translate("deployment_status",
                               load("deployment_status/gh-pages.payload.json"))
    assert command is not None
    assert command.status == "in_progress"
    assert command.environment == "github-pages"
    assert command.finished_at is None
    assert command.url == ("https://github.com/Codertocat/Hello-World/runs/145988746"
                           "?check_suite_focus=true")
    assert command.author == "github-pages[bot]"
    assert command.links["pipeline"] == \
        "https://github.com/Codertocat/Hello-World/actions/runs/289782451"
    assert command.links["log"].startswith("https://github.com/CorsixTH/")
    assert "environment" not in command.links  # environment_url is ""


@pytest.mark.parametrize(("state", "status", "finished"), [
    ("success", "succeeded", True),
    ("failure", "failed", True),
    ("error", "failed", True),
    ("in_progress", "in_progress", False),
    ("queued", "in_progress", False),
    ("pending", "in_progress", False),
    ("SUCCESS", "succeeded", True),
])
def test_every_deployment_state(state: str, status: str, finished: bool) -> None:
    payload = load("deployment_status/payload.json")
    payload["deployment_status"]["state"] = state
    payload["deployment_status"]["updated_at"] = "2019-05-15T15:25:00Z"
    command = github.translate("deployment_status", payload)
    assert command is not None and command.status == status
    began = payload["deployment_status"]["created_at"] if state == "in_progress" else None
    assert command.started_at == (began and datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC))
    expected = datetime(2019, 5, 15, 15, 25, tzinfo=UTC) if finished else None
    assert command.finished_at == expected


def test_inactive_is_acknowledged_without_a_command() -> None:
    payload = load("deployment_status/payload.json")
    payload["deployment_status"]["state"] = "inactive"
    ignored = github.translate("deployment_status", payload)
    assert isinstance(ignored, Ignored) and "inactive" in ignored.reason


@pytest.mark.parametrize("event", ["ping", "push", "check_run", "meta", "PUSH"])
def test_events_steward_does_not_record_are_acknowledged_with_the_reason(event: str) -> None:
    ignored = github.translate(event, {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert isinstance(ignored, Ignored)
    assert event.lower() in ignored.reason and "workflow_run" in ignored.reason


def test_url_prefers_target_then_log_then_environment_url() -> None:
    payload = load("deployment_status/payload.json")
    status = payload["deployment_status"]
    status.update(target_url="", log_url="", environment_url="https://app.example.test")
    command = github.translate("deployment_status", payload)
    assert command is not None and command.url == "https://app.example.test"


def test_unknown_fields_are_ignored_and_ref_is_the_version_without_sha() -> None:
    payload = load("deployment/payload.json")
    payload["brand_new_field"] = {"anything": [1, 2]}
    del payload["deployment"]["sha"]
    payload["deployment"]["description"] = "  Deploy v1.4.2  "
    payload["deployment"]["environment"] = " production "
    command = github.translate("deployment", payload)
    assert command is not None
    assert command.version == "master"
    assert command.description == "Deploy v1.4.2"
    assert command.environment == "production"


def test_author_falls_back_to_sender() -> None:
    payload = load("deployment/payload.json")
    del payload["deployment"]["creator"]
    command = github.translate("deployment", payload)
    assert command is not None and command.author == "Codertocat"


# -- bad input names the field ------------------------------------------------

def test_a_missing_event_names_the_header() -> None:
    with pytest.raises(ValidationError) as caught:
        github.translate(None, load("deployment/payload.json"))
    assert caught.value.field == "X-GitHub-Event"


def _broken(path: str, value: Any, name: str = "deployment_status/payload.json") -> dict:
    payload = copy.deepcopy(load(name))
    *parents, leaf = path.split(".")
    target = payload
    for part in parents:
        target = target[part]
    if value is KeyError:
        del target[leaf]
    else:
        target[leaf] = value
    return payload


@pytest.mark.parametrize(("path", "value"), [
    ("deployment_status.state", "exploded"),
    ("deployment_status.state", KeyError),
    ("deployment_status.state", 3),
    ("deployment_status", KeyError),
    ("deployment", KeyError),
    ("deployment.id", KeyError),
    ("deployment.environment", ""),
    ("deployment.environment", KeyError),
    ("deployment.created_at", "yesterday"),
    ("deployment_status.updated_at", "2019-13-45T00:00:00Z"),
    ("repository.full_name", KeyError),
    ("repository", "Codertocat/Hello-World"),
])
def test_bad_or_missing_fields_are_named(path: str, value: Any) -> None:
    payload = _broken(path, value)
    with pytest.raises(ValidationError) as caught:
        github.translate("deployment_status", payload)
    assert caught.value.field == path
    assert path in caught.value.message


def test_body_must_be_an_object() -> None:
    with pytest.raises(ValidationError) as caught:
        github.translate("deployment", [])  # type: ignore[arg-type]
    assert caught.value.field == "body"
