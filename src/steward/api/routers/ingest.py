"""Deployment webhooks: GitHub, GitLab, CDEvents and PagerDuty change events.

Each endpoint authenticates its sender, turns the wire format into the
domain's RecordDeployment with the matching ``steward.ingest`` module and
records it; a delivery already processed changes nothing. The event is
committed before the 2xx is sent.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from steward.api.deps import bearer_token, database, json_body
from steward.auth import integrations
from steward.auth.models import Integration
from steward.changes.commands import RecordDeployment
from steward.changes.deployments import deployment_out, record_deployment
from steward.changes.models import WebhookDelivery
from steward.errors import AuthenticationFailed, PermissionDenied, ValidationError
from steward.ingest import cdevents, github, gitlab, pagerduty_change

router = APIRouter(tags=["ingest"])






def _record(session: Session, integration: Integration, cmd: RecordDeployment,
            source: str, delivery: str | None) -> dict[str, Any]:
    """Record once per delivery; a redelivery answers what the first one did."""
    if delivery:
        seen = session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.source == source, WebhookDelivery.delivery_id == delivery))
        if seen is not None:
            return {**seen.result, "duplicate": True}
    actor = integrations.integration_actor(session, integration)
    recorded = record_deployment(session, actor, cmd, integration=integration)
    result = {"status": "recorded", "deployment": deployment_out(session, recorded.deployment),
              "created": recorded.created}
    if delivery:
        session.add(WebhookDelivery(source=source, delivery_id=delivery,
                                    result=orjson.loads(orjson.dumps(result))))
        session.flush()
    return result


def _store(request: Request, work: Any) -> Any:
    """Run in a write transaction; a concurrent duplicate delivery becomes a replay."""
    db = database(request)
    try:
        with db.session() as session:
            return work(session)
    except IntegrityError:
        with db.session() as session:
            return work(session)


def _answer(result: dict[str, Any] | None) -> JSONResponse:
    if result is None:
        return JSONResponse({"status": "ignored"}, status_code=200)
    status = 201 if result.get("created") and not result.get("duplicate") else 200
    return JSONResponse(orjson.loads(orjson.dumps(result)), status_code=status)


@router.post("/ingest/github")
async def ingest_github(request: Request) -> JSONResponse:
    """GitHub ``deployment`` and ``deployment_status`` webhooks (X-Hub-Signature-256)."""
    body = await request.body()
    signature = request.headers.get("x-hub-signature-256")
    event = request.headers.get("x-github-event")
    delivery = request.headers.get("x-github-delivery")

    def work(session: Session) -> dict[str, Any] | None:
        integration = next((row for row in integrations.active_of_type(session, "github")
                            if github.verify_signature(
                                integrations.derive_key(session, row).encode(), body, signature)),
                           None)
        if integration is None:
            raise AuthenticationFailed("X-Hub-Signature-256: missing or does not match any "
                                       "GitHub integration's secret")
        cmd = github.translate(event, json_body(body))
        return None if cmd is None else _record(session, integration, cmd, "github", delivery)

    return _answer(await run_in_threadpool(_store, request, work))


@router.post("/ingest/gitlab")
async def ingest_gitlab(request: Request) -> JSONResponse:
    """GitLab Deployment Hook (X-Gitlab-Token)."""
    body = await request.body()
    token = request.headers.get("x-gitlab-token")
    event = request.headers.get("x-gitlab-event", "")
    delivery = request.headers.get("x-gitlab-event-uuid") or request.headers.get(
        "idempotency-key")

    def work(session: Session) -> dict[str, Any] | None:
        integration = integrations.by_key(session, token, types=("gitlab",))
        if not gitlab.verify_token(integrations.derive_key(session, integration), token):
            raise AuthenticationFailed("X-Gitlab-Token: does not match")
        if event and event != "Deployment Hook":
            raise ValidationError(f"X-Gitlab-Event: {event!r} is not handled; send "
                                  "Deployment Hook events", field="X-Gitlab-Event")
        cmd = gitlab.translate(json_body(body))
        return None if cmd is None else _record(session, integration, cmd, "gitlab", delivery)

    return _answer(await run_in_threadpool(_store, request, work))


@router.post("/ingest/cdevents")
async def ingest_cdevents(request: Request) -> Response:
    """CDEvents service.deployed / upgraded / rolledback, CloudEvents binary or structured."""
    body = await request.body()
    headers = dict(request.headers)
    key = bearer_token(request)

    with database(request).read_session() as session:
        integrations.by_key(session, key, types=("cdevents", "generic"))
    payload = json_body(body)
    kind, _event = cdevents.read_event(headers, payload)
    if kind in cdevents.INCIDENT_KINDS:
        from steward.api.routers.alerts_ingest import cdevents_incident

        return await run_in_threadpool(cdevents_incident, request, key, headers, payload)

    def work(session: Session) -> dict[str, Any] | None:
        integration = integrations.by_key(session, key, types=("cdevents", "generic"))
        cmd = cdevents.translate(headers, payload)
        if cmd is None:
            return None
        return _record(session, integration, cmd, "cdevents", cmd.external_id)

    return _answer(await run_in_threadpool(_store, request, work))


@router.post("/v2/change/enqueue")
async def pagerduty_change_event(request: Request) -> JSONResponse:
    """PagerDuty Events API v2 change events, answered as PagerDuty answers."""
    body = await request.body()
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return JSONResponse(pagerduty_change.invalid_response(["Event object is not valid JSON"]),
                            status_code=400)
    errors = pagerduty_change.validate(payload)
    if errors:
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
