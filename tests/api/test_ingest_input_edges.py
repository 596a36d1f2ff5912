"""Events from monitoring with text PostgreSQL cannot store are recorded, cleaned, rather
than lost; only what cannot be read at all (JSON nested absurdly deep) is refused, in each
sender's own error shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import api_client, bearer, make_service, make_team
from sqlalchemy import select

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.incidents.models import Alert, Incident

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def client(db):  # type: ignore[no-untyped-def]
    make_team(db, "pay")
    make_service(db, "ledger", owner="pay")
    return api_client(db)


def key(db, type: str) -> str:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return create_integration(session, SYSTEM, type, service="ledger")[1]


def stored(db) -> list[Alert]:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        found = list(session.scalars(select(Alert).order_by(Alert.id)))
        session.expunge_all()
        return found


def post_raw(client, path: str, raw: str, token: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json", **(bearer(token) if token else {})}
    return client.post(path, content=raw.encode(), headers=headers)


def test_generic_alert_with_nul_is_recorded_without_it(client, db):
    sent = client.post("/api/v1/alerts", headers=bearer(key(db, "generic")), json={
        "dedup_key": "nul\x00key", "status": "firing", "summary": "disk\x00 full",
        "labels": {"host\x00": "db\x001"}, "details": {"note": ["a\x00b", {"c": "\x00"}]},
        "url": "https://grafana.example/d/1\x00"})
    assert sent.status_code == 202, sent.text
    [alert] = stored(db)
    assert (alert.dedup_key, alert.summary) == ("nulkey", "disk full")
    assert alert.labels == {"host": "db1"}
    assert alert.details == {"note": ["ab", {"c": ""}]}
    assert alert.url == "https://grafana.example/d/1"


def test_generic_alert_with_a_lone_surrogate_is_recorded_with_a_replacement(client, db):
    raw = '{"dedup_key": "s", "status": "firing", "summary": "bad \\ud800 text"}'
    sent = post_raw(client, "/api/v1/alerts", raw, key(db, "generic"))
    assert sent.status_code == 202, sent.text
    assert stored(db)[0].summary == "bad \ufffd text"


def test_alertmanager_alert_with_nul_is_recorded_without_it(client, db):
    body = json.loads((PAYLOADS / "alertmanager" / "am-webhook-v4-firing.json").read_text()
                      )["body"]
    for alert in body["alerts"]:
        alert["annotations"]["summary"] = "queue\x00 stuck"
        alert["labels"]["service"] = "ledger"
    sent = client.post("/ingest/alertmanager", headers=bearer(key(db, "alertmanager")),
                       json=body)
    assert sent.status_code == 202, sent.text
    assert [a.summary for a in stored(db)] == ["queue stuck"] * len(body["alerts"])


def test_alertmanager_json_nested_a_thousand_deep_is_refused(client, db):
    raw = '{"version": "4", "alerts": [], "groupLabels": ' + DEEP + "}"
    sent = post_raw(client, "/ingest/alertmanager", raw, key(db, "alertmanager"))
    assert sent.status_code in (400, 422)
    assert "nested" in sent.json()["error"]


def pagerduty_trigger(routing: str, summary: str = "Disk full") -> dict:  # type: ignore[type-arg]
    return {"routing_key": routing, "event_action": "trigger", "dedup_key": "disk",
            "payload": {"summary": summary, "source": "db1", "severity": "critical"}}


def test_pagerduty_event_with_nul_and_a_lone_surrogate_is_recorded(client, db):
    routing = key(db, "pagerduty")
    sent = client.post("/v2/enqueue", json=pagerduty_trigger(routing, "disk\x00 full"))
    assert sent.status_code == 202, sent.text
    raw = json.dumps(pagerduty_trigger(routing, "SURROGATE")).replace("SURROGATE",
                                                                      "disk \\udfff full")
    again = post_raw(client, "/v2/enqueue", raw)
    assert again.status_code == 202, again.text
    [alert] = stored(db)
    assert alert.summary == "disk \ufffd full" and alert.count == 2


def test_pagerduty_json_nested_a_thousand_deep_gets_pagerdutys_400(client, db):
    body = json.dumps(pagerduty_trigger(key(db, "pagerduty")))
    raw = body.replace('"severity": "critical"',
                       '"severity": "critical", "custom_details": {"x": ' + DEEP + "}")
    sent = post_raw(client, "/v2/enqueue", raw)
    assert sent.status_code == 400
    answer = sent.json()
    assert answer["status"] == "invalid event" and "nested" in " ".join(answer["errors"])
    change = post_raw(client, "/v2/change/enqueue", '{"routing_key": "x", "payload": '
                      '{"summary": "deploy", "custom_details": ' + DEEP + "}}")
    assert change.status_code == 400 and change.json()["status"] == "invalid event"
    assert stored(db) == []


def test_a_long_pagerduty_summary_keeps_the_event(client, db):
    summary = "Replica lag " + "x" * 1000  # PagerDuty's own limit is 1024
    sent = client.post("/v2/enqueue", json=pagerduty_trigger(key(db, "pagerduty"), summary))
    assert sent.status_code == 202, sent.text
    [alert] = stored(db)
    with db.read_session() as session:
        title = session.get(Incident, alert.incident_id).title
    assert alert.summary == summary
    assert title.startswith("Replica lag") and len(title) <= 500


def cdevent(environment: str = "production", event_id: str = "e-1") -> dict:  # type: ignore[type-arg]
    body = json.loads((PAYLOADS / "cdevents" / "v0.5.1-service_deployed.json").read_text())
    body["context"]["id"] = event_id
    body["subject"]["content"]["environment"]["id"] = environment
    return body


def test_deployment_events_with_values_longer_than_their_columns(client, db):
    token = key(db, "cdevents")
    long_id = "urn:event:" + "9" * 400  # identifies the delivery: longer than its column
    recorded = client.post("/ingest/cdevents", headers=bearer(token),
                           json=cdevent(event_id=long_id))
    assert recorded.status_code == 201, recorded.text
    again = client.post("/ingest/cdevents", headers=bearer(token), json=cdevent(event_id=long_id))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    refused = client.post("/ingest/cdevents", headers=bearer(token),
                          json=cdevent(environment="e" * 101, event_id="e-2"))
    assert refused.status_code == 422 and refused.json()["field"] == "environment"
