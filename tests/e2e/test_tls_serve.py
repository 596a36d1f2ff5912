"""`steward serve` over HTTPS with its own certificate, in one process and in several."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trustme
from serving import (
    database_env,
    free_port,
    listening_pids,
    make_tls,
    served,
    socket_owners,
    sockets_on,
    steward,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_serve_over_tls_answers_healthz_to_clients_trusting_its_ca(tmp_path: Path):
    tls = make_tls(tmp_path / "tls")
    env = database_env(tmp_path / "steward.db")
    log = tmp_path / "serve.log"
    with served(env, log, tls=tls) as url:
        assert url.startswith("https://127.0.0.1:")
        health = httpx.get(f"{url}/healthz", verify=tls.client_context(), timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.http_version == "HTTP/1.1"
        # The web UI's cookies are sent over HTTPS only.
        login = httpx.get(f"{url}/login", verify=tls.client_context(), timeout=5)
        assert login.status_code == 200
        assert "secure" in login.headers["set-cookie"].lower()
        # A client that does not trust the test CA is refused the handshake, and plain
        # HTTP on the port gets no answer: the certificate is really the server's.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{url}/healthz", timeout=5)
        with pytest.raises(httpx.HTTPError):
            httpx.get(url.replace("https://", "http://") + "/healthz", timeout=5)
    assert f"Steward on {url}" in log.read_text()


def test_behind_a_proxy_x_forwarded_proto_makes_cookies_secure(tmp_path: Path):
    """A proxy on 127.0.0.1 terminating TLS says so with X-Forwarded-Proto: https."""
    env = database_env(tmp_path / "steward.db")
    with served(env, tmp_path / "serve.log") as url:
        proxied = httpx.get(f"{url}/login", headers={"X-Forwarded-Proto": "https"}, timeout=5)
        plain = httpx.get(f"{url}/login", timeout=5)
    assert proxied.status_code == plain.status_code == 200
    assert "secure" in proxied.headers["set-cookie"].lower()
    assert "secure" not in plain.headers["set-cookie"].lower()


def test_workers_serve_tls_from_the_environment(tmp_path: Path):
    tls = make_tls(tmp_path / "tls")
    env = database_env(tmp_path / "steward.db")
    log = tmp_path / "serve.log"
    with served(env, log, tls=tls, tls_env=True, args=("--workers", "2")) as url:
        assert url.startswith("https://")
        port = int(url.rsplit(":", 1)[1])
        workers = wait_until(lambda: len(listening_pids(port)) == 2 and listening_pids(port),
                             timeout=60, what="both server processes to listen")
        # Forty TLS connections held open together, spread over both processes by the
        # kernel (all on one would be a 1 in 2^39 chance): each process speaks TLS.
        clients = [httpx.Client(verify=tls.client_context(), timeout=5) for _ in range(40)]
        try:
            for client in clients:
                assert client.get(f"{url}/healthz").status_code == 200
            held = socket_owners(workers, sockets_on(port, "01"))
            assert sum(held.values()) == 40
            assert all(count > 0 for count in held.values()), held
        finally:
            for client in clients:
                client.close()
    assert f"Steward on {url}" in log.read_text()


def test_serve_refuses_bad_tls_files_before_anything_else(tmp_path: Path):
    tls = make_tls(tmp_path / "tls")
    db_path = tmp_path / "steward.db"
    env = database_env(db_path)
    port = str(free_port())

    missing = tmp_path / "missing.pem"
    result = steward(env, "serve", "--port", port, "--tls-cert", str(missing),
                     "--tls-key", str(tls.key))
    assert result.returncode == 1
    assert f"--tls-cert: no such file: {missing}" in result.stderr
    assert "Traceback" not in result.stderr

    other_key = tmp_path / "other.key"
    trustme.CA().issue_cert("127.0.0.1").private_key_pem.write_to_path(str(other_key))
    result = steward({**env, "STEWARD_TLS_CERT": str(tls.cert),
                      "STEWARD_TLS_KEY": str(other_key)}, "serve", "--port", port,
                     "--workers", "2")
    assert result.returncode == 1
    assert (f"--tls-key: the key in {other_key} does not match the certificate in "
            f"{tls.cert}") in result.stderr.replace("\n", "")

    result = steward(env, "serve", "--port", port, "--tls-cert", str(tls.cert))
    assert result.returncode == 1
    assert "--tls-cert needs --tls-key too" in result.stderr
    # Checked before the database is opened: a wrong command line creates nothing.
    assert not db_path.exists()
