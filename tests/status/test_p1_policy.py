"""The P1 publishing policy: a team that says so has its P1 incidents' suggested first
update published by itself a minute after they open; nothing else goes out by itself.
Set from the team's page and the API."""

from __future__ import annotations

from datetime import timedelta

from helpers import api_client, bearer, make_user, run_timers_of
from sqlalchemy import select
from status_world import declare_on, world
from webclient import HTML, sign_in

from steward.db import Database
from steward.demo.seed import DEMO_PASSWORD
from steward.incidents.models import TimelineEntry
from steward.status.listeners import KIND
from steward.timeutil import utcnow


def _updates(client, token: str, incident: int) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return list(client.get(f"/api/v1/incidents/{incident}/updates",
                           headers=bearer(token)).json()["items"])


def _settle(db: Database) -> None:
    run_timers_of(db, KIND, now=utcnow() + timedelta(minutes=2))


def test_a_team_page_toggle_makes_p1_incidents_publish_by_themselves(db: Database) -> None:
    tokens = world(db)
    make_user(db, "ann", teams=["payments"], password=DEMO_PASSWORD)
    client = api_client(db)
    csrf = sign_in(client, "ann")
    page = client.get("/teams/payments", headers=HTML).text
    assert "Nothing about the team's incidents reaches" in page
    saved = client.post("/teams/payments/status-policy", data={
        "csrf_token": csrf, "auto_publish_p1": "on"}, follow_redirects=False)
    assert saved.status_code == 303
    assert "automatic for P1" in client.get("/teams/payments", headers=HTML).text
    assert client.get("/api/v1/teams/payments/status-policy",
                      headers=bearer(tokens["alice"])).json() == {
        "team": "payments", "auto_publish_p1": True}

    p1 = declare_on(db)
    p3 = declare_on(db, impact=3, urgency=3, title="slow reports")
    other_team = declare_on(db, service="help-centre", title="search down")
    assert _updates(client, tokens["alice"], p1) == []  # not before it settles
    _settle(db)
    [update] = _updates(client, tokens["alice"], p1)
    assert update["automatic"] and update["author"] is None
    assert update["status"] == "investigating" and update["title"] == "Checkout unavailable"
    assert [c["name"] for c in update["components"]] == ["Checkout"]
    assert _updates(client, tokens["alice"], p3) == []
    assert _updates(client, tokens["alice"], other_team) == []
    with db.read_session() as session:
        text = session.scalars(select(TimelineEntry.text).where(
            TimelineEntry.incident_id == p1, TimelineEntry.kind == "public_update")).one()
    assert "automatically (the team's P1 policy)" in text


def test_without_the_policy_or_with_an_update_already_nothing_goes_out(db: Database) -> None:
    tokens = world(db)
    client = api_client(db)
    quiet = declare_on(db)
    _settle(db)
    assert _updates(client, tokens["alice"], quiet) == []
    assert client.put("/api/v1/teams/payments/status-policy", headers=bearer(tokens["vic"]),
                      json={"auto_publish_p1": True}).status_code == 403
    assert client.put("/api/v1/teams/payments/status-policy",
                      headers=bearer(tokens["alice"]),
                      json={"auto_publish_p1": True}).status_code == 200
    assert client.put("/api/v1/teams/nobody/status-policy", headers=bearer(tokens["root"]),
                      json={"auto_publish_p1": True}).status_code == 404
    written = declare_on(db)
    client.post(f"/api/v1/incidents/{written}/updates", headers=bearer(tokens["alice"]),
                json={"status": "investigating", "title": "Checkout down",
                      "body": "Written by a person first."})
    _settle(db)
    assert [u["automatic"] for u in _updates(client, tokens["alice"], written)] == [False]
