"""Typed domain errors; the API maps each once to an HTTP status."""

from __future__ import annotations

from typing import Any


class StewardError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message}
        if self.field:
            body["field"] = self.field
        if self.details is not None:
            body["details"] = self.details
        return body


class ValidationError(StewardError):
    status_code = 422


class NotFound(StewardError):
    status_code = 404


class Conflict(StewardError):
    status_code = 409


class PermissionDenied(StewardError):
    status_code = 403


class AuthenticationFailed(StewardError):
    status_code = 401


class Throttled(StewardError):
    """Too many requests or attempts: answered 429 with ``Retry-After``."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after": self.retry_after}
