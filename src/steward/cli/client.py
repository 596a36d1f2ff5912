"""Talking to a Steward server from pipelines and terminals (--url / --token)."""

from __future__ import annotations

import os
from typing import Annotated, Any

import httpx
import typer

from steward import config
from steward.cli.common import fail

UrlOption = Annotated[str | None, typer.Option(
    "--url", envvar=config.env_name("url"),
    help="the Steward server, e.g. http://127.0.0.1:8000")]
TokenOption = Annotated[str | None, typer.Option(
    "--token", envvar=config.env_name("token"),
    help="an API token (steward token create USER)")]

# Exit codes of client commands for problems that are not a gate decision.
EXIT_ERROR = 2


class Client:
    def __init__(self, url: str | None, token: str | None, timeout: float = 30.0):
        if not url:
            fail("name the server with --url or STEWARD_URL", EXIT_ERROR)
        if not token:
            fail("give an API token with --token or STEWARD_TOKEN", EXIT_ERROR)
        self.http = httpx.Client(base_url=str(url).rstrip("/"), timeout=timeout,
                                 headers={"Authorization": f"Bearer {token}"})

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The server's JSON answer; exits with the server's error message on a 4xx/5xx."""
        response = self.send(method, path, **kwargs)
        return response.json() if response.content else None

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The server's answer as it came (for CSV and other downloads), errors as in call."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            fail(f"cannot reach {self.http.base_url}: {exc}", EXIT_ERROR)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            fail(f"{response.status_code} {message}", EXIT_ERROR)
        return response


def pipeline_run_id() -> str | None:
    """The CI system's own id of this run, so retries find the same change."""
    own = config.settings().pipeline_run
    if own:
        return own
    for name in ("GITHUB_RUN_ID", "CI_PIPELINE_ID", "BUILD_ID", "BUILDKITE_BUILD_ID",
                 "CIRCLE_WORKFLOW_ID"):
        value = os.environ.get(name)
        if value:
            attempt = os.environ.get("GITHUB_RUN_ATTEMPT") if name == "GITHUB_RUN_ID" else None
            return f"{value}.{attempt}" if attempt else value
    return None
