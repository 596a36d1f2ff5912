"""Real PagerDuty senders against `steward serve` over HTTPS, changed only in their base URL.

PagerDuty's official Python clients (the ``pagerduty`` package and the older
``pdpyras``) refuse any base URL but ``https://``; they are pointed at a Steward
serving a certificate from a CA made for the test, which they are told to trust.
Each triggers, acknowledges and resolves an alert through ``/v2/enqueue`` and
sends a change event to ``/v2/change/enqueue``; the REST API shows the incident
and the deployment Steward recorded. Debian's Alertmanager, configured with
nothing but the documented ``pagerduty_configs`` and a team's routing key (no
service), sends the alerts of two services, and each lands in its own service's
incident.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pagerduty
import pdpyras
import pytest
import requests
from serving import (
    Tls,
    admin_token,
    alertmanager,
    database_env,
    make_tls,
    post_alerts,
    served,
    steward,
    wait_until,
)

pytestmark = pytest.mark.e2e

CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: storefront}
spec: {type: team, children: []}
"""
SERVICE = """\
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {{name: {name}}}
spec: {{type: service, lifecycle: production, owner: {owner}}}
"""
SERVICES = {"checkout-api": "storefront", "ledger": "payments", "svc-a": "payments",
            "svc-b": "payments"}


@dataclass(frozen=True)
class Steward:
    url: str
    tls: Tls
    api: httpx.Client
    keys: dict[str, str]  # routing keys: by service, and "payments" for the team's own


@pytest.fixture(scope="module")
def steward_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Steward]:
    folder = tmp_path_factory.mktemp("real-clients")
    tls = make_tls(folder / "tls")
    env = database_env(folder / "steward.db")
    assert steward(env, "init").returncode == 0
    catalog = folder / "catalog.yaml"
    catalog.write_text(CATALOG + "".join(SERVICE.format(name=name, owner=owner)
                                         for name, owner in SERVICES.items()))
    imported = steward(env, "catalog", "import", str(catalog))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    keys = {}
    for service in ("checkout-api", "ledger"):
        created = steward(env, "integration", "create", "--type", "pagerduty",
                          "--service", service)
        assert created.returncode == 0, created.stderr
        keys[service] = created.stdout.strip()
    created = steward(env, "integration", "create", "--type", "pagerduty", "--team", "payments")
    assert created.returncode == 0, created.stderr
    keys["payments"] = created.stdout.strip()
    assert all(len(key) == 32 for key in keys.values())
    admin = admin_token(env)
    log = folder / "serve.log"
    try:
        with served(env, log, tls=tls) as url, httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {admin}"},
                verify=tls.client_context(), timeout=10) as api:
            yield Steward(url, tls, api, keys)
    except BaseException:
        print(f"----- steward serve log -----\n{log.read_text()}")
        raise


def _incident_of(api: httpx.Client, service: str) -> dict[str, Any]:
    listed = api.get("/api/v1/incidents", params={"service": service}).json()
    assert listed["total"] == 1, listed
    return api.get(f"/api/v1/incidents/{listed['items'][0]['id']}").json()  # type: ignore[no-any-return]


def _deployments_of(api: httpx.Client, service: str) -> list[dict[str, Any]]:
    return api.get("/api/v1/deployments", params={"service": service}).json()["items"]  # type: ignore[no-any-return]


def _alert_lifecycle(api: httpx.Client, service: str, trigger: Any, acknowledge: Any,
                     resolve: Any) -> dict[str, Any]:
    """Trigger, acknowledge and resolve one alert with a client's own methods; the incident
    Steward opened follows: triggered, acknowledged, mitigated (its only alert resolved)."""
    dedup_key = trigger()
    assert isinstance(dedup_key, str) and dedup_key
    incident = _incident_of(api, service)
    assert incident["status"] == "triggered"
    assert incident["origin_service"] == service
    [alert] = incident["alerts"]
    assert alert["source"] == "pagerduty" and alert["dedup_key"] == dedup_key
    assert alert["status"] == "firing" and alert["service"] == service

    assert acknowledge(dedup_key) == dedup_key
    incident = _incident_of(api, service)
    assert incident["status"] == "acknowledged" and incident["acknowledged_at"]
    assert [a["status"] for a in incident["alerts"]] == ["acknowledged"]

    assert resolve(dedup_key) == dedup_key
    incident = _incident_of(api, service)
    assert incident["status"] == "mitigated" and incident["mitigated_at"]
    assert [a["status"] for a in incident["alerts"]] == ["resolved"]
    assert incident["alerts"][0]["resolved_at"]
    return incident


def test_pagerduty_events_api_v2_client(steward_tls: Steward, request: pytest.FixtureRequest):
    key = steward_tls.keys["checkout-api"]
    client = pagerduty.EventsApiV2Client(key, base_url=steward_tls.url,
                                         verify=steward_tls.tls.client_context())
    request.addfinalizer(client.close)  # see closed_when_done
    client.max_network_attempts = 0  # a refused connection fails the test at once

    def trigger() -> str:
        return client.trigger(  # type: ignore[no-any-return]
            "Checkout p99 latency above 2 s", "checkout-api-7f9c4", severity="error",
            payload={"component": "http", "group": "checkout", "class": "latency"},
            custom_details={"p99_ms": 2310, "threshold_ms": 2000},
            links=[{"href": "https://grafana.example.com/d/checkout", "text": "dashboard"}])

    incident = _alert_lifecycle(steward_tls.api, "checkout-api", trigger, client.acknowledge,
                                client.resolve)
    alert = incident["alerts"][0]
    assert alert["summary"] == "Checkout p99 latency above 2 s"
    assert alert["severity"] == "error"
    assert alert["labels"] == {"source": "checkout-api-7f9c4", "component": "http",
                               "group": "checkout", "class": "latency"}
    assert alert["details"]["custom_details"] == {"p99_ms": 2310, "threshold_ms": 2000}
    assert incident["team"] == "storefront"

    # Change events. The client's own timestamp is broken in this release (it calls
    # datetime.timezone on the datetime class), so submit() is given one.
    deployed = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    client.submit("Deploy checkout-api 2.14.0", source="argo-cd",
                  custom_details={"environment": "production", "revision": "2.14.0",
                                  "user": "alice"},
                  links=[{"href": "https://git.example.com/checkout/releases/2.14.0",
                          "text": "release notes"}],
                  timestamp=deployed.isoformat())
    client.send_change_event(payload={"summary": "Feature flag fast-pay on",
                                      "source": "flagd",
                                      "custom_details": {"environment": "staging"}})
    by_description = {d["description"]: d for d in _deployments_of(steward_tls.api,
                                                                  "checkout-api")}
    assert set(by_description) == {"Deploy checkout-api 2.14.0", "Feature flag fast-pay on"}
    release = by_description["Deploy checkout-api 2.14.0"]
    assert release["environment"] == "production" and release["version"] == "2.14.0"
    assert release["status"] == "succeeded" and release["source"] == "pagerduty"
    assert release["finished_at"] == deployed.isoformat().replace("+00:00", "Z")
    assert release["url"] == "https://git.example.com/checkout/releases/2.14.0"
    flag = by_description["Feature flag fast-pay on"]
    assert flag["environment"] == "staging" and not flag["version"]


Session = TypeVar("Session", bound=requests.Session)


def closed_when_done(request: pytest.FixtureRequest, session: Session) -> Session:
    """A client's connections closed when the test ends: a kept-alive TLS connection left
    open holds the module's server up when it stops (it waits for the client to answer
    the connection's close), ten seconds until it is killed."""
    request.addfinalizer(session.close)
    return session


def _trust_test_ca(monkeypatch: pytest.MonkeyPatch, tls: Tls) -> None:
    """pdpyras sessions are requests sessions: REQUESTS_CA_BUNDLE, where it is set, wins
    over a session's own ``verify``, so the test CA is given there."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca))


def test_pdpyras_sessions(steward_tls: Steward, monkeypatch: pytest.MonkeyPatch,
                          request: pytest.FixtureRequest):
    _trust_test_ca(monkeypatch, steward_tls.tls)
    key = steward_tls.keys["ledger"]
    events = closed_when_done(request, pdpyras.EventsAPISession(key))
    events.url = steward_tls.url
    events.max_network_attempts = 0

    def trigger() -> str:
        return events.trigger(  # type: ignore[no-any-return]
            "Ledger replication lag 45 s", "ledger-db-2", dedup_key="ledger/replication-lag",
            severity="warning", custom_details={"lag_seconds": 45})

    incident = _alert_lifecycle(steward_tls.api, "ledger", trigger, events.acknowledge,
                                events.resolve)
    alert = incident["alerts"][0]
    assert alert["dedup_key"] == "ledger/replication-lag"
    assert alert["severity"] == "warning" and alert["summary"] == "Ledger replication lag 45 s"
    assert incident["team"] == "payments"

    changes = closed_when_done(request, pdpyras.ChangeEventsAPISession(key))
    changes.url = steward_tls.url
    changes.max_network_attempts = 0
    before = datetime.now(UTC)
    # Its own timestamp this time: datetime.utcnow().isoformat() + "Z".
    changes.submit("Ledger schema migration 0042", source="flyway",
                   custom_details={"revision": "0042", "environment": "production"},
                   links=[{"href": "https://ci.example.com/ledger/981", "text": "pipeline"}])
    [migration] = _deployments_of(steward_tls.api, "ledger")
    assert migration["description"] == "Ledger schema migration 0042"
    assert migration["version"] == "0042" and migration["environment"] == "production"
    assert migration["url"] == "https://ci.example.com/ledger/981"
    finished = datetime.fromisoformat(migration["finished_at"])
    assert before - timedelta(seconds=1) <= finished <= datetime.now(UTC)


def test_pdpyras_is_told_what_steward_refuses(steward_tls: Steward,
                                              monkeypatch: pytest.MonkeyPatch,
                                              request: pytest.FixtureRequest):
    """A wrong routing key is a PagerDuty-shaped 400 the client reports, not a retry loop."""
    _trust_test_ca(monkeypatch, steward_tls.tls)
    events = closed_when_done(request, pdpyras.EventsAPISession("0" * 32))
    events.url = steward_tls.url
    with pytest.raises(pdpyras.PDHTTPError) as refused:
        events.trigger("Nobody's alert", "nowhere")
    response = refused.value.response
    assert response.status_code == 400
    assert response.json() == {"status": "invalid event", "message": "Event object is invalid",
                               "errors": ["Invalid routing key"]}


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_alertmanager_pagerduty_receiver_routes_each_service_to_its_incident(
        steward_tls: Steward, tmp_path: Path):
    """Only documented pagerduty_configs fields: the service comes from the alert labels
    that Alertmanager's default custom_details text lists."""
    config = {
        "route": {"receiver": "steward", "group_by": ["alertname", "service"],
                  "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "steward", "pagerduty_configs": [{
            "routing_key": steward_tls.keys["payments"],
            "url": f"{steward_tls.url}/v2/enqueue",
            "http_config": {"tls_config": {"ca_file": str(steward_tls.tls.ca)}}}]}],
    }
    api = steward_tls.api
    started = datetime.now(UTC) - timedelta(seconds=5)
    alerts = [{"labels": {"alertname": "HighErrorRate", "service": service,
                          "severity": "critical"},
               "annotations": {"summary": f"5xx above 5 % on {service}"},
               "startsAt": _z(started), "endsAt": _z(started + timedelta(hours=1))}
              for service in ("svc-a", "svc-b")]
    with alertmanager(tmp_path, config) as (am, am_log):
        try:
            post_alerts(am, alerts)

            def both_opened() -> bool:
                return all(api.get("/api/v1/incidents", params={"service": s}).json()["total"]
                           for s in ("svc-a", "svc-b"))

            wait_until(both_opened, timeout=30, what="an incident for each service")
            for service in ("svc-a", "svc-b"):
                incident = _incident_of(api, service)
                assert incident["origin_service"] == service
                assert incident["services"] == [service]
                assert incident["team"] == "payments"
                [alert] = incident["alerts"]
                assert alert["source"] == "pagerduty" and alert["service"] == service
                assert alert["summary"] == f"[FIRING:1] HighErrorRate {service} (critical)"

            ended = datetime.now(UTC)
            post_alerts(am, [{**a, "endsAt": _z(ended)} for a in alerts])

            def both_mitigated() -> bool:
                return all(_incident_of(api, s)["status"] == "mitigated"
                           for s in ("svc-a", "svc-b"))

            wait_until(both_mitigated, timeout=30, what="both incidents to be mitigated")
        except BaseException:
            print(f"----- alertmanager log -----\n{am_log.read_text()}")
            raise
    problems = [line for line in am_log.read_text().splitlines()
                if "level=error" in line or "level=warn" in line]
    assert not problems, "\n".join(problems)
