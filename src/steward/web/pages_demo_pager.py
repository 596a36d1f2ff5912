"""The demo pager (``steward.demo.pager``): the demo's people are paged here.

``POST /demo/pager`` is a webhook receiver for the notifications Steward sends to the
demo's people; ``GET /demo/pager`` lists what arrived. Both answer 404 on a server
whose people have no contact method pointing at the pager.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from steward.db import Database
from steward.demo import pager
from steward.request.database import database
from steward.web.guard import PageError, WebRoute, require_viewer
from steward.web.render import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _in_use(db: Database) -> bool:
    with db.read_session() as session:
        return pager.in_use(session)


@router.post(pager.PATH)
async def pager_receive(request: Request) -> Response:
    if not await run_in_threadpool(_in_use, database(request)):
        raise PageError(404, "Not found", "this server has no demo pager")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise PageError(400, "Bad request", "the demo pager takes JSON") from exc
    pager.receive(body, request.headers.get("x-steward-event", ""))
    return Response(status_code=204)


@router.get(pager.PATH)
def pager_page(request: Request) -> Response:
    with database(request).read_session() as session:
        require_viewer(request, session)
        if not pager.in_use(session):
            raise PageError(404, "Not found", "this server has no demo pager")
    return render(request, "demo_pager.html",
                  {"pages": pager.received(), "kept": pager.KEPT})
