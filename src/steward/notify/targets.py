"""Where a notification may go: an email address, or an http(s) URL. Pure."""

from __future__ import annotations

import re

from steward.weburl import web_href

_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$")


def target_problem(kind: str, target: str) -> str | None:
    """Why ``target`` cannot be a ``kind`` target (email, webhook, chat, cdevents), or None."""
    if kind == "email":
        if len(target) > 300 or _ADDRESS.match(target) is None:
            return "an email address such as alice@example.com"
        return None
    if web_href(target) is None or target != target.strip():
        return "an http:// or https:// URL"
    return None
