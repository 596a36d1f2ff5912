"""The SLO API: validation naming the field, rights, integration keys, listings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import api_client, bearer, make_service, make_team, make_user

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.timeutil import isoformat_z, utcnow


@pytest.fixture
def api(sqlite_db):
    db = sqlite_db
    make_team(db, "payments")
    make_team(db, "web")
    make_service(db, "checkout", "payments")
    make_service(db, "cart", "payments")
    make_service(db, "search", "web")
    tokens = {name: make_user(db, name, role, teams) for name, role, teams in (
        ("pat", "member", ["payments"]), ("wes", "member", ["web"]), ("vic", "viewer", []),
        ("ada", "admin", []))}
    with db.session() as session:
        keys = {name: create_integration(session, SYSTEM, "generic", **where)[1]
                for name, where in (("checkout", {"service": "checkout"}),
                                    ("cart", {"service": "cart"}),
                                    ("web", {"team": "web"}))}
    return api_client(db), tokens, keys


def new_slo(client, token, service="checkout", **fields):
    body = {"name": "availability", "objective": 0.99, "window_days": 28, "sli": "counts",
            **fields}
    return client.post(f"/api/v1/services/{service}/slos", json=body, headers=bearer(token))


def one_report(good=99, total=100, minutes=10):
    now = utcnow()
    return {"start": isoformat_z(now - timedelta(minutes=minutes)), "end": isoformat_z(now),
            "good": good, "total": total}


@pytest.mark.parametrize(("body", "field"), [
    ({"objective": 1}, "objective"),
    ({"objective": 0}, "objective"),
    ({"objective": "high"}, "objective"),
    ({"window_days": 0}, "window_days"),
    ({"window_days": 366}, "window_days"),
    ({"sli": "latency"}, "sli"),
    ({"name": "  "}, "name"),
    ({"colour": "red"}, "colour"),
])
def test_create_rejects_bad_fields_by_name(api, body, field):
    client, tokens, _ = api
    response = new_slo(client, tokens["pat"], **body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert client.get("/api/v1/slos", headers=bearer(tokens["pat"])).json()["total"] == 0


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"good": 101}, 422, "good"),
    ({"start": "yesterday"}, 422, "start"),
    ({"end": isoformat_z(utcnow() + timedelta(hours=1))}, 422, "end"),
    ({"start": isoformat_z(utcnow() + timedelta(days=1))}, 422, "end"),
    ({"total": -1}, 422, "total"),
])
def test_reports_reject_bad_fields_by_name(api, change, status, field):
    client, tokens, _ = api
    slo = new_slo(client, tokens["pat"]).json()
    body = {**one_report(), **change}
    response = client.post(f"/api/v1/slos/{slo['id']}/reports", json=body,
                           headers=bearer(tokens["pat"]))
    assert response.status_code == status, response.text
    assert response.json()["field"] == field


def test_a_list_of_reports_names_the_bad_item_and_stores_none(api):
    client, tokens, _ = api
    slo = new_slo(client, tokens["pat"]).json()
    response = client.post(f"/api/v1/slos/{slo['id']}/reports",
                           json=[one_report(), one_report(good=5, total=4)],
                           headers=bearer(tokens["pat"]))
    assert response.status_code == 422
    assert response.json()["field"] == "reports[1].good"
    status = client.get(f"/api/v1/slos/{slo['id']}", headers=bearer(tokens["pat"])).json()
    assert status["status"]["total"] == 0


def test_an_impact_slo_takes_no_reports(api):
    client, tokens, _ = api
    slo = new_slo(client, tokens["pat"], sli="impact").json()
    response = client.post(f"/api/v1/slos/{slo['id']}/reports", json=one_report(),
                           headers=bearer(tokens["pat"]))
    assert response.status_code == 409 and response.json()["field"] == "sli"


def test_rights(api):
    client, tokens, _ = api
    assert new_slo(client, tokens["vic"]).status_code == 403
    assert new_slo(client, tokens["wes"]).status_code == 403
    assert client.post("/api/v1/services/checkout/slos",
                       json={"name": "x", "objective": 0.9}).status_code == 401
    slo = new_slo(client, tokens["pat"]).json()
    assert new_slo(client, tokens["pat"]).status_code == 409  # same name again
    assert new_slo(client, tokens["pat"], service="nowhere").status_code == 404
    path = f"/api/v1/slos/{slo['id']}"
    # a viewer reads, but neither changes nor reports
    assert client.get(path, headers=bearer(tokens["vic"])).status_code == 200
    assert client.patch(path, json={"objective": 0.9},
                        headers=bearer(tokens["vic"])).status_code == 403
    assert client.post(f"{path}/reports", json=one_report(),
                       headers=bearer(tokens["wes"])).status_code == 403
    assert client.delete(path, headers=bearer(tokens["wes"])).status_code == 403
    changed = client.patch(path, json={"objective": 0.95, "window_days": 7},
                           headers=bearer(tokens["ada"]))
    assert (changed.json()["objective"], changed.json()["window_days"]) == (0.95, 7)
    assert client.patch(path, json={"window_days": 400},
                        headers=bearer(tokens["pat"])).json()["field"] == "window_days"
    assert client.post("/api/v1/slos/evaluate",
                       headers=bearer(tokens["pat"])).status_code == 403
    assert client.delete(path, headers=bearer(tokens["pat"])).status_code == 204
    assert client.get(path, headers=bearer(tokens["pat"])).status_code == 404


def test_integration_keys_report_for_their_own_service_or_team(api):
    client, tokens, keys = api
    checkout = new_slo(client, tokens["pat"]).json()
    search = new_slo(client, tokens["ada"], service="search").json()
    ok = client.post(f"/api/v1/slos/{checkout['id']}/reports", json=one_report(good=100),
                     headers=bearer(keys["checkout"]))
    assert ok.status_code == 201, ok.text
    assert ok.json()["slo"]["status"]["total"] == 100
    # a key bound to another service of the same team, and another team's key
    assert client.post(f"/api/v1/slos/{checkout['id']}/reports", json=one_report(),
                       headers=bearer(keys["cart"])).status_code == 403
    assert client.post(f"/api/v1/slos/{checkout['id']}/reports", json=one_report(),
                       headers=bearer(keys["web"])).status_code == 403
    assert client.post(f"/api/v1/slos/{search['id']}/reports", json=one_report(),
                       headers=bearer(keys["web"])).status_code == 201
    assert client.post(f"/api/v1/slos/{search['id']}/reports", json=one_report(),
                       headers=bearer("not-a-key")).status_code == 401


def test_listing_filters_and_status(api):
    client, tokens, _ = api
    new_slo(client, tokens["pat"])
    new_slo(client, tokens["pat"], service="cart", name="latency", objective=0.9)
    new_slo(client, tokens["ada"], service="search")
    headers = bearer(tokens["vic"])
    assert client.get("/api/v1/slos", headers=headers).json()["total"] == 3
    payments = client.get("/api/v1/slos?team=payments", headers=headers).json()
    assert sorted(i["service"] for i in payments["items"]) == ["cart", "checkout"]
    cart = client.get("/api/v1/services/cart/slos", headers=headers).json()["items"]
    assert [(i["name"], i["team"], i["status"]["budget_left"]) for i in cart] == [
        ("latency", "payments", 1.0)]
    assert client.get("/api/v1/slos?team=nobody", headers=headers).json()["field"] == "team"
    assert client.get("/api/v1/slos?at=soon", headers=headers).json()["field"] == "at"
    ancient = client.get(f"/api/v1/slos/{cart[0]['id']}/burndown?at=0001-01-05T00:00:00Z",
                         headers=headers)
    assert ancient.status_code == 422 and ancient.json()["field"] == "at"


def test_status_burndown_and_alerts_through_the_api(api):
    client, tokens, _ = api
    slo = new_slo(client, tokens["pat"], objective=0.999, window_days=7).json()
    posted = client.post(f"/api/v1/slos/{slo['id']}/reports", json=one_report(good=0, total=50),
                         headers=bearer(tokens["pat"])).json()
    status = posted["slo"]["status"]
    assert status["exhausted"] and status["budget_left"] == -1.0
    assert status["firing"] == ["fast-burn", "slow-burn", "ticket-burn"]
    assert status["burn_rates"]["5m"] == pytest.approx(1000)
    assert status["at"].endswith("Z") and status["window_start"].endswith("Z")
    incidents = client.get("/api/v1/incidents?service=checkout",
                           headers=bearer(tokens["pat"])).json()["items"]
    assert len(incidents) == 1 and "availability" in incidents[0]["title"]
    alerts = client.get("/api/v1/alerts?service=checkout",
                        headers=bearer(tokens["pat"])).json()["items"]
    assert len(alerts) == 3
    chart = client.get(f"/api/v1/slos/{slo['id']}/burndown",
                       headers=bearer(tokens["vic"])).json()
    assert len(chart["points"]) == 8
    assert chart["points"][0]["budget_left"] == 1.0
    assert chart["points"][-1]["budget_left"] == -1.0


def test_openapi_documents_the_slo_endpoints(api):
    client, _, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/services/{name}/slos", "/api/v1/slos", "/api/v1/slos/{slo_id}",
                 "/api/v1/slos/{slo_id}/burndown", "/api/v1/slos/{slo_id}/reports"):
        assert path in paths
