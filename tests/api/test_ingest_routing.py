"""Which service an event lands on, for every source, through the HTTP endpoints.

One rule (``catalog.event_routing``) for every alert and deployment source:
the service the event names wins when the integration key may send for it (a
team's key: that team's services; a key of no team: any); another team's
service is refused with the field named and nothing stored; an event naming
nothing goes to the key's own service; a name the catalog does not know goes to
the key's own service and stays visible; with no service on the key either, it
is refused.

The catalog: team ``payments`` owns ``payments-api`` and ``payments-db``; team
``core`` owns ``ledger``. Each service's repository is ``acme/<name>`` on
GitHub and GitLab. Payloads are the real captures and documented examples of
``tests/fixtures/payloads``, with the service they name changed in memory.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import api_client, bearer, make_service, make_team
from sqlalchemy import func, select

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.catalog import graph
from steward.catalog.models import Service
from steward.changes.models import Deployment
from steward.incidents.models import Alert

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
GHOST = "ghost-svc"  # a name no catalog service has


def payload(*parts: str) -> Any:
    return json.loads(PAYLOADS.joinpath(*parts).read_text())


def capture(name: str) -> Any:
    return payload("alertmanager", name)["body"]


Send = Callable[[Any, str, str | None], httpx.Response]


@dataclass(frozen=True)
class Source:
    name: str
    stores: str  # "alert" or "deployment"
    type: str  # the integration type its key has
    field: str  # the wire field that names the service (or the repository)
    refused: int  # the status of a refusal
    send: Send
    names_nothing: bool = True  # whether an event can leave the service out

    def __str__(self) -> str:
        return self.name


def _labelled(alerts: list[dict[str, Any]], named: str | None) -> None:
    for alert in alerts:
        alert["labels"].pop("service", None)
        if named is not None:
            alert["labels"]["service"] = named


def send_alertmanager(client: Any, key: str, named: str | None) -> httpx.Response:
    body = capture("am-webhook-v4-firing.json")
    _labelled(body["alerts"], named)
    return client.post("/ingest/alertmanager", headers=bearer(key), json=body)


def send_grafana(client: Any, key: str, named: str | None) -> httpx.Response:
    body = payload("grafana", "webhook-docs-example.json")
    body["alerts"] = body["alerts"][:1]
    _labelled(body["alerts"], named)
    return client.post("/ingest/grafana", headers=bearer(key), json=body)


def send_alertmanager_pagerduty(client: Any, key: str, named: str | None) -> httpx.Response:
    """Alertmanager 0.25's PagerDuty receiver with its default details: the service is
    a label in the text of ``custom_details.firing``."""
    body = capture("am-pagerduty-default-trigger.json")
    custom = body["payload"]["custom_details"]
    replacement = "" if named is None else f" - service = {named}\n"
    custom["firing"] = custom["firing"].replace(" - service = payments-db\n", replacement)
    body["routing_key"] = key
    return client.post("/v2/enqueue", json=body)


def send_pagerduty(client: Any, key: str, named: str | None) -> httpx.Response:
    body = payload("pagerduty", "alert-event-docs-trigger.json")
    body["routing_key"] = key
    body["payload"]["custom_details"] = {} if named is None else {"service": named}
    return client.post("/v2/enqueue", json=body)


def send_generic_alert(client: Any, key: str, named: str | None) -> httpx.Response:
    alert = {"dedup_key": "disk-full-db1", "status": "firing", "summary": "Disk full"}
    if named is not None:
        alert["service"] = named
    return client.post("/api/v1/alerts", headers=bearer(key), json=alert)


def send_cdevents_incident(client: Any, key: str, named: str | None) -> httpx.Response:
    event = payload("cdevents", "v0.5.1-incident_detected.json")
    content = event["subject"]["content"]
    content.pop("service")
    if named is not None:
        content["service"] = {"id": f"/clusterA/namespaceB/{named}"}
    return client.post("/ingest/cdevents", headers=bearer(key), json=event)


def send_github(client: Any, key: str, named: str | None) -> httpx.Response:
    assert named is not None
    body = payload("github", "deployment", "payload.json")
    body["repository"]["full_name"] = f"acme/{named}"
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/ingest/github", content=raw, headers={
        "X-GitHub-Event": "deployment", "X-GitHub-Delivery": f"delivery-{named}",
        "X-Hub-Signature-256": signature, "content-type": "application/json"})


def send_gitlab(client: Any, key: str, named: str | None) -> httpx.Response:
    assert named is not None
    body = payload("gitlab", "deployment-hook.json")
    body["project"]["path_with_namespace"] = f"acme/{named}"
    return client.post("/ingest/gitlab", json=body, headers={
        "X-Gitlab-Token": key, "X-Gitlab-Event": "Deployment Hook"})


def send_cdevents_deployment(client: Any, key: str, named: str | None) -> httpx.Response:
    assert named is not None
    event = payload("cdevents", "v0.5.1-service_deployed.json")
    event["subject"]["id"] = f"service/{named}"
    return client.post("/ingest/cdevents", headers=bearer(key), json=event)


def send_pagerduty_change(client: Any, key: str, named: str | None) -> httpx.Response:
    event = payload("pagerduty", "change-event-docs-example.json")
    event["routing_key"] = key
    event["payload"]["custom_details"] = {} if named is None else {"service": named}
    return client.post("/v2/change/enqueue", json=event)


SOURCES = [
    Source("alertmanager", "alert", "alertmanager", "labels.service", 403, send_alertmanager),
    Source("grafana", "alert", "grafana", "labels.service", 403, send_grafana),
    Source("alertmanager-pagerduty", "alert", "pagerduty", "payload.custom_details.firing",
           400, send_alertmanager_pagerduty),
    Source("pagerduty", "alert", "pagerduty", "payload.custom_details.service", 400,
           send_pagerduty),
    Source("generic-alert", "alert", "generic", "service", 403, send_generic_alert),
    Source("cdevents-incident", "alert", "cdevents", "subject.content.service.id", 403,
           send_cdevents_incident),
    Source("github", "deployment", "github", "repository.full_name", 403, send_github,
           names_nothing=False),
    Source("gitlab", "deployment", "gitlab", "project.path_with_namespace", 403, send_gitlab,
           names_nothing=False),
    Source("cdevents-deployment", "deployment", "cdevents", "subject.id", 403,
           send_cdevents_deployment, names_nothing=False),
    Source("pagerduty-change", "deployment", "pagerduty", "payload.custom_details.service",
           400, send_pagerduty_change),
]
NAMING_NOTHING = [s for s in SOURCES if s.names_nothing]


@pytest.fixture
def client(db):  # type: ignore[no-untyped-def]
    # The graph (and the routes kept with it) is cached per database URL and catalog
    # revision; a PostgreSQL test database is emptied between tests, so a revision can
    # come back with another test's catalog.
    graph._cache.clear()
    make_team(db, "payments")
    make_team(db, "core")
    for name, team in (("payments-api", "payments"), ("payments-db", "payments"),
                       ("ledger", "core")):
        make_service(db, name, owner=team, annotations={
            "github.com/project-slug": f"acme/{name}", "gitlab.com/project-slug": f"acme/{name}"})
    return api_client(db)


def new_key(db, source: Source, *, service: str | None = None,  # type: ignore[no-untyped-def]
            team: str | None = None) -> str:
    with db.session() as session:
        return create_integration(session, SYSTEM, source.type, service=service, team=team)[1]


def stored(db, source: Source) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(service, what keeps an unknown name visible) of every stored alert or deployment:
    an alert's ``details.service_not_in_catalog``, a deployment's description."""
    with db.read_session() as session:
        if source.stores == "alert":
            rows = session.execute(select(Service.name, Alert.details).join(
                Service, Service.id == Alert.service_id).order_by(Alert.id)).all()
            return [(name, details.get("service_not_in_catalog", "")) for name, details in rows]
        rows = session.execute(select(Service.name, Deployment.description).join(
            Service, Service.id == Deployment.service_id).order_by(Deployment.id)).all()
        return [(name, description) for name, description in rows]


def nothing_stored(db) -> bool:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        return (session.scalar(select(func.count()).select_from(Alert)) == 0
                and session.scalar(select(func.count()).select_from(Deployment)) == 0)


def refusal(response: httpx.Response) -> tuple[str, str]:
    """(field, message) of a refusal, PagerDuty-shaped or Steward's own."""
    body = response.json()
    if "errors" in body:  # PagerDuty's shape: the field starts the message
        message = body["errors"][0]
        return message.split(":", 1)[0], message
    return body["field"], body["error"]


def accepted(response: httpx.Response) -> bool:
    return response.status_code in (200, 201, 202)


@pytest.mark.parametrize("source", SOURCES, ids=str)
def test_a_service_of_the_keys_team_named_by_the_event_wins(client, db, source):
    key = new_key(db, source, service="payments-api")
    response = source.send(client, key, "payments-db")
    assert accepted(response), response.text
    assert [name for name, _ in stored(db, source)] == ["payments-db"]


@pytest.mark.parametrize("source", SOURCES, ids=str)
def test_another_teams_service_is_refused_and_nothing_stored(client, db, source):
    key = new_key(db, source, service="payments-api")
    response = source.send(client, key, "ledger")
    assert response.status_code == source.refused, response.text
    field, message = refusal(response)
    assert field == source.field
    assert "ledger" in message and "another team" in message
    assert nothing_stored(db)


@pytest.mark.parametrize("source", NAMING_NOTHING, ids=str)
def test_an_event_naming_no_service_goes_to_the_keys_service(client, db, source):
    key = new_key(db, source, service="payments-api")
    response = source.send(client, key, None)
    assert accepted(response), response.text
    [(service, visible)] = stored(db, source)
    assert service == "payments-api"
    assert "catalog" not in visible and "maps to no service" not in visible


@pytest.mark.parametrize("source", SOURCES, ids=str)
def test_a_service_not_in_the_catalog_goes_to_the_keys_service_and_stays_visible(
        client, db, source):
    key = new_key(db, source, service="payments-api")
    response = source.send(client, key, GHOST)
    assert accepted(response), response.text
    [(service, visible)] = stored(db, source)
    assert service == "payments-api"
    if source.stores == "alert":
        assert visible == GHOST
    else:
        assert GHOST in visible and ("not in the catalog" in visible
                                     or "maps to no service" in visible)


@pytest.mark.parametrize("source", SOURCES, ids=str)
def test_a_key_of_no_team_sends_for_any_service(client, db, source):
    key = new_key(db, source)  # made by an admin for no team, no service of its own
    response = source.send(client, key, "ledger")
    assert accepted(response), response.text
    assert [name for name, _ in stored(db, source)] == ["ledger"]


@pytest.mark.parametrize("source", SOURCES, ids=str)
def test_a_team_key_with_no_service_refuses_what_it_cannot_place(client, db, source):
    key = new_key(db, source, team="payments")
    unknown = source.send(client, key, GHOST)
    assert unknown.status_code == (400 if source.refused == 400 else 422), unknown.text
    field, message = refusal(unknown)
    assert field == source.field and GHOST in message
    if source.names_nothing:
        unnamed = source.send(client, key, None)
        assert unnamed.status_code == (400 if source.refused == 400 else 422), unnamed.text
        assert "routes to no service" in refusal(unnamed)[1]
    assert nothing_stored(db)
    named = source.send(client, key, "payments-db")
    assert accepted(named), named.text
    assert [name for name, _ in stored(db, source)] == ["payments-db"]


def test_alertmanager_pagerduty_default_notifications_with_a_team_key(client, db):
    """Alertmanager's pagerduty_configs as documented (default details, a team's routing
    key with no service): the whole life of a group, as Alertmanager 0.25 sent it."""
    with db.session() as session:
        key = create_integration(session, SYSTEM, "pagerduty", team="payments")[1]

    def send(name: str) -> httpx.Response:
        body = copy.deepcopy(capture(name))
        body["routing_key"] = key
        return client.post("/v2/enqueue", json=body)

    first = send("am-pagerduty-default-trigger.json")
    assert first.status_code == 202, first.text
    with db.read_session() as session:
        alert = session.scalars(select(Alert)).one()
        service = session.get(Service, alert.service_id)
        assert service is not None and service.name == "payments-db"
        # payload.severity is Alertmanager's default "error"; the alerts say critical.
        assert alert.severity == "critical" and alert.status == "firing"
        assert alert.labels["alertname"] == "DiskFull"
        assert alert.labels["service"] == "payments-db"
    assert send("am-pagerduty-default-partial-resolved.json").status_code == 202
    resolved = send("am-pagerduty-default-resolve.json")
    assert resolved.status_code == 202, resolved.text
    with db.read_session() as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.status == "resolved" and alert.count == 2
    # One notification for two services (grouped by alertname only) is refused, saying why.
    mixed = send("am-pagerduty-default-two-services.json")
    assert mixed.status_code == 400
    [message] = mixed.json()["errors"]
    assert message.startswith("'payload.custom_details.firing'")
    assert "checkout, payments-api" in message and "group_by" in message
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 1


def test_pagerduty_acknowledge_and_resolve_need_no_service(client, db):
    """PagerDuty's acknowledge and resolve events carry no payload: with a team's key
    they settle the alert their dedup key names."""
    with db.session() as session:
        key = create_integration(session, SYSTEM, "pagerduty", team="payments")[1]
    trigger = payload("pagerduty", "alert-event-docs-trigger.json")
    trigger.update(routing_key=key, dedup_key="disk-db1")
    trigger["payload"]["custom_details"] = {"service": "payments-db"}
    assert client.post("/v2/enqueue", json=trigger).status_code == 202
    for action, status in (("acknowledge", "acknowledged"), ("resolve", "resolved")):
        response = client.post("/v2/enqueue", json={
            "routing_key": key, "event_action": action, "dedup_key": "disk-db1"})
        assert response.status_code == 202, response.text
        with db.read_session() as session:
            assert session.scalars(select(Alert.status)).one() == status
    # With nothing to settle, it is accepted and changes nothing, as before.
    assert client.post("/v2/enqueue", json={"routing_key": key, "event_action": "resolve",
                                            "dedup_key": "never-seen"}).status_code == 202
    assert nothing_stored(db) is False
