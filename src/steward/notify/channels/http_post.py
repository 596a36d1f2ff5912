"""Posting a webhook, a chat message or a CDEvent: one request with a timeout; anything
but a 2xx answer is a failed attempt.

One client per process, shared by every delivery (it is thread-safe): a new client per
request would build its TLS context each time, tens of milliseconds each."""

from __future__ import annotations

import threading

import httpx

from steward.notify.channels.smtp import DeliveryFailed

_client: httpx.Client | None = None
_lock = threading.Lock()


def _shared() -> httpx.Client:
    global _client
    with _lock:
        if _client is None:
            _client = httpx.Client(follow_redirects=False,
                                   limits=httpx.Limits(max_keepalive_connections=20))
        return _client


def post(url: str, raw: bytes, headers: dict[str, str], *, timeout: float) -> int:
    try:
        answer = _shared().post(url, content=raw, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"POST {url}: {type(exc).__name__}: {exc}") from exc
    if not 200 <= answer.status_code < 300:
        raise DeliveryFailed(f"POST {url}: HTTP {answer.status_code} "
                             f"{answer.text[:200].strip()}")
    return answer.status_code
