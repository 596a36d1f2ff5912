"""Alert ingestion: Alertmanager, PagerDuty Events v2, Grafana, CDEvents incidents, generic.

Each endpoint authenticates the integration key, translates its wire format
into RecordAlert commands with the matching ``steward.ingest`` module, and
records them in one transaction that commits before the answer is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from steward.api import pagerduty
from steward.api.deps import BY_INTEGRATION_KEY, bearer_token, database, json_body
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.api.openapi import json_body_schema
from steward.api.throttle import ingest_wait, send_answer, too_many_requests, too_many_response
from steward.auth.use_cases import integrations
from steward.errors import AuthenticationFailed, StewardError
from steward.incidents.commands import RecordAlert
from steward.incidents.schemas import AlertsAccepted
from steward.incidents.use_cases.alert_writer import AlertWriter
from steward.ingest import alertmanager, cdevents, generic_alert, grafana, pagerduty_events
from steward.ingest.schemas import PagerDutyEventAccepted, PagerDutyInvalid, PagerDutyThrottled
from steward.ingest.wire import Refusal, UnreadableTime, refuse_batch
from steward.inputs import InputProblem, load_json
from steward.request.validation import DEPTH_ERROR

router = api_router(tags=["ingest"])
T = TypeVar("T")
MAX_BATCH = 10_000


def _record_all(request: Request, key: str | None, types: tuple[str, ...],
                commands: list[RecordAlert]) -> list[dict[str, Any]]:
    """Record the commands with the application's alert writer (``AlertWriter.record``)."""
    return alert_writer(request).record(key, types, commands)


async def _record_all_async(request: Request, key: str | None, types: tuple[str, ...],
                            commands: list[RecordAlert]) -> list[dict[str, Any]]:
    """:func:`_record_all` waiting on the event loop rather than in a worker thread."""
    return await alert_writer(request).record_async(key, types, commands,
                                                    _sender(request.scope))


def _sender(scope: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The client connection a request came on (host, port), for the writer's grouping."""
    client = scope.get("client")
    return tuple(client) if client else None


def alert_writer(request: Request) -> AlertWriter:
    """The application's alert writer, made at its first alert."""
    app = request.app
    writer = getattr(app.state, "alert_writer", None)
    if writer is None:
        writer = app.state.alert_writer = AlertWriter(database(request))
    return writer


def _accepted(results: list[dict[str, Any]], refused: Sequence[Refusal] = ()) -> Response:
    return Response(_accepted_body(results, refused), status_code=202,
                    media_type="application/json")


def _accepted_body(results: list[dict[str, Any]], refused: Sequence[Refusal]) -> bytes:
    """The 202 answer: the alerts recorded, and the events of the batch refused one by one
    (a time that does not parse), by their place in what was sent."""
    return orjson.dumps({"status": "accepted", "alerts": len(results), "results": results,
                         "refused": [r.to_dict() for r in refused]})


# The routes answer with their own Response (never through FastAPI's response model
# checks); ``response_model`` and ``responses`` describe those answers.
WEBHOOK_ALERTS: dict[str, Any] = {"status_code": 202, "response_model": AlertsAccepted,
                                  "dependencies": [BY_INTEGRATION_KEY],
                                  "responses": error_responses(400, 401, 413, 422, 429)}


def _required_key(request: Request) -> str:
    key = bearer_token(request)
    if not key:
        raise AuthenticationFailed("missing integration key: send Authorization: Bearer <key>")
    return key


async def _authenticate(request: Request, key: str | None, types: tuple[str, ...]) -> None:
    """Raises the 401 an unknown or revoked key gets. Called only when a body was refused:
    an accepted body is authenticated by the alert writer with no query of its own, and
    a refused one must not tell a sender without a valid key what was wrong with it."""
    def check() -> None:
        with database(request).read_session() as session:
            integrations.key_holder(session, key, types=types)

    await run_in_threadpool(check)


async def _translated(request: Request, key: str, types: tuple[str, ...],
                      translate: Callable[[Any], T]) -> T:
    """The body's commands; a refused body is answered 401 first when the key is not valid."""
    try:
        return translate(json_body(await request.body()))
    except (StewardError, RequestValidationError, PydanticValidationError):
        await _authenticate(request, key, types)
        raise


# Alertmanager's webhook notifier retries 5xx answers only (a 429 would be dropped for
# good), so a throttled Alertmanager is told 503 with Retry-After.
ALERTMANAGER_RETRY_STATUS = 503


@router.post("/ingest/alertmanager", **{**WEBHOOK_ALERTS, "responses": {
    **WEBHOOK_ALERTS["responses"], **error_responses(503)}})
async def ingest_alertmanager(request: Request) -> Response:
    """Alertmanager webhook (version 4), `Authorization: Bearer <integration key>`."""
    key = _required_key(request)
    wait = await ingest_wait(request.scope, key)
    if wait is not None:
        return too_many_response(wait, _throttled_message(wait),
                                 status=ALERTMANAGER_RETRY_STATUS)
    types = ("alertmanager", "generic")
    commands, refused = await _translated(request, key, types, alertmanager.translate_group)
    return await _record_batch(request, key, types, commands, refused)


async def _record_batch(request: Request, key: str, types: tuple[str, ...],
                        commands: list[RecordAlert], refused: list[Refusal]) -> Response:
    """A batch's commands recorded, the events refused one by one listed in the answer; a
    batch whose every event was refused is answered 400 (after the key is checked)."""
    if refused and not commands:
        await _authenticate(request, key, types)
        raise refuse_batch(refused)
    return _accepted(await _record_all_async(request, key, types, commands), refused)


def _throttled_message(wait: int) -> str:
    return f"too many requests with this integration key: retry in {wait} s"


@router.post("/ingest/grafana", **WEBHOOK_ALERTS)
async def ingest_grafana(request: Request) -> Response:
    """Grafana alerting webhook, `Authorization: Bearer <integration key>`."""
    key = _required_key(request)
    wait = await ingest_wait(request.scope, key)
    if wait is not None:
        return too_many_response(wait, _throttled_message(wait))
    types = ("grafana", "generic")
    commands, refused = await _translated(request, key, types, grafana.translate_group)
    return await _record_batch(request, key, types, commands, refused)


@router.post("/v2/enqueue", status_code=202, response_model=PagerDutyEventAccepted,
             responses={400: {"model": PagerDutyInvalid,
                              "description": "The event is invalid or its routing key unknown "
                                             "(PagerDuty's answer)."},
                        429: {"model": PagerDutyThrottled,
                              "description": "Too many events with this routing key "
                                             "(PagerDuty's answer, with Retry-After)."},
                        **error_responses(413)})
async def pagerduty_enqueue(request: Request) -> Response:
    """PagerDuty Events API v2: trigger, acknowledge, resolve; answered as PagerDuty does."""
    read = await pagerduty.read_event(request)
    if isinstance(read, Response):
        return read
    body, key = read
    errors = pagerduty_events.validate(body)
    if errors:
        if key:  # an unknown key is the first thing said
            try:
                await _authenticate(request, key, ("pagerduty",))
            except AuthenticationFailed:
                errors = ["Invalid routing key"]
        return JSONResponse(pagerduty_events.invalid_response(errors), status_code=400)
    cmd = pagerduty_events.translate(body)

    problem = None
    try:
        await _record_all_async(request, body["routing_key"], ("pagerduty",), [cmd])
    except AuthenticationFailed:
        problem = "Invalid routing key"
    except StewardError as exc:  # a refused service (422 or 403), as PagerDuty answers
        problem = exc.message
    if problem:
        return JSONResponse(pagerduty_events.invalid_response([problem]), status_code=400)
    return JSONResponse(pagerduty_events.success_response(cmd.dedup_key), status_code=202)


AlertsBody = (generic_alert.AlertIn
              | Annotated[list[generic_alert.AlertIn], Field(min_length=1, max_length=MAX_BATCH)])
ALERTS_BODY: TypeAdapter[Any] = TypeAdapter(AlertsBody)


def read_alerts(raw: bytes) -> tuple[list[generic_alert.AlertIn], list[Refusal]]:
    """The alerts of a JSON body (one or a list), and those of a list refused one by one
    (an ``occurred_at`` that does not parse). One alert whose time does not parse is
    refused 400 naming the field; any other problem raises as :func:`alerts_body` does."""
    try:
        body = alerts_body(raw)
    except PydanticValidationError as exc:
        return _refusing_times(raw, exc)
    return (body if isinstance(body, list) else [body]), []


def _refusing_times(raw: bytes, exc: PydanticValidationError,
                    ) -> tuple[list[generic_alert.AlertIn], list[Refusal]]:
    try:
        data = load_json(raw, repair=True)
    except (InputProblem, ValueError):
        raise exc from None
    single = isinstance(data, dict)
    if single or (isinstance(data, list) and 1 <= len(data) <= MAX_BATCH):
        split = generic_alert.read_batch([data] if single else data)
        if split is not None:
            alerts, refused = split
            if single and refused:
                message = refused[0].message
                raise UnreadableTime(f"occurred_at: {message}", field="occurred_at")
            if refused and not alerts:
                raise refuse_batch(refused)
            return alerts, refused
    raise exc


def alerts_body(raw: bytes) -> Any:
    """The alerts of a JSON body. Alerts from monitoring are never refused for their text:
    NUL is dropped and lone surrogates replaced (``steward.inputs``). The common body
    (neither, checked in the bytes) is validated straight from JSON; a body the JSON
    reader refuses is read again, repaired, in case a lone surrogate was the reason."""
    if b"\\u0000" not in raw:
        try:
            return ALERTS_BODY.validate_json(raw)
        except PydanticValidationError as exc:
            if not any(e["type"] == "json_invalid" for e in exc.errors()):
                raise
    return ALERTS_BODY.validate_python(load_json(raw, repair=True))


def _is_json(content_type: str) -> bool:
    kind = content_type.partition(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/")
                                          and kind.endswith("+json"))


@router.post("/api/v1/alerts", tags=["incidents"], status_code=202,
             response_model=AlertsAccepted, dependencies=[BY_INTEGRATION_KEY],
             responses=error_responses(400, 401, 413, 422),
             openapi_extra=json_body_schema(ALERTS_BODY, description=(
                 f"One alert, or a list of 1 to {MAX_BATCH}")))
async def post_alerts(request: Request) -> Response:
    """Generic alerts, one or a list, `Authorization: Bearer <integration key>`.

    The body is validated here rather than by FastAPI's body machinery (the same
    models, the same 422 answers): this is the hottest route of the server."""
    key = _required_key(request)
    wait = await ingest_wait(request.scope, key)
    if wait is not None:
        return too_many_response(wait, _throttled_message(wait))
    raw = await request.body()
    refused: list[Refusal] = []
    try:
        if not raw:
            raise RequestValidationError([{"type": "missing", "loc": ("body",),
                                           "msg": "Field required", "input": None}])
        if _is_json(request.headers.get("content-type", "")):
            items, refused = read_alerts(raw)
        else:  # as FastAPI does: a body not declared JSON is not parsed, so it is refused
            body = ALERTS_BODY.validate_python(raw)
            items = body if isinstance(body, list) else [body]
    except UnreadableTime:
        await _authenticate(request, key, ())
        raise
    except PydanticValidationError as exc:
        await _authenticate(request, key, ())
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in exc.errors()]) from None
    except InputProblem as exc:  # the only kind left after repair: too deep
        await _authenticate(request, key, ())
        raise RequestValidationError([{"type": DEPTH_ERROR, "loc": ("body",),
                                       "msg": exc.message, "input": None}]) from None
    except json.JSONDecodeError as exc:
        await _authenticate(request, key, ())
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",),
                                       "msg": "JSON decode error", "input": None,
                                       "ctx": {"error": str(exc)}}]) from None
    except RequestValidationError:
        await _authenticate(request, key, ())
        raise
    return _accepted(await _record_all_async(request, key, (), [
        generic_alert.to_command(item) for item in items]), refused)


class FastAlerts:
    """POST /api/v1/alerts without the framework's routing, dependencies and middleware.

    ASGI middleware in front of the application (inside the body size limit): a request
    that is JSON, validates and is recorded is answered here, 202, after its commit, as
    :func:`post_alerts` answers it. Anything else (not JSON, invalid, a refused key or
    service, a lost race on a unique key) goes on to :func:`post_alerts` with the body
    it sent, which gives the usual answer; nothing was written for it here. The route
    stays the one described in the OpenAPI document."""

    PATH = "/api/v1/alerts"

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (scope["type"] != "http" or scope["path"] != self.PATH
                or scope["method"] != "POST"):
            await self.app(scope, receive, send)
            return
        key, json_type = None, False
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    key = token.strip()
            elif name == b"content-type":
                json_type = _is_json(value.decode("latin-1"))
        if key is None:  # the route answers 401
            await self.app(scope, receive, send)
            return
        wait = await ingest_wait(scope, key)
        if wait is not None:
            await send_answer(send, too_many_requests(wait, _throttled_message(wait)))
            return
        chunks, message = [], await receive()
        while message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
            message = await receive()
        else:  # the client went away: let the application see it
            await self.app(scope, _replay(b"".join(chunks), receive, message), send)
            return
        raw = b"".join(chunks)
        answer = await self._record(scope, raw, key) if json_type and raw else None
        if answer is None:
            await self.app(scope, _replay(raw, receive, None), send)
            return
        await send({"type": "http.response.start", "status": 202, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})

    async def _record(self, scope: dict[str, Any], raw: bytes, key: str | None) -> bytes | None:
        try:
            items, refused = read_alerts(raw)
            commands = [generic_alert.to_command(item) for item in items]
            writer = alert_writer(Request(scope))
            results = await writer.record_once_async(key, (), commands, _sender(scope))
        except Exception:  # noqa: BLE001 - the route answers it, with its usual error
            return None
        return _accepted_body(results, refused)


def _replay(body: bytes, receive: Any, last: dict[str, Any] | None) -> Any:
    """A ``receive`` handing the body already read (and the message that ended it, if it
    was not the body's end), then what the client sends next."""
    pending = [{"type": "http.request", "body": body, "more_body": last is not None}]
    if last is not None:
        pending.append(last)

    async def replayed() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def cdevents_incident(request: Request, key: str | None, headers: dict[str, str],
                      payload: Any) -> Response:
    """CDEvents incident.detected / incident.resolved, called by /ingest/cdevents."""
    cmd = cdevents.incident_to_alert(headers, payload)
    if cmd is None:
        return JSONResponse({"status": "ignored"}, status_code=200)
    return _accepted(_record_all(request, key, ("cdevents", "generic"), [cmd]))
