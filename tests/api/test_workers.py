"""``steward serve --workers N``: N processes, each listening on its own socket of one port."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from serving import (
    child_pids,
    database_env,
    free_port,
    socket_owners,
    sockets_on,
    steward,
    wait_until,
)

pytestmark = pytest.mark.e2e


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "steward.cli.main", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "2"], env=env, stdout=out,
            stderr=subprocess.STDOUT)


def test_each_worker_has_its_own_socket_connections_reach_both_and_sigterm_stops_all(
        tmp_path):
    env = database_env(tmp_path / "steward.db")
    port = free_port()
    log = tmp_path / "serve.log"
    server = _serve(env, port, log)
    try:
        wait_until(lambda: log.read_text().count("Application startup complete") == 2,
                   timeout=90, interval=0.2, what="two server processes to start")
        workers = [p for p in child_pids(server.pid)
                   if socket_owners([p], sockets_on(port, "0A"))[p]]
        assert len(workers) == 2
        assert socket_owners(workers, sockets_on(port, "0A")) == {p: 1 for p in workers}

        # Keep-alive clients connecting together are spread over both processes (by the
        # kernel, per connection: forty all landing on one would be a 1 in 2^39 chance).
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        try:
            for client in clients:
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: steward\r\n\r\n")
            for client in clients:
                assert client.recv(65536).startswith(b"HTTP/1.1 200")
            held = socket_owners(workers, sockets_on(port, "01"))
            assert sum(held.values()) == 40
            assert all(count > 0 for count in held.values()), held
        finally:
            for client in clients:
                client.close()

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists()
        assert not sockets_on(port, "0A")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_serve_with_workers_refuses_a_port_already_taken(tmp_path):
    env = database_env(tmp_path / "steward.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = steward(env, "serve", "--host", "127.0.0.1", "--port", str(port),
                         "--workers", "2", timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
