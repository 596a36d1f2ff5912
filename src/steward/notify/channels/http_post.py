"""Posting a webhook, a chat message or a CDEvent: one request with a timeout; anything
but a 2xx answer is a failed attempt."""

from __future__ import annotations

import httpx

from steward.notify.channels.smtp import DeliveryFailed


def post(url: str, raw: bytes, headers: dict[str, str], *, timeout: float) -> int:
    try:
        answer = httpx.post(url, content=raw, headers=headers, timeout=timeout,
                            follow_redirects=False)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"POST {url}: {type(exc).__name__}: {exc}") from exc
    if not 200 <= answer.status_code < 300:
        raise DeliveryFailed(f"POST {url}: HTTP {answer.status_code} "
                             f"{answer.text[:200].strip()}")
    return answer.status_code
