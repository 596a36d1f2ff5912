"""GET /api/v1/kpis/dora and /itsm: deployments posted through the API show up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import api_client, bearer, make_service, make_team, make_user

from steward.timeutil import isoformat_z, utcnow


@pytest.fixture
def client_and_token(db):
    make_team(db, "pay")
    make_service(db, "api", owner="pay")
    token = make_user(db, "ada", role="admin")
    return api_client(db), token


def test_dora_counts_posted_deployments(client_and_token) -> None:
    client, token = client_and_token
    now = utcnow()
    finished = now - timedelta(days=1)
    body = [{"service": "api", "environment": "production", "version": f"1.{i}",
             "status": "succeeded", "started_at": isoformat_z(finished - timedelta(minutes=5)),
             "finished_at": isoformat_z(finished + timedelta(minutes=i)),
             "commits": [{"sha": f"{i:040x}",
                          "committed_at": isoformat_z(finished - timedelta(hours=2 * (i + 1)))}]}
            for i in range(3)]
    posted = client.post("/api/v1/deployments", json=body, headers=bearer(token))
    assert posted.status_code < 300, posted.text
    answer = client.get("/api/v1/kpis/dora", params={"team": "pay", "days": 7},
                        headers=bearer(token))
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["scope"] == {"team": "pay", "service": None}
    assert out["deployments"] == 3
    # lead times 2 h, 4 h + 1 min, 6 h + 2 min: the median is the middle one
    assert out["lead_time_hours"]["median"] == pytest.approx(4 + 1 / 60, abs=1e-3)
    assert out["change_failure_rate"]["value"] == 0.0
    assert len(out["weekly"]) == 1 and out["weekly"][0]["deployments"] == 3
    itsm = client.get("/api/v1/kpis/itsm", params={"service": "api"}, headers=bearer(token))
    assert itsm.status_code == 200
    assert itsm.json()["incidents"] == 0 and itsm.json()["mttr_hours"]["median"] is None


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"team": "nobody"}, 404, "team"),
    ({"service": "nothing"}, 404, "service"),
    ({"days": 0}, 422, "days"),
    ({"days": "many"}, 422, "days"),
    ({"end": "yesterday"}, 422, "end"),
])
def test_bad_queries_name_the_field(client_and_token, params, status, field) -> None:
    client, token = client_and_token
    for path in ("/api/v1/kpis/dora", "/api/v1/kpis/itsm"):
        answer = client.get(path, params=params, headers=bearer(token))
        assert answer.status_code == status, answer.text
        assert field in answer.text


def test_kpis_need_a_signed_in_caller(client_and_token) -> None:
    client, _ = client_and_token
    assert client.get("/api/v1/kpis/dora").status_code == 401
