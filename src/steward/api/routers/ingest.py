"""Deployment webhooks: GitHub, GitLab, CDEvents and PagerDuty change events.

Each endpoint authenticates its sender, turns the wire format into the
domain's RecordDeployment with the matching ``steward.ingest`` module and
records it; a delivery already processed changes nothing. The event is
committed before the 2xx is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from steward.api import pagerduty
from steward.api.deps import (
    BY_INTEGRATION_KEY,
    GITHUB_SIGNATURE,
    GITLAB_TOKEN,
    bearer_token,
    database,
    json_body,
)
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.api.throttle import ingest_wait_sync
from steward.auth.use_cases import integrations
from steward.changes.commands import RecordDeployment
from steward.changes.use_cases.webhook_deliveries import NotDeployed, record_delivery
from steward.db import Session
from steward.db.conflicts import once_more_on_conflict
from steward.errors import AuthenticationFailed, PermissionDenied, Throttled, ValidationError
from steward.incidents.schemas import AlertsAccepted
from steward.ingest import cdevents, github, gitlab, pagerduty_change
from steward.ingest.schemas import (
    DeploymentWebhookOut,
    IgnoredOut,
    PagerDutyChangeAccepted,
    PagerDutyInvalid,
    PagerDutyThrottled,
)
from steward.ingest.wire import Ignored

router = api_router(tags=["ingest"])

# The routes answer with their own Response; these describe the answers.
RECORDED: dict[int | str, dict[str, Any]] = {
    200: {"model": DeploymentWebhookOut | IgnoredOut,
          "description": "Recorded before (a redelivery: the first answer), or ignored."},
    **error_responses(401, 413, 422, 429)}


def _record(session: Session, integration: Any, cmd: RecordDeployment | Ignored, source: str,
            delivery: str | None) -> dict[str, Any] | Ignored:
    """Record once per delivery; a redelivery answers what the first one did."""
    if isinstance(cmd, Ignored):
        return cmd
    result = record_delivery(session, integration, cmd, source=source, delivery=delivery)
    return Ignored(result.reason) if isinstance(result, NotDeployed) else result


def _store(request: Request, work: Callable[[Session], Any]) -> Any:
    """Run in a write transaction; a concurrent duplicate delivery becomes a replay."""
    db = database(request)

    def attempt() -> Any:
        with db.session() as session:
            return work(session)

    return once_more_on_conflict(attempt)


def _answer(result: dict[str, Any] | Ignored | None) -> JSONResponse:
    if result is None:
        result = Ignored("this event records nothing")
    if isinstance(result, Ignored):
        return JSONResponse({"status": "ignored", "ignored": result.reason}, status_code=200)
    status = 201 if result.get("created") and not result.get("duplicate") else 200
    return JSONResponse(orjson.loads(orjson.dumps(result)), status_code=status)


def _count(request: Request, key: str) -> None:
    """Count one request for its integration key; raises 429 past the ingest rate."""
    wait = ingest_wait_sync(request.scope, key)
    if wait is not None:
        raise Throttled(f"too many requests with this integration key: retry in {wait} s",
                        retry_after=wait)


def _known_key(request: Request, key: str, types: tuple[str, ...]) -> bool:
    with database(request).read_session() as session:
        try:
            integrations.by_key(session, key, types=types)
        except AuthenticationFailed:
            return False
    return True


@router.post("/ingest/github", status_code=201, response_model=DeploymentWebhookOut,
             responses=RECORDED, dependencies=[Security(GITHUB_SIGNATURE)])
async def ingest_github(request: Request) -> JSONResponse:
    """GitHub ``deployment`` and ``deployment_status`` webhooks (X-Hub-Signature-256)."""
    body = await request.body()
    signature = request.headers.get("x-hub-signature-256")
    event = request.headers.get("x-github-event")
    delivery = request.headers.get("x-github-delivery")

    def work(session: Session) -> dict[str, Any] | Ignored:
        integration = next((row for row, secret in integrations.webhook_secrets(session, "github")
                            if github.verify_signature(secret.encode(), body, signature)), None)
        if integration is None:
            raise AuthenticationFailed("X-Hub-Signature-256: missing or does not match any "
                                       "GitHub integration's secret")
        _count(request, f"integration:{integration.id}")
        return _record(session, integration, github.translate(event, json_body(body)),
                       "github", delivery)

    return _answer(await run_in_threadpool(_store, request, work))


@router.post("/ingest/gitlab", status_code=201, response_model=DeploymentWebhookOut,
             responses=RECORDED, dependencies=[Security(GITLAB_TOKEN)])
async def ingest_gitlab(request: Request) -> JSONResponse:
    """GitLab Deployment Hook (X-Gitlab-Token)."""
    body = await request.body()
    token = request.headers.get("x-gitlab-token")
    event = request.headers.get("x-gitlab-event", "")
    delivery = request.headers.get("x-gitlab-event-uuid") or request.headers.get(
        "idempotency-key")

    if not token:
        raise AuthenticationFailed("X-Gitlab-Token: missing")
    _count(request, token)

    def work(session: Session) -> dict[str, Any] | Ignored:
        # GitLab sends the token itself: it is recognised by its hash, like a bearer key.
        integration = integrations.by_key(session, token, types=("gitlab",))
        return _record(session, integration, gitlab.translate(json_body(body), event),
                       "gitlab", delivery)

    return _answer(await run_in_threadpool(_store, request, work))


@router.post("/ingest/cdevents", status_code=201, response_model=DeploymentWebhookOut,
             dependencies=[BY_INTEGRATION_KEY], responses={
                 **RECORDED, 202: {"model": AlertsAccepted,
                                   "description": "An incident event, recorded as an alert."}})
async def ingest_cdevents(request: Request) -> Response:
    """CDEvents service.deployed / upgraded / rolledback, CloudEvents binary or structured."""
    body = await request.body()
    headers = dict(request.headers)
    key = bearer_token(request)
    if not key:
        raise AuthenticationFailed("missing integration key: send Authorization: Bearer <key>")
    _count(request, key)
    with database(request).read_session() as session:
        integrations.by_key(session, key, types=("cdevents", "generic"))
    payload = json_body(body)
    kind, _event = cdevents.read_event(headers, payload)
    if kind in cdevents.INCIDENT_KINDS:
        from steward.api.routers.alerts_ingest import cdevents_incident

        return await run_in_threadpool(cdevents_incident, request, key, headers, payload)

    def work(session: Session) -> dict[str, Any] | Ignored:
        integration = integrations.by_key(session, key, types=("cdevents", "generic"))
        cmd = cdevents.translate(headers, payload)
        if cmd is None:
            return Ignored(f"CDEvents {kind!r} records nothing; Steward records "
                           "service.deployed, service.upgraded, service.rolledback and "
                           "incident events")
        return _record(session, integration, cmd, "cdevents", cmd.external_id)

    return _answer(await run_in_threadpool(_store, request, work))


@router.post("/v2/change/enqueue", status_code=202, response_model=PagerDutyChangeAccepted,
             responses={400: {"model": PagerDutyInvalid,
                              "description": "The event is invalid or its routing key unknown "
                                             "(PagerDuty's answer)."},
                        429: {"model": PagerDutyThrottled,
                              "description": "Too many events with this routing key "
                                             "(PagerDuty's answer, with Retry-After)."},
                        **error_responses(413)})
async def pagerduty_change_event(request: Request) -> Response:
    """PagerDuty Events API v2 change events, answered as PagerDuty answers."""
    read = await pagerduty.read_event(request)
    if isinstance(read, Response):
        return read
    payload, key = read
    errors = pagerduty_change.validate(payload)
    if errors:
        if key and not await run_in_threadpool(_known_key, request, key, ("pagerduty",)):
            errors = ["Invalid routing key"]  # an unknown key is the first thing said
        return JSONResponse(pagerduty_change.invalid_response(errors), status_code=400)

    def work(session: Session) -> dict[str, Any]:
        try:
            integration = integrations.by_key(session, payload["routing_key"],
                                              types=("pagerduty",))
        except AuthenticationFailed:
            return {"invalid": ["Invalid routing key"]}
        cmd = pagerduty_change.translate(payload)
        _record(session, integration, cmd, "pagerduty", cmd.external_id)
        return {}

    try:
        result = await run_in_threadpool(_store, request, work)
    except (ValidationError, PermissionDenied) as exc:  # a refused service, as PagerDuty answers
        result = {"invalid": [exc.message]}
    if result.get("invalid"):
        return JSONResponse(pagerduty_change.invalid_response(result["invalid"]),
                            status_code=400)
    return JSONResponse({"status": "success", "message": "Change event processed"},
                        status_code=202)
