"""GitLab Deployment Hook (``X-Gitlab-Event: Deployment Hook``) -> ``RecordDeployment``.

GitLab authenticates a webhook with the secret token it was configured with,
sent verbatim in ``X-Gitlab-Token``; Steward recognises it by its hash, as it
does a bearer key. One deployment sends an event when it
starts (``running``) and when it ends (``success``, ``failed``, ``canceled``);
the events share ``deployment_id``, so ``external_id`` is
``"<project path>#<deployment_id>"`` and later events update the same record.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from steward.changes.commands import RecordDeployment
from steward.errors import ValidationError
from steward.ingest.wire import Ignored
from steward.timeutil import parse_timestamp

EVENT_HEADER_VALUE = "Deployment Hook"

# A canceled (or skipped/blocked) deployment never finished: nothing reached the
# environment, so there is no deployment to record and the event is only
# acknowledged. If a "running" event came first, that record stays in progress
# until the domain expires it or a retry of the same job reports again.
STATUS_MAP: dict[str, str | None] = {
    "running": "in_progress",
    "success": "succeeded",
    "failed": "failed",
    "canceled": None,
    "created": None,
    "blocked": None,
    "skipped": None,
}
_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def translate(payload: dict[str, Any], event: str = "") -> RecordDeployment | Ignored:
    """Translate one hook delivery: a Deployment Hook, or another event to acknowledge.

    GitLab disables a hook that keeps failing, and its Test button sends a Push
    Hook, so events Steward does not record (push, pipeline, merge request...)
    are :class:`Ignored`, never refused.
    """
    if event and event != EVENT_HEADER_VALUE:
        return Ignored(f"GitLab {event!r} events record nothing; Steward records "
                       f"{EVENT_HEADER_VALUE} events")
    if not isinstance(payload, dict):
        raise ValidationError("body: expected a JSON object", field="body")
    kind = payload.get("object_kind")
    if kind != "deployment":
        return Ignored(f"GitLab object_kind {kind!r} records nothing; Steward records "
                       "deployment events")
    raw_status = _required_str(payload, "status").lower()
    if raw_status not in STATUS_MAP:
        raise ValidationError(
            f"status: {raw_status!r} is not a GitLab deployment status "
            f"(expected one of {', '.join(STATUS_MAP)})", field="status")
    status = STATUS_MAP[raw_status]
    if status is None:
        return Ignored(f"deployment {raw_status!r}: nothing reached the environment")

    environment = _required_str(payload, "environment")
    project = payload.get("project")
    if not isinstance(project, dict):
        raise ValidationError("project: expected an object", field="project")
    path = _required_str(project, "path_with_namespace", prefix="project.")
    changed_at = _optional_time(payload, "status_changed_at")

    user = payload.get("user")
    links = {}
    for key, name in (("commit_url", "commit"), ("environment_external_url", "environment")):
        if _text(payload.get(key)):
            links[name] = str(payload[key]).strip()

    return RecordDeployment(
        environment=environment,
        status=status,
        repository=path,
        named_field="project.path_with_namespace",
        version=_version(payload),
        started_at=changed_at if status == "in_progress" else None,
        finished_at=changed_at if status != "in_progress" else None,
        source="gitlab",
        external_id=_external_id(payload, path),
        url=_text(payload.get("deployable_url")),
        description=_text(payload.get("commit_title")) or "",
        author=_text(user.get("username")) if isinstance(user, dict) else None,
        links=links,
    )


def _version(payload: dict[str, Any]) -> str | None:
    """The commit's first 12 hex digits, like the GitHub and CLI sources, when known.

    The hook carries ``short_sha`` (8 digits) and the full SHA only at the end
    of ``commit_url``; a ``sha`` field, should GitLab add one, wins.
    """
    sha = _text(payload.get("sha"))
    if sha is None:
        tail = (_text(payload.get("commit_url")) or "").rstrip("/").rsplit("/", 1)[-1].lower()
        short = (_text(payload.get("short_sha")) or "").lower()
        if _FULL_SHA.fullmatch(tail) and tail.startswith(short):
            sha = tail
    if sha:
        return sha[:12]
    return _text(payload.get("short_sha"))


def _external_id(payload: dict[str, Any], path: str) -> str | None:
    deployment_id = payload.get("deployment_id")
    if isinstance(deployment_id, int | str) and not isinstance(deployment_id, bool) \
            and str(deployment_id).strip():
        return f"{path}#{str(deployment_id).strip()}"
    # GitLab before 13.x sent no deployment_id; the job that deployed identifies it.
    job_id = payload.get("deployable_id")
    if isinstance(job_id, int) and not isinstance(job_id, bool):
        return f"{path}#job-{job_id}"
    return None


def _required_str(parent: dict[str, Any], key: str, *, prefix: str = "") -> str:
    value = parent.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{prefix}{key}: is required (a non-empty string)",
                              field=f"{prefix}{key}")
    return value.strip()


def _optional_time(parent: dict[str, Any], key: str) -> datetime | None:
    value = parent.get(key)
    if value is None or value == "":
        return None
    return parse_timestamp(value, field=key)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
