"""Debian's real Prometheus Alertmanager against a running `steward serve`.

Alertmanager fans every alert out to two receivers pointed at Steward: its
webhook (``/ingest/alertmanager``, Bearer integration key) and its PagerDuty
integration (``/v2/enqueue``, routing key). Both streams of one alert group
must land in one incident; an alert on a dependant service joins it by
topology; resolving the alerts in Alertmanager mitigates the incident.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving import (
    admin_token,
    alertmanager,
    database_env,
    post_alerts,
    served,
    steward,
    wait_until,
)

pytestmark = pytest.mark.e2e

CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: core-db
  annotations: {steward.dev/tier: "1"}
spec: {type: database, owner: platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: orders-service
  annotations: {steward.dev/tier: "2"}
spec:
  type: service
  lifecycle: production
  owner: platform
  dependsOn: ["resource:core-db"]
"""


def _config(steward_url: str, webhook_key: str, routing_key: str) -> dict[str, Any]:
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "steward-webhook",
            "group_by": ["alertname", "service"],
            "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h",
            "routes": [{"receiver": "steward-webhook", "continue": True},
                       {"receiver": "steward-pagerduty", "continue": True}],
        },
        "receivers": [
            {"name": "steward-webhook", "webhook_configs": [{
                "url": f"{steward_url}/ingest/alertmanager", "send_resolved": True,
                "http_config": {"authorization": {"type": "Bearer",
                                                  "credentials": webhook_key}}}]},
            {"name": "steward-pagerduty", "pagerduty_configs": [{
                "url": f"{steward_url}/v2/enqueue", "routing_key": routing_key,
                "send_resolved": True,
                "severity": "{{ if .CommonLabels.severity }}{{ .CommonLabels.severity }}"
                            "{{ else }}error{{ end }}",
                "class": "{{ .CommonLabels.alertname }}",
                "component": "{{ .CommonLabels.service }}",
                "details": {"service": "{{ .CommonLabels.service }}"}}]},
        ],
    }


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _alert(alertname: str, service: str, starts: datetime, ends: datetime) -> dict[str, Any]:
    return {"labels": {"alertname": alertname, "service": service, "severity": "critical"},
            "annotations": {"summary": f"{alertname} on {service}"},
            "startsAt": _z(starts), "endsAt": _z(ends),
            "generatorURL": f"http://127.0.0.1:9090/graph?g0.expr={alertname}"}


def test_alertmanager_webhook_and_pagerduty_into_one_incident(tmp_path: Path):
    env = database_env(tmp_path / "steward.db")
    assert steward(env, "init").returncode == 0
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    imported = steward(env, "catalog", "import", str(tmp_path / "catalog.yaml"))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    admin = admin_token(env)
    keys = {}
    for kind in ("alertmanager", "pagerduty"):
        created = steward(env, "integration", "create", "--type", kind, "--service", "core-db")
        assert created.returncode == 0, created.stderr
        keys[kind] = created.stdout.strip()
    assert len(keys["pagerduty"]) == 32

    serve_log = tmp_path / "serve.log"
    am_log = tmp_path / "alertmanager.log"
    try:
        with served(env, serve_log) as url, alertmanager(
                tmp_path, _config(url, keys["alertmanager"], keys["pagerduty"])) as (am, _):
            _scenario(url, am, admin)
        # Steward took every notification at the first attempt: no retry, nothing dropped.
        failures = [line for line in am_log.read_text().splitlines()
                    if "level=error" in line or "level=warn" in line]
        assert not failures, "\n".join(failures)
        assert am_log.read_text().count('msg="Notify success"') == 8
    except BaseException:
        for name, path in (("steward serve", serve_log), ("alertmanager", am_log)):
            if path.exists():
                print(f"----- {name} log -----\n{path.read_text()}")
        raise


def _scenario(url: str, am: str, admin: str) -> None:
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=10)
    started = datetime.now(UTC) - timedelta(seconds=5)
    later = started + timedelta(hours=1)
    db_down = _alert("DatabaseDown", "core-db", started, later)
    post_alerts(am, [db_down])

    # 1. Both receivers' notifications of the group land in one incident.
    def first_incident() -> dict[str, Any] | None:
        listed = api.get("/api/v1/incidents").json()
        if not listed["items"]:
            return None
        detail = api.get(f"/api/v1/incidents/{listed['items'][0]['id']}").json()
        return detail if {a["source"] for a in detail["alerts"]} == {
            "alertmanager", "pagerduty"} else None

    incident = wait_until(first_incident, timeout=30, what="an incident with both receivers' "
                                                          "alerts")
    assert api.get("/api/v1/incidents").json()["total"] == 1
    assert incident["origin_service"] == "core-db"
    assert incident["status"] == "triggered"
    assert incident["priority"] in ("P1", "P2"), incident["priority_reasons"]
    assert incident["team"] == "platform"
    by_source = {a["source"]: a for a in incident["alerts"]}
    assert len(incident["alerts"]) == 2, incident["alerts"]
    webhook, pagerduty = by_source["alertmanager"], by_source["pagerduty"]
    assert webhook["labels"]["alertname"] == "DatabaseDown"
    assert webhook["severity"] == pagerduty["severity"] == "critical"
    assert webhook["service"] == pagerduty["service"] == "core-db"
    assert webhook["status"] == pagerduty["status"] == "firing"
    # The PagerDuty dedup_key is the SHA-256 of the webhook's groupKey: the join key.
    group_key = webhook["details"]["groupKey"]
    assert pagerduty["dedup_key"] == hashlib.sha256(group_key.encode()).hexdigest()
    assert "[FIRING:1]" in pagerduty["summary"]

    # 2. Another alert name on a service that depends on core-db joins by topology.
    orders_slow = _alert("OrdersLatencyHigh", "orders-service", started, later)
    post_alerts(am, [orders_slow])

    def joined() -> dict[str, Any] | None:
        detail = api.get(f"/api/v1/incidents/{incident['id']}").json()
        return detail if len(detail["alerts"]) == 4 else None

    incident = wait_until(joined, timeout=30, what="the orders-service alerts to join")
    assert api.get("/api/v1/incidents").json()["total"] == 1
    assert api.get("/api/v1/alerts").json()["total"] == 4
    assert incident["services"] == ["core-db", "orders-service"]
    assert incident["origin_service"] == "core-db", incident["origin_reasoning"]
    orders = [a for a in incident["alerts"] if a["service"] == "orders-service"]
    assert {a["source"] for a in orders} == {"alertmanager", "pagerduty"}, incident["alerts"]
    assert all(a["status"] == "firing" and a["count"] == 1 for a in incident["alerts"])
    assert incident["status"] == "triggered"

    # 3. Resolving both alerts in Alertmanager resolves every alert and mitigates.
    now = datetime.now(UTC)
    post_alerts(am, [{**db_down, "endsAt": _z(now)}, {**orders_slow, "endsAt": _z(now)}])

    def mitigated() -> dict[str, Any] | None:
        detail = api.get(f"/api/v1/incidents/{incident['id']}").json()
        return detail if detail["status"] == "mitigated" else None

    incident = wait_until(mitigated, timeout=30, what="the incident to be mitigated")
    assert [a["status"] for a in incident["alerts"]] == ["resolved"] * 4, incident["alerts"]
    assert all(a["resolved_at"] for a in incident["alerts"])
    assert incident["mitigated_at"] and incident["resolved_at"] is None
    assert any(e["kind"] == "state" and "All alerts resolved" in e["text"]
               for e in incident["timeline"])
    assert api.get("/api/v1/incidents").json()["total"] == 1
    assert api.get("/api/v1/alerts?status=resolved").json()["total"] == 4


def test_alertmanager_default_pagerduty_receiver_with_a_team_key(tmp_path: Path):
    """``pagerduty_configs`` as documented (routing key and url, nothing else) with a
    team's key that has no service: the alerts' ``service`` label, in Alertmanager's
    default details text, routes every notification, and the severity label counts."""
    env = database_env(tmp_path / "steward.db")
    assert steward(env, "init").returncode == 0
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    assert steward(env, "catalog", "import", str(tmp_path / "catalog.yaml")).returncode == 0
    admin = admin_token(env)
    created = steward(env, "integration", "create", "--type", "pagerduty", "--team", "platform")
    assert created.returncode == 0, created.stderr
    config = {
        "route": {"receiver": "steward-pagerduty", "group_by": ["alertname", "service"],
                  "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "steward-pagerduty", "pagerduty_configs": [{
            "routing_key": created.stdout.strip(), "send_resolved": True}]}],
    }
    serve_log = tmp_path / "serve.log"
    am_log = tmp_path / "alertmanager.log"
    try:
        with served(env, serve_log) as url:
            config["receivers"][0]["pagerduty_configs"][0]["url"] = f"{url}/v2/enqueue"
            with alertmanager(tmp_path, config) as (am, _):
                api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"},
                                   timeout=10)
                started = datetime.now(UTC) - timedelta(seconds=5)
                db_down = _alert("DatabaseDown", "core-db", started, started + timedelta(hours=1))
                post_alerts(am, [db_down])

                def firing() -> list[dict[str, Any]] | None:
                    items = api.get("/api/v1/alerts").json()["items"]
                    return items or None

                [alert] = wait_until(firing, timeout=30, what="the PagerDuty event's alert")
                assert alert["service"] == "core-db" and alert["source"] == "pagerduty"
                assert alert["severity"] == "critical"  # the label, not payload.severity
                assert alert["labels"]["alertname"] == "DatabaseDown"
                post_alerts(am, [{**db_down, "endsAt": _z(datetime.now(UTC))}])

                def resolved() -> list[dict[str, Any]] | None:
                    items = api.get("/api/v1/alerts?status=resolved").json()["items"]
                    return items or None

                wait_until(resolved, timeout=30, what="the alert to be resolved")
        log = am_log.read_text()
        failures = [line for line in log.splitlines()
                    if "level=error" in line or "level=warn" in line]
        assert not failures, "\n".join(failures)
        assert log.count('msg="Notify success"') == 2
    except BaseException:
        for name, path in (("steward serve", serve_log), ("alertmanager", am_log)):
            if path.exists():
                print(f"----- {name} log -----\n{path.read_text()}")
        raise

