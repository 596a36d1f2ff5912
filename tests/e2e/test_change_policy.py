"""The approval policy in effect, through the API and the CLI of a running server: the
default rules, rules set by STEWARD_CHANGE_POLICY in their order, and a clear refusal
without a token."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from serving import admin_token, database_env, served, steward

pytestmark = pytest.mark.e2e

CUSTOM = [
    {"name": "tier1-cab", "action": "require_approval", "tiers": [1],
     "approvers": ["$owner", "$dependants", "sre"], "quorum": 3},
    {"name": "everything-else", "action": "auto_approve"},
]


def test_the_policy_in_effect_through_api_and_cli(tmp_path: Path):
    env = database_env(tmp_path / "steward.db")
    env.pop("STEWARD_CHANGE_POLICY", None)
    assert steward(env, "init").returncode == 0
    token = admin_token(env)
    with served(env, tmp_path / "default.log") as url:
        answer = httpx.get(f"{url}/api/v1/change-policy",
                           headers={"Authorization": f"Bearer {token}"}).json()
        refused = httpx.get(f"{url}/api/v1/change-policy")
    assert answer["source"] == "default" and answer["risk"]["source"] == "default"
    assert [r["name"] for r in answer["rules"]][:3] == [
        "standard-preapproved", "emergency-owner-approval", "low-risk-auto-approve"]
    low = answer["rules"][2]
    assert low == {"name": "low-risk-auto-approve", "action": "auto_approve",
                   "when": "model normal, risk low",
                   "conditions": {"models": ["normal"], "risk_levels": ["low"]},
                   "approvers": [], "quorum": 0}
    assert answer["risk"]["levels"][-1] == {"level": "very high", "below": None}
    assert any("error budget" in guard for guard in answer["guards"])
    assert refused.status_code == 401

    custom = {**env, "STEWARD_CHANGE_POLICY": json.dumps(CUSTOM),
              "STEWARD_RISK_WEIGHTS": json.dumps({"freeze": 80})}
    with served(custom, tmp_path / "custom.log") as url:
        cli = {**custom, "STEWARD_URL": url, "STEWARD_TOKEN": token}
        shown = steward(cli, "change", "policy")
        as_json = json.loads(steward(cli, "change", "policy", "--json").stdout)
    assert shown.returncode == 0, shown.stderr
    assert "STEWARD_CHANGE_POLICY" in shown.stdout
    assert shown.stdout.index("tier1-cab") < shown.stdout.index("everything-else")
    assert "sre" in shown.stdout and "quorum 3" in shown.stdout
    assert "very high from 75" in shown.stdout
    assert as_json["source"] == "STEWARD_CHANGE_POLICY"
    assert as_json["risk"]["source"] == "STEWARD_RISK_WEIGHTS"
    assert as_json["risk"]["weights"]["freeze"] == 80
    assert [(r["name"], r["when"], r["approvers"], r["quorum"]) for r in as_json["rules"]] == [
        ("tier1-cab", "tier 1", ["$owner", "$dependants", "sre"], 3),
        ("everything-else", "any change", [], 0)]
