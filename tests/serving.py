"""Running a real ``steward`` process for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

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


@dataclass(frozen=True)
class Tls:
    """A certificate authority made for one test and a certificate for 127.0.0.1 it signed,
    as PEM files: the server is given ``cert`` and ``key``, its clients trust ``ca``."""

    ca: Path
    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


def make_tls(folder: Path) -> Tls:
    import trustme

    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="Steward test CA")
    issued = authority.issue_cert("127.0.0.1", "localhost")
    tls = Tls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    authority.cert_pem.write_to_path(str(tls.ca))
    issued.private_key_pem.write_to_path(str(tls.key))
    tls.cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    return tls


def _serve_command(port: int, tls: Tls | None, args: tuple[str, ...]) -> list[str]:
    command = [sys.executable, "-m", "steward.cli.main", "serve", "--host", "127.0.0.1",
               "--port", str(port), *args]
    if tls is not None:
        command += ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    return command


@contextmanager
def served(env: dict[str, str], log: Path, *, tls: Tls | None = None, tls_env: bool = False,
           args: tuple[str, ...] = ()) -> Iterator[str]:
    """``steward serve`` on a free port (over HTTPS with ``tls``: given as options, or as
    STEWARD_TLS_* variables with ``tls_env``); yields its base URL, stops it afterwards."""
    port = free_port()
    command = _serve_command(port, None if tls_env else tls, args)
    if tls is not None and tls_env:
        env = {**env, "STEWARD_TLS_CERT": str(tls.cert), "STEWARD_TLS_KEY": str(tls.key)}
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"steward serve exited:\n{log.read_text()}")
            if _answers(url, tls):
                break
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
        process = subprocess.Popen(_serve_command(port, None, ()), env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
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
    return _answers(url, None)


def _answers(url: str, tls: Tls | None) -> bool:
    verify = tls.client_context() if tls else True
    try:
        return httpx.get(f"{url}/healthz", timeout=1, verify=verify).status_code == 200
    except httpx.HTTPError:
        return False


def sockets_on(port: int, state: str) -> set[int]:
    """Inodes of the TCP sockets on local ``port`` in ``state`` (0A listening, 01
    established), from /proc/net/tcp."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.add(int(fields[9]))
    return found


def socket_owners(pids: list[int], inodes: set[int]) -> dict[int, int]:
    """How many of those sockets each process holds."""
    held = {}
    for pid in pids:
        count = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and int(target[8:-1]) in inodes:
                count += 1
        held[pid] = count
    return held


def child_pids(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(c) for c in text.split()]


def listening_pids(port: int) -> list[int]:
    """The processes holding a listening socket on local ``port``."""
    inodes = sockets_on(port, "0A")
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    held = {}
    for pid in pids:
        try:
            held.update(socket_owners([pid], inodes))
        except OSError:  # gone, or not ours to look into
            continue
    return sorted(pid for pid, count in held.items() if count)


ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


@contextmanager
def alertmanager(tmp_path: Path, config: dict[str, Any]) -> Iterator[tuple[str, Path]]:
    """Alertmanager on 127.0.0.1 without gossip; yields its URL and its log file."""
    if not shutil.which(ALERTMANAGER):
        pytest.skip(f"{ALERTMANAGER} is not installed (apt install prometheus-alertmanager)")
    (tmp_path / "am.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    storage = tmp_path / "am-data"
    storage.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "alertmanager.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={tmp_path / 'am.yml'}",
             f"--storage.path={storage}", f"--web.listen-address=127.0.0.1:{port}",
             f"--web.external-url={url}", "--cluster.listen-address=", "--log.level=debug"],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"alertmanager exited:\n{log.read_text()}")
            try:
                return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=20, interval=0.1, what="alertmanager to be ready")
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post_alerts(am: str, alerts: list[dict[str, Any]]) -> None:
    """Alerts as Prometheus posts them to Alertmanager's API."""
    response = httpx.post(f"{am}/api/v2/alerts", json=alerts, timeout=10)
    assert response.status_code == 200, response.text


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
