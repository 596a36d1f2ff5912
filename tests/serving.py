"""Running a real ``steward`` process for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def steward(env: dict[str, str], *args: str, stdin: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one ``steward`` command to completion."""
    return subprocess.run([sys.executable, "-m", "steward.cli.main", *args], env=env,
                          input=stdin, capture_output=True, text=True, timeout=timeout,
                          check=False)


def database_env(path: Path) -> dict[str, str]:
    return {**os.environ, "STEWARD_DATABASE_URL": f"sqlite:///{path}"}


@contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[str]:
    """``steward serve`` on a free port; yields its base URL, stops it afterwards."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "steward.cli.main", "serve", "--host", "127.0.0.1",
             "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"steward serve exited:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("steward serve did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def start_serve(env: dict[str, str], log: Path,
                port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``steward serve`` answering ``/healthz``; the caller stops it (or kills it)."""
    port = port or free_port()
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "steward.cli.main", "serve", "--host", "127.0.0.1",
             "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(process, url, log), timeout=60, interval=0.2,
                   what="steward serve to answer /healthz")
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, url


def _healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"steward serve exited:\n{log.read_text()}")
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(check: Callable[[], T | None], *, timeout: float = 30, interval: float = 0.3,
               what: str = "the condition") -> T:
    """Poll ``check`` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def admin_token(env: dict[str, str], username: str = "root") -> str:
    """Create an admin user with the CLI and return a fresh API token for it."""
    created = steward(env, "user", "create", username, "--role", "admin")
    assert created.returncode == 0, created.stderr
    token = steward(env, "token", "create", username)
    assert token.returncode == 0, token.stderr
    return token.stdout.strip()
