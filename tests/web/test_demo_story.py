"""What the demo shows a responder, read through the public API as a viewer, on SQLite
and (when configured) PostgreSQL.

The demo's open incidents (``steward.demo.incidents``) are each there to show one rule:

- the core-db cascade: core-db alerts first, the services that need it a few minutes
  later, then the transfers SLO's burn alerts about a quarter of an hour after the
  start: one incident, origin core-db, however late its related alerts come;
- billing-api then ledger-db, before anyone acknowledged: the probable origin is
  revised to ledger-db, and the timeline says so;
- auth-service joins the cascade after carol acknowledged it: Identity becomes a
  responding team, and the owning team stays Platform;
- severity means impact: the open incidents' priorities differ (a warning on
  support-desk is not a P1), and the live health of services follows.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from webclient import sign_in

CASCADE = "core-db: too many connections, primary refusing clients"
LEDGER = "billing-api: 12% of invoice lookups fail"
WEB_NODE = "web-node-2: health checks failing, taken out of web-pool"
SUPPORT = "support-desk: ticket queue stuck, 140 tickets waiting over 30 min"
OPEN = "triggered,acknowledged,mitigated"


def api(client: TestClient, path: str) -> Any:
    response = client.get(f"/api/v1{path}")
    assert response.status_code == 200, (path, response.text)
    return response.json()


def open_incidents(client: TestClient) -> dict[str, dict[str, Any]]:
    """The open incidents by title."""
    return {i["title"]: i for i in api(client, f"/incidents?status={OPEN}&limit=500")["items"]}


def detail(client: TestClient, title: str) -> dict[str, Any]:
    return api(client, f"/incidents/{open_incidents(client)[title]['id']}")  # type: ignore[no-any-return]


def viewer(web: TestClient) -> TestClient:
    sign_in(web, "viewer")
    return web


def test_the_core_db_cascade_is_one_incident_with_its_late_slo_alerts(web):  # type: ignore[no-untyped-def]
    client = viewer(web)
    opened = open_incidents(client)
    with_core_db = [i for i in opened.values() if "core-db" in i["services"]]
    assert [i["title"] for i in with_core_db] == [CASCADE]
    cascade = with_core_db[0]
    assert cascade["origin_service"] == "core-db" and cascade["team"] == "platform"
    assert cascade["status"] == "acknowledged" and cascade["priority"] == "P1"
    assert {"core-db", "orders-service", "accounts-service", "auth-service",
            "transfers-service"} <= set(cascade["services"])
    # The transfers SLO's burn alerts fired about a quarter of an hour after the cascade
    # began: they joined it, and no other open incident holds transfers-service.
    burns = [a for a in api(client, "/alerts?service=transfers-service&limit=500")["items"]
             if a["source"] == "slo"]
    assert burns and {a["incident_id"] for a in burns} == {cascade["id"]}
    assert [i["title"] for i in opened.values() if "transfers-service" in i["services"]] == [
        CASCADE]
    assert sum(1 for i in opened.values() if i["priority"] == "P1") == 1


def test_open_incidents_have_different_priorities(web):  # type: ignore[no-untyped-def]
    opened = open_incidents(viewer(web))
    assert {CASCADE, LEDGER, WEB_NODE, SUPPORT} <= set(opened)
    assert len({i["priority"] for i in opened.values()}) >= 3


def test_priorities_follow_what_the_severities_mean(web):  # type: ignore[no-untyped-def]
    opened = open_incidents(viewer(web))
    assert opened[CASCADE]["priority"] == "P1"  # critical, tier-1 core-db down
    assert opened[LEDGER]["priority"] == "P2"  # errors; customer payments down
    assert opened[WEB_NODE]["priority"] == "P3"  # error; one node of three: the pool degraded
    # A warning degrades support-desk (tier 2) and so customer support: never a P1.
    assert opened[SUPPORT]["priority"] in ("P4", "P5")
    assert opened[SUPPORT]["business_services_down"] == []


def test_origin_revised_before_acknowledgement_is_in_the_timeline(web):  # type: ignore[no-untyped-def]
    ledger = detail(viewer(web), LEDGER)
    assert ledger["origin_service"] == "ledger-db" and ledger["team"] == "platform"
    assert ledger["status"] == "acknowledged"
    revisions = [e for e in ledger["timeline"] if e["kind"] == "origin"]
    assert len(revisions) == 1
    revision = revisions[0]
    assert revision["text"].startswith("Probable origin revised: billing-api -> ledger-db.")
    assert "order-to-cash -> platform" in revision["text"]
    assert (revision["data"]["from"], revision["data"]["to"]) == ("billing-api", "ledger-db")
    assert revision["at"] < ledger["acknowledged_at"]


def test_a_team_joining_after_acknowledgement_responds_without_taking_over(web):  # type: ignore[no-untyped-def]
    cascade = detail(viewer(web), CASCADE)
    assert cascade["team"] == "platform" and cascade["origin_service"] == "core-db"
    responding = {t["team"]: t for t in cascade["responding_teams"]}
    assert {"identity", "order-to-cash", "banking-webapp"} <= set(responding)
    assert "platform" not in responding
    identity = responding["identity"]
    assert identity["reason"] == "owns auth-service"
    assert identity["added_at"] > cascade["acknowledged_at"]
    entries = [e["text"] for e in cascade["timeline"] if e["kind"] == "team"]
    assert "identity added as a responding team: owns auth-service" in entries
    # the origin was kept: an acknowledged incident's origin never moves by itself
    assert not any(e["text"].startswith("Probable origin revised")
                   for e in cascade["timeline"])


def states(body: Any) -> dict[str, dict[str, Any]]:
    """Every service's live health by name, whether the answer is a list or a page."""
    rows = body
    if isinstance(body, dict):
        rows = body.get("items", body.get("services"))
    assert isinstance(rows, list), body
    return {row["service"]: row for row in rows}


def test_live_health_shows_the_cascade(web):  # type: ignore[no-untyped-def]
    client = viewer(web)
    health = states(api(client, "/health"))
    assert health["core-db"]["state"] == "down"
    cascade_id = open_incidents(client)[CASCADE]["id"]
    assert cascade_id in [i["id"] for i in health["core-db"]["incidents"]]
    for dependant in ("orders-service", "accounts-service", "auth-service", "accounts-api",
                      "banking-web", "online-banking", "order-to-cash-process"):
        assert health[dependant]["state"] in ("down", "degraded"), dependant
    assert health["orders-service"]["state"] == "down"  # a hard dependency is down
    assert health["ledger-db"]["state"] == "down"
    assert health["web-node-2"]["state"] == "down"
    assert health["web-pool"]["state"] == "degraded"  # two of three nodes are up
    assert {row["state"] for row in health.values()} <= {"up", "degraded", "down", "unknown"}
    assert health["smtp-relay"]["state"] in ("up", "unknown")  # nothing open reaches it
    one = api(client, "/services/core-db")
    assert one["health"]["state"] == "down"
    assert cascade_id in [i["id"] for i in one["health"]["incidents"]]
