"""PagerDuty Events API v2 change events (``POST /v2/change/enqueue``) -> ``RecordDeployment``.

Request shape (PagerDuty developer docs, "Send a Change Event"):
``routing_key`` (required, the 32-character integration key), ``payload.summary``
(required, at most 1024 characters), ``payload.source``, ``payload.timestamp``
(ISO-8601), ``payload.custom_details`` (object), ``links`` (``[{href, text}]``)
and ``images`` (``[{src, href, alt}]``). PagerDuty answers a bad event with
``400 {"status": "invalid event", "message": "Event object is invalid",
"errors": [...]}``; :func:`validate` returns those ``errors`` in PagerDuty's own
wording where PagerDuty's is known.

A change event names no environment or version; the de-facto convention (the
Ansible ``community.general.pagerduty_change`` module, among others) puts them
in ``custom_details``: ``environment``, ``revision`` (or ``version``), ``user``,
``repo``. Change events have no dedup key, so a hash of the event identifies a
retried delivery.

The service: ``custom_details.service`` when given, else the repository
``custom_details.repo`` names (a slug, or the path of its URL), mapped through
the catalog like GitHub's and GitLab's; else the routing key's own service
(decided in the domain, ``changes.deployment_routing.route_deployment``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from steward.changes.commands import RecordDeployment
from steward.errors import ValidationError
from steward.ingest.wire import list_problems
from steward.timeutil import parse_timestamp, utcnow

ROUTING_KEY_LENGTH = 32
SUMMARY_MAX = 1024
INVALID_RESPONSE = {"status": "invalid event", "message": "Event object is invalid"}


def validate(body: Any) -> list[str]:
    """PagerDuty-style error messages for ``body``; empty when the event is valid."""
    return [message for _, message in _problems(body)]


def invalid_response(errors: list[str]) -> dict[str, Any]:
    """The 400 body PagerDuty answers an invalid event with."""
    return {**INVALID_RESPONSE, "errors": list(errors)}


def translate(body: Any, *, now: datetime | None = None) -> RecordDeployment:
    """A valid change event as a succeeded deployment."""
    problems = _problems(body)
    if problems:
        field, message = problems[0]
        raise ValidationError(message, field=field, details=[m for _, m in problems])
    payload = body["payload"]
    details = payload.get("custom_details")
    details = details if isinstance(details, dict) else {}
    timestamp = payload.get("timestamp")
    finished_at = (parse_timestamp(timestamp, field="payload.timestamp")
                   if _present(timestamp) else (now or utcnow()))
    links = _links(body.get("links"))
    repo = _text(details.get("repo"))
    if repo and repo.startswith(("http://", "https://")):
        links.setdefault("repo", repo)
    dedup = _text(body.get("dedup_key"))
    service = _text(details.get("service"))
    repository = None if service or not repo else repository_slug(repo)
    return RecordDeployment(
        environment=_text(details.get("environment")) or "production",
        status="succeeded",
        service=service,
        repository=repository,
        named_field="payload.custom_details.service" if service
        else "payload.custom_details.repo" if repository else "",
        version=_text(details.get("version")) or _text(details.get("revision")),
        finished_at=finished_at,
        source="pagerduty",
        external_id=dedup or event_hash(body),
        url=next(iter(links.values()), None),
        description=payload["summary"].strip(),
        author=_text(details.get("user")),
        links=links,
    )


def repository_slug(repo: str) -> str | None:
    """``owner/name`` of a repository given as a slug, an https URL or an scp-like
    ``git@host:owner/name.git``."""
    text = repo.strip()
    if "://" in text:
        text = urlsplit(text).path
    elif "@" in text.split(":", 1)[0] and ":" in text:
        text = text.split(":", 1)[1]
    return text.strip("/").removesuffix(".git").strip("/") or None


def event_hash(body: dict[str, Any]) -> str:
    """A stable identity of the event, without the routing key (a credential)."""
    canonical = json.dumps({k: v for k, v in body.items() if k != "routing_key"},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _problems(body: Any) -> list[tuple[str, str]]:
    if not isinstance(body, dict):
        return [("body", "Event object must be a JSON object")]
    problems: list[tuple[str, str]] = []
    key = body.get("routing_key")
    if not isinstance(key, str) or not key.strip():
        problems.append(("routing_key", "'routing_key' is missing or blank"))
    else:
        if len(key) != ROUTING_KEY_LENGTH:
            problems.append(("routing_key", "Length of 'routing_key' is incorrect "
                                            f"(should be {ROUTING_KEY_LENGTH} characters)"))
        if not (key.isascii() and key.isalnum()):
            problems.append(("routing_key",
                             "'routing_key' cannot contain non-alphanumeric characters."))
    payload = body.get("payload")
    if not isinstance(payload, dict) or not payload:
        problems.append(("payload", "'payload' is missing or blank"))
    else:
        problems += _payload_problems(payload)
    problems += list_problems(body.get("links"), "links", "href", ("text",))
    problems += list_problems(body.get("images"), "images", "src", ("href", "alt"))
    return problems


def _payload_problems(payload: dict[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems.append(("payload.summary", "'payload.summary' is missing or blank"))
    elif len(summary) > SUMMARY_MAX:
        problems.append(("payload.summary", "'payload.summary' is too long "
                                            f"(maximum is {SUMMARY_MAX} characters)"))
    timestamp = payload.get("timestamp")
    if _present(timestamp):
        try:
            parse_timestamp(timestamp, field="payload.timestamp")
        except ValidationError:
            problems.append(("payload.timestamp",
                             "'payload.timestamp' is not a valid ISO 8601 timestamp"))
    source = payload.get("source")
    if source is not None and not isinstance(source, str):
        problems.append(("payload.source", "'payload.source' must be a string"))
    return problems




def _links(items: Any) -> dict[str, str]:
    links: dict[str, str] = {}
    for index, item in enumerate(items or []):
        name = _text(item.get("text")) or "link"
        if name in links:
            name = f"{name} {index + 1}"
        links[name] = item["href"].strip()
    return links


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _text(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None
