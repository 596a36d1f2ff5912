"""Acceptance: a spent error budget takes auto-approval away from a service's changes.

Against a real `steward serve`: a low-risk normal change to a service is
approved by policy while its SLO has budget; once SLI reports posted with the
CLI spend the budget, the same kind of change waits for the owning team and
its policy reasons say why, while an emergency change is still handled as the
(default) policy says: by its own rule, the owning team's approval, whatever
the budget.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from serving import admin_token, database_env, served, steward, wait_until

from steward.timeutil import isoformat_z, utcnow

pytestmark = pytest.mark.e2e

def api(url: str, token: str, method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
    response = httpx.request(method, url + path, headers={"Authorization": f"Bearer {token}"},
                             timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def working_day(n: int) -> datetime:
    """10:00 UTC on the ``n``th weekday from today (no off-hours points): each ``n`` its own
    day, so the changes planned here never overlap (an overlap is a risk factor)."""
    day = utcnow().replace(hour=10, minute=0, second=0, microsecond=0)
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def change(url: str, token: str, title: str, start: datetime, model: str = "normal") -> dict:
    created = api(url, token, "POST", "/api/v1/changes", json={
        "title": title, "services": ["ledger"], "model": model, "batch_size": 1,
        "planned_start": isoformat_z(start),
        "planned_end": isoformat_z(start + timedelta(minutes=30))})
    return api(url, token, "GET", f"/api/v1/changes/{created['id']}")


def test_spent_budget_removes_auto_approval_but_not_for_emergencies(tmp_path: Path):
    env = {**database_env(tmp_path / "steward.db"), "STEWARD_TIMEZONE": "UTC"}
    env.pop("STEWARD_CHANGE_POLICY", None)  # the default policy
    assert steward(env, "init").returncode == 0
    admin = admin_token(env)
    with served(env, tmp_path / "serve.log") as url:
        api(url, admin, "POST", "/api/v1/teams", json={"name": "payments"})
        api(url, admin, "POST", "/api/v1/users", json={"username": "pat",
                                                        "teams": ["payments"]})
        api(url, admin, "POST", "/api/v1/services", json={
            "name": "ledger", "tier": 3, "owner": "payments"})
        pat = steward(env, "token", "create", "pat").stdout.strip()
        cli = {**env, "STEWARD_URL": url, "STEWARD_TOKEN": pat}
        made = steward(cli, "slo", "create", "--service", "ledger", "--name", "availability",
                       "--objective", "0.99", "--window-days", "7", "--sli", "counts", "--json")
        assert made.returncode == 0, made.stderr
        slo_id = json.loads(made.stdout)["id"]

        # Budget intact: a small normal change is approved by policy.
        before = change(url, pat, "Tune ledger cache", working_day(1))
        assert before["auto_approved"] is True, before["policy"]
        assert before["policy"]["rule"] == "low-risk-auto-approve"
        assert before["risk"]["level"] == "low"

        # Yesterday's bad hours and a clean last hour: 50 bad of 1,100 against a 1 % budget.
        now = utcnow()
        for start, end, good, total in ((now - timedelta(hours=30), now - timedelta(hours=26),
                                         50, 100),
                                        (now - timedelta(hours=2), now - timedelta(hours=1),
                                         1000, 1000)):
            posted = steward(cli, "slo", "report", str(slo_id), "--good", str(good), "--total",
                             str(total), "--start", isoformat_z(start), "--end",
                             isoformat_z(end))
            assert posted.returncode == 0, posted.stderr
        assert "spent" in posted.stdout
        listed = json.loads(steward(cli, "slo", "list", "--service", "ledger", "--json").stdout)
        status = listed["items"][0]["status"]
        assert status["exhausted"] and status["budget_left"] == -1.0
        assert status["firing"] == []  # the burn is over: no page, no open incident

        # Budget spent: the same kind of change now waits for the owning team.
        after = change(url, pat, "Tune ledger cache again", working_day(2))
        assert after["auto_approved"] is False
        assert after["state"] == "authorize"
        assert after["risk"]["level"] == "low"
        assert "error_budget" in {f["key"] for f in after["risk"]["factors"]}
        reasons = " ".join(after["policy"]["reasons"])
        assert "error budget of ledger is spent" in reasons, reasons

        # An emergency fix is handled as the policy says: its own rule decides (the
        # owners approve it after the fact), not the error budget guard.
        emergency = change(url, pat, "Hotfix ledger rounding", working_day(3), "emergency")
        assert emergency["policy"]["rule"] == "emergency-owner-approval", emergency["policy"]
        assert emergency["policy"]["action"] == "require_approval"
        assert "error budget" not in " ".join(emergency["policy"]["reasons"])


def test_the_server_evaluates_burn_alerts_on_its_own(tmp_path: Path):
    env = {**database_env(tmp_path / "steward.db"), "STEWARD_SLO_EVALUATE_SECONDS": "0.5"}
    assert steward(env, "init").returncode == 0
    admin = admin_token(env)
    with served(env, tmp_path / "serve.log") as url:
        api(url, admin, "POST", "/api/v1/teams", json={"name": "payments"})
        api(url, admin, "POST", "/api/v1/services", json={"name": "ledger", "owner": "payments"})
        slo = api(url, admin, "POST", "/api/v1/services/ledger/slos", json={
            "name": "availability", "objective": 0.999, "window_days": 28, "sli": "impact"})
        incident = api(url, admin, "POST", "/api/v1/incidents", json={
            "title": "Ledger writes failing", "service": "ledger",
            "started_at": isoformat_z(utcnow() - timedelta(hours=2))})

        def slo_alerts() -> list[dict]:
            items = api(url, admin, "GET", "/api/v1/alerts?service=ledger")["items"]
            return [a for a in items if a["dedup_key"].startswith(f"slo:{slo['id']}:")]

        raised = wait_until(lambda: len(slo_alerts()) == 3 and slo_alerts(), timeout=30,
                            what="the server to raise the SLO's burn alerts")
        assert all(a["incident_id"] for a in raised)
        opened = api(url, admin, "GET", f"/api/v1/incidents/{raised[0]['incident_id']}")
        assert opened["origin_service"] == "ledger" or incident["id"] == opened["id"]
        assert {a["severity"] for a in raised} == {"critical", "warning"}
