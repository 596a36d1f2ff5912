"""Refuse request bodies over the configured size with 413, streaming or not."""

from __future__ import annotations

from typing import Any

import orjson

# Routes that take a whole export as their body get more room than the general limit.
ROUTE_LIMITS = {
    "/api/v1/imports/servicenow": 100 * 1024 * 1024,
    "/imports/servicenow": 100 * 1024 * 1024,
    "/api/v1/catalog/import": 100 * 1024 * 1024,  # a repository archive
    "/imports/backstage": 100 * 1024 * 1024,
}


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = max(self.max_bytes, ROUTE_LIMITS.get(scope.get("path", ""), 0))
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(send, max_bytes)
                    return
        seen = 0
        started = refused = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen, refused
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    # A body sent without Content-Length (chunked) is refused the moment it
                    # passes the limit, before the application can turn the error into
                    # an answer of its own (a 400 for a body it could not parse).
                    if not started and not refused:
                        refused = True
                        await self._refuse(send, max_bytes)
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Any, max_bytes: int) -> None:
        body = orjson.dumps({"error": f"request body is larger than {max_bytes} bytes"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
