"""Request rates per credential, counted with the ``limits`` library.

Two rates are kept: events sent with one integration key (the ingest
endpoints) and requests made with one API token or web session (the API and
the pages). Each is a list of fixed windows ("100/second;3000/minute"): a
request over any window is refused with the seconds until that window ends.

The counters live in this process's memory (``memory://``, the default) or in
Redis (``redis://host:port/db``) when several servers share the load and must
share their counts. Counting is cheap on purpose: no database query, and the
credential's SHA-256 (never the credential itself) is computed once per
credential and kept in a small cache. When Redis does not answer, requests go
through (and the failure is logged once a minute): an unreachable counter must
not stop alerts.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import MutableMapping
from typing import Any

import anyio.to_thread
import orjson
from limits import RateLimitItem, parse_many, storage
from limits.errors import ConfigurationError, StorageError
from starlette.responses import Response

log = logging.getLogger("steward.throttle")

KEY_PREFIX = "steward"
_CACHE_SIZE = 10_000


class RateLimitSpecError(ValueError):
    """A rate setting that is not in the ``limits`` notation."""


def parse_rates(name: str, spec: str) -> list[RateLimitItem]:
    """``"100/second;3000/minute"`` as limit items; empty or ``off`` means none."""
    spec = spec.strip()
    if not spec or spec.lower() in {"off", "none", "0"}:
        return []
    try:
        return list(parse_many(spec))
    except ValueError as exc:
        raise RateLimitSpecError(
            f"{name}: {spec!r} is not a rate such as '100/second;3000/minute'") from exc


class RateLimit:
    """One rate (several windows) for one kind of credential, in one storage."""

    def __init__(self, name: str, spec: str, storage_uri: str = "memory://", *,
                 key_prefix: str = KEY_PREFIX):
        self.name = name
        self.items = parse_rates(name, spec)
        self.storage_uri = storage_uri
        self._keys: dict[str, list[tuple[RateLimitItem, str, int]]] = {}
        self._failed_at = 0.0
        self.in_memory = storage_uri.startswith("memory")
        options: dict[str, Any] = {} if self.in_memory else {
            "wrap_exceptions": True, "key_prefix": key_prefix}
        found = storage.storage_from_string(storage_uri, **options)
        if not isinstance(found, storage.Storage):
            # Counting happens in worker threads, never awaited: an async+ scheme's
            # counters would answer coroutines.
            raise ConfigurationError(f"rate limit storage {storage_uri.split('@')[-1]!r} "
                                     "is asynchronous: use its synchronous scheme")
        self._storage = found

    @property
    def enabled(self) -> bool:
        return bool(self.items)

    def _windows(self, credential: str) -> list[tuple[RateLimitItem, str, int]]:
        """The credential's counter keys, one a window: built once (the credential's
        SHA-256 names them), then only looked up."""
        windows = self._keys.get(credential)
        if windows is None:
            if len(self._keys) >= _CACHE_SIZE:
                self._keys.clear()
            ident = hashlib.sha256(credential.encode()).hexdigest()[:32]
            windows = self._keys[credential] = [
                (item, item.key_for(self.name, ident), item.get_expiry()) for item in self.items]
        return windows

    def hit(self, credential: str) -> int | None:
        """Count one request; None when it may go on, else the seconds to wait.

        A fixed window per item, as ``limits``' FixedWindowRateLimiter counts it, with
        the keys it would build kept rather than rebuilt on every request."""
        if not self.items:
            return None
        try:
            for item, key, expiry in self._windows(credential):
                if self._storage.incr(key, expiry) > item.amount:
                    return _seconds_until(self._storage.get_expiry(key))
        except (StorageError, OSError) as exc:
            self._storage_failed(exc)
        return None

    async def hit_async(self, credential: str) -> int | None:
        """:meth:`hit` for coroutines: in memory at once, with Redis in a worker thread
        (the event loop never waits on the network, and a blocking client is bound to no
        event loop)."""
        if self.in_memory or not self.items:
            return self.hit(credential)
        return await anyio.to_thread.run_sync(self.hit, credential)

    def clear(self, credential: str) -> None:
        for _, key, _ in self._windows(credential):
            self._storage.clear(key)

    def _storage_failed(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._failed_at > 60:
            self._failed_at = now
            log.warning("rate limit storage %s does not answer (%s): requests are not "
                        "throttled until it does", self.storage_uri.split("@")[-1], exc)


def _seconds_until(reset_time: float) -> int:
    return max(1, math.ceil(reset_time - time.time()))


class Throttles:
    """The server's rates, built once from the settings."""

    def __init__(self, *, ingest: str, api: str, storage_uri: str = "memory://",
                 key_prefix: str = KEY_PREFIX):
        self.ingest = RateLimit("ingest", ingest, storage_uri, key_prefix=key_prefix)
        self.api = RateLimit("api", api, storage_uri, key_prefix=key_prefix)


def throttles_of(app: Any) -> Throttles:
    """The application's throttles (made from its settings on first use)."""
    found: Throttles | None = getattr(app.state, "throttles", None)
    if found is None:
        settings = app.state.settings
        found = app.state.throttles = Throttles(
            ingest=settings.rate_limit_ingest, api=settings.rate_limit_api,
            storage_uri=settings.rate_limit_storage)
    return found


# -- answers ------------------------------------------------------------------------

def too_many_requests(retry_after: int, message: str, *, status: int = 429,
                      body: dict[str, Any] | None = None) -> tuple[int, list[tuple[bytes, bytes]],
                                                                   bytes]:
    """Status, headers and JSON body of a refused request: 429 (or the sender's retry
    status) with ``Retry-After`` in whole seconds."""
    content = orjson.dumps(body if body is not None else {
        "error": message, "retry_after": retry_after})
    return status, [(b"content-type", b"application/json"),
                    (b"retry-after", str(retry_after).encode()),
                    (b"content-length", str(len(content)).encode())], content


def too_many_response(retry_after: int, message: str, *, status: int = 429,
                      body: dict[str, Any] | None = None) -> Response:
    code, _, content = too_many_requests(retry_after, message, status=status, body=body)
    return Response(content, status_code=code, media_type="application/json",
                    headers={"Retry-After": str(retry_after)})


async def send_answer(send: Any, answer: tuple[int, list[tuple[bytes, bytes]], bytes]) -> None:
    status, headers, content = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


# Paths whose callers hold integration keys: counted per key by the ingest endpoints.
INGEST_PREFIXES = ("/ingest/", "/v2/")
UNCOUNTED_PREFIXES = ("/static/", "/healthz")


def is_ingest(path: str, method: str) -> bool:
    return path.startswith(INGEST_PREFIXES) or (path == "/api/v1/alerts" and method == "POST")


class CredentialThrottle:
    """Requests per API token (``Authorization: Bearer``) or web session cookie.

    ASGI middleware: the credential is counted before any routing or database query;
    anonymous requests (the login page, the public status) are not counted here."""

    def __init__(self, app: Any, session_cookie: str):
        self.app = app
        self.cookie_prefix = session_cookie.encode() + b"="

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if is_ingest(path, scope["method"]) or path.startswith(UNCOUNTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        credential = self._credential(scope["headers"])
        if credential is not None:
            limit = throttles_of(scope["app"]).api
            wait = await limit.hit_async(credential) if limit.enabled else None
            if wait is not None:
                what = "API token" if credential.startswith("bearer:") else "session"
                await send_answer(send, too_many_requests(
                    wait, f"too many requests with this {what}: retry in {wait} s"))
                return
        await self.app(scope, receive, send)

    def _credential(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        cookie_value = None
        for name, value in headers:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    return "bearer:" + token.strip()
            elif name == b"cookie":
                for part in value.split(b";"):
                    part = part.strip()
                    if part.startswith(self.cookie_prefix):
                        cookie_value = part[len(self.cookie_prefix):].decode("latin-1")
        return "session:" + cookie_value if cookie_value else None


COUNTED = "steward.ingest_counted"


async def ingest_wait(scope: MutableMapping[str, Any], key: str | None) -> int | None:
    """Count one ingest request for its integration key (once per request, whichever of
    the fast path or the route sees it first); the seconds to wait, or None."""
    if not key or scope.get(COUNTED):
        return None
    scope[COUNTED] = True
    limit = throttles_of(scope["app"]).ingest
    return await limit.hit_async(key) if limit.enabled else None


def ingest_wait_sync(scope: MutableMapping[str, Any], key: str | None) -> int | None:
    """:func:`ingest_wait` for code running in a worker thread."""
    if not key or scope.get(COUNTED):
        return None
    scope[COUNTED] = True
    limit = throttles_of(scope["app"]).ingest
    return limit.hit(key) if limit.enabled else None
