"""What both PagerDuty-shaped endpoints (``/v2/enqueue``, ``/v2/change/enqueue``) do
before their event is judged: read the JSON (repaired, as every ingest endpoint reads
events), answer PagerDuty's 400 when it cannot be read, and count the routing key."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from steward.api.throttle import ingest_wait, too_many_response
from steward.ingest import pagerduty_events
from steward.inputs import InputProblem, load_json


async def read_event(request: Request) -> tuple[Any, str | None] | Response:
    """``(event, routing key)``, or the answer to send instead: PagerDuty's 400 for a body
    that is not JSON, or its 429 when the key sends faster than it may."""
    try:
        event = load_json(await request.body(), repair=True)
    except orjson.JSONDecodeError:
        return invalid(["Event object is not valid JSON"])
    except InputProblem as exc:
        return invalid([f"Event object is {exc.message}"])
    key = event.get("routing_key") if isinstance(event, dict) else None
    if not isinstance(key, str) or not key:
        return event, None
    wait = await ingest_wait(request.scope, key)
    if wait is not None:
        return too_many_response(wait, "", body=pagerduty_events.throttled_response(wait))
    return event, key


def invalid(errors: list[str]) -> JSONResponse:
    """PagerDuty's 400 answer (the same for alert and change events)."""
    return JSONResponse(pagerduty_events.invalid_response(errors), status_code=400)
