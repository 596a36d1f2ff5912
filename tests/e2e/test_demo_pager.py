"""`steward demo`: with no mail server set, a P1 declared on the demo pages its team's
on-call within seconds, delivered to the demo pager on the demo server itself."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from serving import database_env, free_port, steward, wait_until

from steward.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_declared_p1_is_paged_on_the_demo_pager_within_seconds(tmp_path: Path) -> None:
    env = database_env(tmp_path / "steward.db")
    for name in ("STEWARD_SMTP_HOST", "STEWARD_PUBLIC_URL"):
        env.pop(name, None)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen([sys.executable, "-m", "steward.cli.main", "demo", "--port",
                                 str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: demo.poll() is None and _healthy(url), timeout=120,
                   what=f"steward demo to serve:\n{log.read_text()}")
        token = steward(env, "token", "create", "admin")
        assert token.returncode == 0, token.stderr
        api = httpx.Client(base_url=url, timeout=30,
                           headers={"Authorization": f"Bearer {token.stdout.strip()}"})
        declared = api.post("/api/v1/incidents", json={
            "title": "Card payments refused", "service": "payments-gateway",
            "impact": 1, "urgency": 1})
        assert declared.status_code == 201, declared.text
        incident = declared.json()["id"]
        began = time.monotonic()

        def delivered() -> list[dict[str, object]]:
            items = api.get("/api/v1/notifications",
                            params={"incident": incident}).json()["items"]
            return [n for n in items
                    if n["event_type"] == "incident.page" and n["state"] == "delivered"]

        pages = wait_until(delivered, timeout=60, interval=0.2, what="a delivered page")
        print(f"page delivered {time.monotonic() - began:.1f} s after the incident")
        page = pages[0]
        assert page["target"] == f"{url}/demo/pager"
        assert page["urgency"] == "high"
        assert page["user"] in ("alice", "erin", "frank")  # order-to-cash's rotation

        web = httpx.Client(base_url=url, timeout=30)
        login = web.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf is not None
        web.post("/login", data={"csrf_token": csrf.group(1), "username": "viewer",
                                 "password": DEMO_PASSWORD})
        pager = web.get("/demo/pager")
        assert pager.status_code == 200
        assert f"INC-{incident}" in pager.text and "Card payments refused" in pager.text
        assert "high: page" in pager.text
        detail = web.get(f"/incidents/{incident}").text
        assert "Escalated to level 1 of 2: paged" in detail
    finally:
        demo.terminate()
        try:
            demo.wait(timeout=20)
        except subprocess.TimeoutExpired:
            demo.kill()
