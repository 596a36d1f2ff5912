"""Errors a page shows as an HTML error page.

Kept apart from the request checks (``guard``) and the rendering (``render``),
which both need them: each of those imports this module, never the other way.
"""

from __future__ import annotations

from steward.errors import StewardError

TITLES = {400: "Bad request", 401: "Sign-in needed", 403: "Not allowed", 404: "Not found",
          409: "Conflict", 422: "Invalid input", 429: "Too many requests"}


class PageError(Exception):
    """Shown to the person as an HTML error page with this status."""

    def __init__(self, status: int, title: str, message: str):
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def page_error_from(exc: StewardError) -> PageError:
    status = exc.status_code
    return PageError(status, TITLES.get(status, "Error"), exc.message)
