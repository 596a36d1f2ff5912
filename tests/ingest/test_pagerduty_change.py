"""PagerDuty change events (/v2/change/enqueue): PagerDuty's validation and the command."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from steward.errors import ValidationError
from steward.ingest import pagerduty_change as pd

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "pagerduty"
KEY = "R0123456789abcdef0123456789abcdE"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def docs_example(**payload_changes: Any) -> dict[str, Any]:
    body = load("change-event-docs-example.json")
    body["routing_key"] = KEY
    for key, value in payload_changes.items():
        if value is KeyError:
            body["payload"].pop(key, None)
        else:
            body["payload"][key] = value
    return body


def test_the_docs_sample_key_is_refused_like_pagerduty_does() -> None:
    body = load("change-event-docs-example.json")  # routing_key "samplekeyhere"
    assert pd.validate(body) == [
        "Length of 'routing_key' is incorrect (should be 32 characters)"]
    assert pd.invalid_response(pd.validate(body)) == {
        "status": "invalid event", "message": "Event object is invalid",
        "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"]}


def test_documented_change_event() -> None:
    body = docs_example()
    assert pd.validate(body) == []
    command = pd.translate(body)
    assert command.status == "succeeded"
    assert command.service is None  # the routing key's own service, decided by the domain
    assert command.environment == "production"
    assert command.version is None
    assert command.description == \
        "Build Success: Increase snapshot create timeout to 30 seconds"
    # "2020-07-17T08:42:58.315+0000": an offset without a colon, as PagerDuty documents.
    assert command.finished_at == datetime(2020, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert command.links == {"View more details in Acme!": "https://acme.pagerduty.dev/build/2"}
    assert command.url == "https://acme.pagerduty.dev/build/2"
    assert command.source == "pagerduty"
    assert command.external_id is not None and command.external_id.startswith("sha256:")


def test_ansible_style_custom_details() -> None:
    command = pd.translate(load("change-event-ansible-shape.json"))
    assert command.environment == "staging"
    assert command.version == "9f1c2ab34d5e"
    assert command.author == "deploy-bot"
    assert command.links == {"Pipeline": "https://ci.example.test/jobs/77",
                             "repo": "https://github.com/acme/payments-api"}
    assert command.finished_at == datetime(2026, 3, 2, 10, 4, 0, 123456, tzinfo=UTC)


def test_version_detail_wins_over_revision() -> None:
    body = docs_example(custom_details={"version": "1.4.2", "revision": "abc"})
    assert pd.translate(body).version == "1.4.2"


def test_missing_timestamp_means_now() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    command = pd.translate(docs_example(timestamp=KeyError), now=now)
    assert command.finished_at == now


def test_identity_is_stable_and_never_contains_the_key() -> None:
    first = pd.translate(docs_example()).external_id
    other_key = docs_example()
    other_key["routing_key"] = "0" * 32
    assert pd.translate(other_key).external_id == first
    assert KEY not in (first or "")
    changed = pd.translate(docs_example(summary="Another change")).external_id
    assert changed != first
    with_dedup = docs_example()
    with_dedup["dedup_key"] = "deploy-77"
    assert pd.translate(with_dedup).external_id == "deploy-77"


def test_unknown_fields_are_ignored() -> None:
    body = docs_example(severity="info", brand_new={"x": 1})
    body["client"] = "Acme CI"
    assert pd.validate(body) == []


@pytest.mark.parametrize(("mutate", "error"), [
    (lambda b: b.pop("routing_key"), "'routing_key' is missing or blank"),
    (lambda b: b.update(routing_key="   "), "'routing_key' is missing or blank"),
    (lambda b: b.update(routing_key="R0123456789abcdef0123456789abc-E"),
     "'routing_key' cannot contain non-alphanumeric characters."),
    (lambda b: b.pop("payload"), "'payload' is missing or blank"),
    (lambda b: b.update(payload={}), "'payload' is missing or blank"),
    (lambda b: b["payload"].pop("summary"), "'payload.summary' is missing or blank"),
    (lambda b: b["payload"].update(summary=""), "'payload.summary' is missing or blank"),
    (lambda b: b["payload"].update(summary="x" * 1025),
     "'payload.summary' is too long (maximum is 1024 characters)"),
    (lambda b: b["payload"].update(timestamp="last tuesday"),
     "'payload.timestamp' is not a valid ISO 8601 timestamp"),
    (lambda b: b["payload"].update(source=42), "'payload.source' must be a string"),
    (lambda b: b.update(links={"href": "x"}), "'links' must be an array"),
    (lambda b: b.update(links=[{"text": "no href"}]), "'links[0].href' is missing or blank"),
    (lambda b: b.update(links=["https://x"]), "'links[0]' must be an object"),
    (lambda b: b.update(images=[{"href": "https://x"}]), "'images[0].src' is missing or blank"),
])
def test_invalid_events(mutate: Any, error: str) -> None:
    body = docs_example()
    mutate(body)
    assert error in pd.validate(body)
    with pytest.raises(ValidationError) as caught:
        pd.translate(body)
    assert error in caught.value.details
    assert caught.value.field is not None
    assert caught.value.field.split("[")[0].split(".")[0] in error


def test_summary_of_exactly_1024_characters_is_accepted() -> None:
    assert pd.validate(docs_example(summary="x" * 1024)) == []


def test_not_an_object() -> None:
    assert pd.validate(["x"]) == ["Event object must be a JSON object"]


def test_short_non_alphanumeric_key_reports_both_problems_like_pagerduty() -> None:
    body = docs_example()
    body["routing_key"] = "e+23rschqsESqk9Q6_-g"
    assert pd.validate(body) == [
        "Length of 'routing_key' is incorrect (should be 32 characters)",
        "'routing_key' cannot contain non-alphanumeric characters."]


def test_the_service_or_repository_an_event_names() -> None:
    """custom_details.service, else the repository of custom_details.repo; else none
    (the routing key's own service, decided by the domain)."""
    plain = pd.translate(docs_example())
    assert (plain.service, plain.repository, plain.named_field) == (None, None, "")
    named = docs_example()
    named["payload"]["custom_details"] = {"service": " payments-api ", "repo": "acme/x"}
    command = pd.translate(named)
    assert (command.service, command.repository) == ("payments-api", None)
    assert command.named_field == "payload.custom_details.service"
    ansible = pd.translate(load("change-event-ansible-shape.json"))
    assert (ansible.service, ansible.repository) == (None, "acme/payments-api")
    assert ansible.named_field == "payload.custom_details.repo"


@pytest.mark.parametrize(("repo", "slug"), [
    ("acme/payments-api", "acme/payments-api"),
    ("https://github.com/acme/payments-api", "acme/payments-api"),
    ("https://gitlab.example.com/group/sub/project.git/", "group/sub/project"),
    ("git@github.com:acme/payments-api.git", "acme/payments-api"),
    ("https://github.com/", None),
])
def test_repository_slug(repo: str, slug: str | None) -> None:
    assert pd.repository_slug(repo) == slug
