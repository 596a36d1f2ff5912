"""GitHub ``deployment``, ``deployment_status`` and ``workflow_run`` webhooks ->
``RecordDeployment``.

GitHub sends the event name in ``X-GitHub-Event`` and signs the raw body with
the webhook secret in ``X-Hub-Signature-256: sha256=<hex>``. A deployment's
events share ``deployment.id``, so ``external_id`` is ``"<owner>/<repo>#<id>"``
and each status updates the same deployment. GitHub's deployment payloads
carry no commit list: the commits come from ``steward deploy record``.

A completed ``workflow_run`` becomes a candidate deployment of its head commit
(``external_id`` ``"<owner>/<repo>#run-<id>-<attempt>"``); whether the workflow
deploys is the domain's decision. Every other event a repository or
organisation hook sends (``ping``, ``push``, ...) is :class:`Ignored`.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from steward.changes.commands import CommitInfo, RecordDeployment
from steward.errors import ValidationError
from steward.ingest.wire import Ignored, object_at, required_str
from steward.timeutil import parse_timestamp

RECORDED_EVENTS = ("deployment", "deployment_status", "workflow_run")

# GitHub documents error, failure, inactive, in_progress, queued, pending and
# success; "inactive" marks a deployment superseded by a newer one on the same
# environment, which changes nothing we record, so it is acknowledged only.
STATE_TO_STATUS: dict[str, str | None] = {
    "success": "succeeded",
    "failure": "failed",
    "error": "failed",
    "in_progress": "in_progress",
    "queued": "in_progress",
    "pending": "in_progress",
    "inactive": None,
}
TERMINAL = {"succeeded", "failed"}
# A completed run's conclusion; the others (cancelled, skipped, neutral, stale,
# action_required) deployed nothing.
CONCLUSION_TO_STATUS = {"success": "succeeded", "failure": "failed", "timed_out": "failed",
                        "startup_failure": "failed"}


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """Check ``X-Hub-Signature-256`` against the raw body, in constant time."""
    if not header or not secret:
        return False
    algorithm, _, given = header.strip().partition("=")
    given = given.strip().lower()
    if algorithm.strip().lower() != "sha256" or len(given) != 64 \
            or any(c not in "0123456789abcdef" for c in given):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


def translate(event: str | None, payload: dict[str, Any]) -> RecordDeployment | Ignored:
    """Translate one webhook delivery."""
    name = (event or "").strip().lower()
    if not name:
        raise ValidationError("X-GitHub-Event: is required (the webhook's event name)",
                              field="X-GitHub-Event")
    if name not in RECORDED_EVENTS:
        return Ignored(f"GitHub {name!r} events record nothing; Steward records "
                       + ", ".join(RECORDED_EVENTS))
    if not isinstance(payload, dict):
        raise ValidationError("body: expected a JSON object", field="body")
    if name == "workflow_run":
        return _workflow_run(payload)
    deployment = object_at(payload, "deployment")
    repository = required_str(object_at(payload, "repository"), "repository.full_name")
    deployment_id = deployment.get("id")
    if isinstance(deployment_id, bool) or not isinstance(deployment_id, int | str) \
            or str(deployment_id).strip() == "":
        raise ValidationError("deployment.id: is required", field="deployment.id")
    environment = required_str(deployment, "deployment.environment")
    started_at = _optional_time(deployment, "deployment.created_at")

    if name == "deployment":
        status: str = "in_progress"
        finished_at: datetime | None = None
        status_obj: dict[str, Any] = {}
    else:
        status_obj = object_at(payload, "deployment_status")
        state = required_str(status_obj, "deployment_status.state").lower()
        if state not in STATE_TO_STATUS:
            raise ValidationError(
                f"deployment_status.state: {state!r} is not a GitHub deployment state "
                f"(expected one of {', '.join(STATE_TO_STATUS)})",
                field="deployment_status.state")
        mapped = STATE_TO_STATUS[state]
        if mapped is None:
            return Ignored(f"deployment_status {state!r}: a superseded deployment changes "
                           "nothing recorded")
        status = mapped
        finished_at = None
        # A deployment may wait (for its approval, at the gate) between being created and
        # running: an in_progress status says when it began; the other statuses leave the
        # start already recorded as it is.
        started_at = (_optional_time(status_obj, "deployment_status.created_at")
                      if state == "in_progress" else None)
        if status in TERMINAL:
            finished_at = (_optional_time(status_obj, "deployment_status.updated_at")
                           or _optional_time(status_obj, "deployment_status.created_at"))

    url = _first_text(status_obj.get("target_url"), status_obj.get("log_url"),
                      status_obj.get("environment_url"))
    links: dict[str, str] = {}
    workflow_run = payload.get("workflow_run")
    if isinstance(workflow_run, dict) and _first_text(workflow_run.get("html_url")):
        links["pipeline"] = str(workflow_run["html_url"]).strip()
    if _first_text(status_obj.get("log_url")):
        links["log"] = str(status_obj["log_url"]).strip()
    if _first_text(status_obj.get("environment_url")):
        links["environment"] = str(status_obj["environment_url"]).strip()

    return RecordDeployment(
        environment=environment,
        status=status,
        repository=repository,
        named_field="repository.full_name",
        version=_version(deployment),
        started_at=started_at,
        finished_at=finished_at,
        source="github",
        external_id=f"{repository}#{str(deployment_id).strip()}",
        url=url,
        description=_first_text(deployment.get("description"),
                                status_obj.get("description")) or "",
        author=_login(deployment.get("creator")) or _login(payload.get("sender")),
        links=links,
    )


def _workflow_run(payload: dict[str, Any]) -> RecordDeployment | Ignored:
    """A finished workflow run, as the deployment it may be."""
    action = payload.get("action")
    run = object_at(payload, "workflow_run")
    if action != "completed":
        return Ignored(f"workflow_run {action!r}: only a completed run can be a deployment")
    conclusion = run.get("conclusion")
    status = CONCLUSION_TO_STATUS.get(conclusion) if isinstance(conclusion, str) else None
    if status is None:
        return Ignored(f"workflow_run concluded {conclusion!r}: nothing was deployed")
    repository = required_str(object_at(payload, "repository"), "repository.full_name")
    run_id = run.get("id")
    if isinstance(run_id, bool) or not isinstance(run_id, int):
        raise ValidationError("workflow_run.id: is required (an integer)",
                              field="workflow_run.id")
    attempt = run.get("run_attempt") if isinstance(run.get("run_attempt"), int) else 1
    workflow = payload.get("workflow")
    if not isinstance(workflow, dict):
        workflow = {}
    name = _first_text(run.get("name"), workflow.get("name")) or ""
    path = _first_text(run.get("path"), workflow.get("path")) or ""
    sha = _first_text(run.get("head_sha"))
    commits: tuple[CommitInfo, ...] = ()
    head = run.get("head_commit")
    if isinstance(head, dict) and _first_text(head.get("id")):
        commits = (CommitInfo(sha=str(head["id"]).strip(),
                              committed_at=_optional_time(head, "workflow_run.head_commit."
                                                                "timestamp"),
                              message=_first_text(head.get("message")) or ""),)
    links = {"pipeline": str(run["html_url"]).strip()} if _first_text(run.get("html_url")) \
        else {}
    return RecordDeployment(
        environment=WORKFLOW_ENVIRONMENT,
        status=status,
        repository=repository,
        version=sha[:12] if sha else _first_text(run.get("head_branch")),
        started_at=_optional_time(run, "workflow_run.run_started_at"),
        finished_at=_optional_time(run, "workflow_run.updated_at"),
        commits=commits,
        source="github",
        external_id=f"{repository}#run-{run_id}-{attempt}",
        url=_first_text(run.get("html_url")),
        description=_first_text(run.get("display_title"), name) or "",
        author=_login(run.get("actor")) or _login(payload.get("sender")),
        links=links,
        workflow=(name, path),
    )


# Workflow runs do not say where they deployed: a deploying workflow deploys production.
WORKFLOW_ENVIRONMENT = "production"


def _version(deployment: dict[str, Any]) -> str | None:
    sha = deployment.get("sha")
    if isinstance(sha, str) and sha.strip():
        return sha.strip()[:12]
    return _first_text(deployment.get("ref"))


def _optional_time(parent: dict[str, Any], path: str) -> datetime | None:
    value = parent.get(path.rsplit(".", 1)[-1])
    if value is None or value == "":
        return None
    return parse_timestamp(value, field=path)


def _first_text(*values: object) -> str | None:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _login(user: object) -> str | None:
    return _first_text(user.get("login")) if isinstance(user, dict) else None
