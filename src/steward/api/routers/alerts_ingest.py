"""Alert ingestion: Alertmanager, PagerDuty Events v2, Grafana, CDEvents incidents, generic.

Each endpoint authenticates the integration key, translates its wire format
into RecordAlert commands with the matching ``steward.ingest`` module, and
records them in one transaction that commits before the answer is sent.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from steward.api.deps import bearer_token, database, json_body
from steward.api.group_commit import GroupCommitter
from steward.auth import integrations
from steward.errors import ValidationError
from steward.incidents.alerts import record_alerts
from steward.incidents.commands import RecordAlert
from steward.ingest import alertmanager, cdevents, generic_alert, grafana, pagerduty_events

router = APIRouter(tags=["ingest"])
MAX_BATCH = 10_000






def _record_all(request: Request, key: str | None, types: tuple[str, ...],
                commands: list[RecordAlert]) -> list[dict[str, Any]]:
    """Record the commands together, committed (with other requests' events) before the
    answer; retried once if a concurrent twin in another process won a unique key."""
    def work(session: Session) -> list[dict[str, Any]]:
        integration = integrations.by_key(session, key, types=types)
        return [_result(r) for r in record_alerts(session, integration, commands)]

    writer = alert_writer(request)
    try:
        return writer.submit(work)
    except IntegrityError:
        return writer.submit(work)


def alert_writer(request: Request) -> GroupCommitter:
    app = request.app
    writer = getattr(app.state, "alert_writer", None)
    if writer is None:
        writer = app.state.alert_writer = GroupCommitter(database(request))
    return writer  # type: ignore[no-any-return]


def _result(recorded: Any) -> dict[str, Any]:
    return {"alert_id": recorded.alert.id if recorded.alert else None,
            "created": recorded.created,
            "incident_id": recorded.incident.id if recorded.incident else None}


def _accepted(results: list[dict[str, Any]]) -> Response:
    return Response(orjson.dumps({"status": "accepted", "alerts": len(results),
                                  "results": results}),
                    status_code=202, media_type="application/json")


@router.post("/ingest/alertmanager", status_code=202)
async def ingest_alertmanager(request: Request) -> Response:
    """Alertmanager webhook (version 4), `Authorization: Bearer <integration key>`."""
    key = bearer_token(request)
    commands = alertmanager.translate(json_body(await request.body()))
    return _accepted(await run_in_threadpool(
        _record_all, request, key, ("alertmanager", "generic"), commands))


@router.post("/ingest/grafana", status_code=202)
async def ingest_grafana(request: Request) -> Response:
    """Grafana alerting webhook, `Authorization: Bearer <integration key>`."""
    key = bearer_token(request)
    commands = grafana.translate(json_body(await request.body()))
    return _accepted(await run_in_threadpool(
        _record_all, request, key, ("grafana", "generic"), commands))


@router.post("/v2/enqueue", status_code=202)
async def pagerduty_enqueue(request: Request) -> JSONResponse:
    """PagerDuty Events API v2: trigger, acknowledge, resolve; answered as PagerDuty does."""
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return JSONResponse(pagerduty_events.invalid_response(["Event object is not valid JSON"]),
                            status_code=400)
    errors = pagerduty_events.validate(body)
    if errors:
        return JSONResponse(pagerduty_events.invalid_response(errors), status_code=400)
    cmd = pagerduty_events.translate(body)

    def work() -> str | None:
        try:
            _record_all(request, body["routing_key"], ("pagerduty",), [cmd])
        except ValidationError as exc:
            return exc.message
        return None

    from steward.errors import AuthenticationFailed

    try:
        problem = await run_in_threadpool(work)
    except AuthenticationFailed:
        problem = "Invalid routing key"
    if problem:
        return JSONResponse(pagerduty_events.invalid_response([problem]), status_code=400)
    return JSONResponse(pagerduty_events.success_response(cmd.dedup_key), status_code=202)


@router.post("/api/v1/alerts", status_code=202, tags=["incidents"])
def post_alerts(body: generic_alert.AlertIn | Annotated[list[generic_alert.AlertIn],
                                                        Field(min_length=1, max_length=MAX_BATCH)],
                request: Request) -> Response:
    """Generic alerts, one or a list, `Authorization: Bearer <integration key>`."""
    items = body if isinstance(body, list) else [body]
    return _accepted(_record_all(request, bearer_token(request), (), [
        generic_alert.to_command(item) for item in items]))


def cdevents_incident(request: Request, key: str | None, headers: dict[str, str],
                      payload: Any) -> Response:
    """CDEvents incident.detected / incident.resolved, called by /ingest/cdevents."""
    cmd = cdevents.incident_to_alert(headers, payload)
    if cmd is None:
        return JSONResponse({"status": "ignored"}, status_code=200)
    return _accepted(_record_all(request, key, ("cdevents", "generic"), [cmd]))
