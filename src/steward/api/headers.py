"""Headers every answer carries: ``nosniff``, and HSTS over HTTPS when configured."""

from __future__ import annotations

import re
from typing import Any

HSTS_FORM = re.compile(r"^max-age=\d+(\s*;\s*includeSubDomains)?(\s*;\s*preload)?$",
                       re.IGNORECASE)


class HstsSettingError(ValueError):
    pass


def check_hsts(value: str) -> str:
    """The setting, or the reason it is refused (at start, not at the first request)."""
    value = value.strip()
    if value and not HSTS_FORM.match(value):
        raise HstsSettingError(
            f"STEWARD_HSTS: {value!r} is not a Strict-Transport-Security value such as "
            "'max-age=31536000' or 'max-age=31536000; includeSubDomains'")
    return value


class SecurityHeaders:
    """ASGI middleware around everything, so even a 413 or a fast-path 202 carries them.

    ``X-Content-Type-Options: nosniff`` goes on every answer that does not already say
    it; ``Strict-Transport-Security`` (``STEWARD_HSTS``) only on answers to requests
    that came over HTTPS (Steward's own TLS, or a trusted proxy's
    ``X-Forwarded-Proto: https``): over plain HTTP browsers ignore it."""

    def __init__(self, app: Any, hsts: str = ""):
        self.app = app
        hsts = check_hsts(hsts)
        self.plain = [(b"x-content-type-options", b"nosniff")]
        self.secure = [*self.plain, (b"strict-transport-security", hsts.encode())] \
            if hsts else self.plain

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.secure if scope.get("scheme") == "https" else self.plain

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
