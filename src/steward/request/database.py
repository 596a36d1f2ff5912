"""The request's database and the web session cookie's name, for API routes and pages alike."""

from __future__ import annotations

from fastapi import Request

from steward.db import Database

SESSION_COOKIE = "steward_session"


def database(request: Request) -> Database:
    """The application's database (set on ``app.state`` when the app is built)."""
    db: Database = request.app.state.db
    return db
