"""Public incident updates: the suggested draft, publishing through the API (rights,
audit, timeline), and the bad inputs a responder can send."""

from __future__ import annotations

from helpers import api_client, bearer
from sqlalchemy import select
from status_world import declare_on, world

from steward.audit.models import AuditEntry
from steward.db import Database
from steward.incidents.models import TimelineEntry


def test_the_suggestion_names_the_published_components_the_incident_takes_down(
        db: Database) -> None:
    tokens = world(db)
    incident = declare_on(db)
    client = api_client(db)
    draft = client.get(f"/api/v1/incidents/{incident}/updates/suggestion",
                       headers=bearer(tokens["alice"])).json()
    assert draft["status"] == "investigating"
    assert draft["title"] == "Checkout unavailable"
    assert [(c["name"], c["status"]) for c in draft["components"]] == [
        ("Checkout", "major_outage")]
    # Nothing internal: not the database, not the incident's own title.
    assert "payments-db" not in str(draft) and "refuses" not in draft["body"]
    assert "Checkout" in draft["body"] and "UTC" in draft["body"]


def test_the_suggestion_follows_the_incident_state(db: Database) -> None:
    tokens = world(db)
    incident = declare_on(db)
    client = api_client(db)
    auth = bearer(tokens["alice"])

    def state() -> str:
        return str(client.get(f"/api/v1/incidents/{incident}/updates/suggestion",
                              headers=auth).json()["status"])

    client.post(f"/api/v1/incidents/{incident}/acknowledge", headers=auth, json={})
    assert state() == "investigating"  # acknowledged, cause not known yet
    client.post(f"/api/v1/incidents/{incident}/mitigate", headers=auth, json={})
    assert state() == "monitoring"
    client.post(f"/api/v1/incidents/{incident}/resolve", headers=auth, json={})
    resolved = client.get(f"/api/v1/incidents/{incident}/updates/suggestion",
                          headers=auth).json()
    assert resolved["status"] == "resolved"
    assert [c["status"] for c in resolved["components"]] == ["operational"]


def test_publishing_an_update_is_listed_audited_and_on_the_timeline(db: Database) -> None:
    tokens = world(db)
    incident = declare_on(db)
    client = api_client(db)
    auth = bearer(tokens["alice"])
    answer = client.post(f"/api/v1/incidents/{incident}/updates", headers=auth, json={
        "status": "investigating", "title": "Checkout unavailable",
        "body": "Payments fail at checkout; we are on it.",
        "components": [{"name": "checkout", "status": "major_outage"}]})
    assert answer.status_code == 201, answer.text
    first = answer.json()
    assert first["author"] == "alice" and not first["automatic"]
    assert first["components"] == [{"service_id": first["components"][0]["service_id"],
                                     "name": "Checkout", "status": "major_outage",
                                     "published": True}]
    # A later update keeps the title when none is given; a name alone gets the status
    # the suggestion gives it.
    second = client.post(f"/api/v1/incidents/{incident}/updates", headers=auth, json={
        "status": "identified", "body": "A connection limit; raising it.",
        "components": ["Checkout"]}).json()
    assert second["title"] == "Checkout unavailable"
    assert second["components"][0]["status"] == "major_outage"
    listed = client.get(f"/api/v1/incidents/{incident}/updates", headers=auth).json()
    assert listed["total"] == 2 and [u["status"] for u in listed["items"]] == [
        "identified", "investigating"]
    with db.read_session() as session:
        entries = session.execute(select(TimelineEntry.text, TimelineEntry.actor).where(
            TimelineEntry.incident_id == incident,
            TimelineEntry.kind == "public_update").order_by(TimelineEntry.id)).all()
        audited = session.scalars(select(AuditEntry.action).where(
            AuditEntry.action == "incident.public_update")).all()
    assert [e.text.split(":")[0] for e in entries] == ["Public update published"] * 2
    assert entries[0].actor == "alice" and "Checkout unavailable" in entries[0].text
    assert len(audited) == 2


def test_bad_updates_are_refused_with_the_field_named(db: Database) -> None:
    tokens = world(db)
    incident = declare_on(db)
    client = api_client(db)
    auth = bearer(tokens["alice"])
    url = f"/api/v1/incidents/{incident}/updates"
    cases = [
        ({"status": "investigating", "title": "T", "body": "   "}, "body"),
        ({"status": "investigating", "title": "T", "body": ""}, "body"),
        ({"status": "fixed", "title": "T", "body": "text"}, "status"),
        ({"status": "investigating", "body": "no title on the first update"}, "title"),
        ({"status": "investigating", "title": "T", "body": "b",
          "components": ["payments-db"]}, "components"),  # not published
        ({"status": "investigating", "title": "T", "body": "b",
          "components": ["no-such-thing"]}, "components"),
    ]
    for body, field in cases:
        answer = client.post(url, headers=auth, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert field in answer.text, (body, answer.text)
    assert client.get(url, headers=auth).json()["total"] == 0
    # A viewer may not publish; an unknown incident is a 404.
    refused = client.post(url, headers=bearer(tokens["vic"]), json={
        "status": "investigating", "title": "T", "body": "b"})
    assert refused.status_code == 403
    assert client.post("/api/v1/incidents/999999/updates", headers=auth, json={
        "status": "investigating", "title": "T", "body": "b"}).status_code == 404
