"""The domain commands that every deployment source translates into.

Ingest modules (GitHub, GitLab, CDEvents, PagerDuty, the generic API, the
CLI) build a :class:`RecordDeployment` and hand it to
``steward.changes.service.record_deployment``; routing, dedup and change
records live there, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from steward.weburl import screen_links, screen_url

DEPLOYMENT_STATUSES = ("in_progress", "succeeded", "failed", "rolled_back")
CHANGE_MODELS = ("standard", "normal", "emergency")
CHANGE_STATES = ("new", "assess", "authorize", "scheduled", "implement", "review", "closed",
                 "rejected", "canceled")
CHANGE_OUTCOMES = ("successful", "successful_with_issues", "failed", "rolled_back")


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    committed_at: datetime | None  # timezone-aware UTC
    message: str = ""


@dataclass(frozen=True)
class RecordDeployment:
    environment: str
    status: str  # one of DEPLOYMENT_STATUSES
    service: str | None = None  # a Steward service name, when the source names one
    repository: str | None = None  # "owner/repo" slug, mapped through service annotations
    # The wire field naming the service or repository ("repository.full_name"), for
    # messages; empty: "service" or "repository".
    named_field: str = ""
    version: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    commits: tuple[CommitInfo, ...] = ()
    source: str = "api"  # api, github, gitlab, cdevents, pagerduty, cli
    # Identifies the same deployment across events of its source (GitHub deployment id,
    # GitLab deployment id, CDEvents subject id...); later events update it.
    external_id: str | None = None
    url: str | None = None
    description: str = ""
    author: str | None = None  # who started it, as the source names them
    rollback_of: int | None = None  # a Steward deployment id
    rollback_of_version: str | None = None  # or the version rolled back from
    # This deployment rolls back the one before it (CDEvents service.rolledback names the
    # version rolled back *to*); that previous deployment counts as rolled back.
    is_rollback: bool = False
    fixes_incident: int | None = None
    change_id: int | None = None
    links: dict[str, str] = field(default_factory=dict)  # {"pipeline": url, "pr": url}
    # A CI workflow run (name, file path) reported as finished: it is a deployment only
    # when it deploys (``steward.changes.deployment_routing.workflow_ignored`` decides).
    workflow: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        # A deployment is never refused for a bad link: a url or link that is not
        # http(s) is dropped, and its text kept in the description (steward.weburl).
        url, bad_url = screen_url(self.url)
        links, bad_links = screen_links(dict(self.links))
        refused = ([f"url {bad_url!r}"] if bad_url else []) + [
            f"links.{name} {value!r}" for name, value in bad_links.items()]
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "links", links)
        if refused:
            note = f"not linked, not http(s): {', '.join(refused)}"
            object.__setattr__(self, "description",
                               f"{self.description} ({note})" if self.description
                               else note[0].upper() + note[1:])
