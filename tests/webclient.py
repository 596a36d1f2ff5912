"""Signing in to the web UI from a TestClient, as page tests do."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from steward.demo.seed import DEMO_PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
HTML = {"accept": "text/html,application/xhtml+xml"}


def csrf(client: TestClient, path: str = "/catalog") -> str:
    """The session's CSRF token, read from a page's form."""
    return TOKEN.search(client.get(path).text).group(1)  # type: ignore[union-attr]


def sign_in(client: TestClient, username: str, landing: str = "/catalog") -> str:
    """Signs in with the demo password and returns the session's CSRF token."""
    client.cookies.clear()
    token = csrf(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "username": username,
                                           "password": DEMO_PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    return csrf(client, landing)
