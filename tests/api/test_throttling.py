"""Request rates: ingest per integration key (429 with Retry-After, PagerDuty's shape on
its endpoints, 503 for Alertmanager, which retries only 5xx), the API per token or web
session; counted in memory or in Redis shared by several servers."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid

import pytest
from fastapi.testclient import TestClient
from helpers import bearer, make_service, make_team, make_user
from sqlalchemy import func, select

from steward.api.app import create_app
from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.incidents.models import Alert

REDIS_URL = os.environ.get("STEWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def throttled_client(db, **limits: str) -> TestClient:
    settings = dataclasses.replace(db.settings, **{
        "rate_limit_ingest": "", "rate_limit_api": "", **limits})
    return TestClient(create_app(settings, database=db))


def key(db, type: str, service: str = "checkout") -> str:
    with db.session() as session:
        return create_integration(session, SYSTEM, type, service=service)[1]


def alert(n: int) -> dict:
    return {"service": "checkout", "dedup_key": f"k-{n}", "status": "firing",
            "summary": "latency high"}


def stored_alerts(db) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Alert))


@pytest.fixture
def shop(sqlite_db):
    make_team(sqlite_db, "shop")
    make_service(sqlite_db, "checkout", owner="shop")
    return sqlite_db


def test_alerts_past_the_rate_get_429_with_retry_after_and_store_nothing(shop):
    client = throttled_client(shop, rate_limit_ingest="3/minute")
    first, second = key(shop, "generic"), key(shop, "generic")
    answers = [client.post("/api/v1/alerts", headers=bearer(first), json=alert(n))
               for n in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "integration key" in refused.json()["error"]
    assert refused.headers["x-content-type-options"] == "nosniff"
    # another key has its own count
    assert client.post("/api/v1/alerts", headers=bearer(second),
                       json=alert(9)).status_code == 202
    assert stored_alerts(shop) == 4
    # a refused request is counted once, whether the fast path or the route answers it
    invalid = client.post("/api/v1/alerts", headers=bearer(second), json={"bad": 1})
    assert invalid.status_code == 422
    assert client.post("/api/v1/alerts", headers=bearer(second),
                       json=alert(10)).status_code == 202


def test_grafana_and_the_webhook_routes_answer_429(shop):
    client = throttled_client(shop, rate_limit_ingest="1/minute")
    grafana = key(shop, "grafana")
    assert client.post("/ingest/grafana", headers=bearer(grafana), json={}).status_code == 422
    refused = client.post("/ingest/grafana", headers=bearer(grafana), json={})
    assert refused.status_code == 429 and "retry-after" in refused.headers
    cdevents = key(shop, "cdevents")
    client.post("/ingest/cdevents", headers=bearer(cdevents), json={})
    assert client.post("/ingest/cdevents", headers=bearer(cdevents),
                       json={}).status_code == 429
    gitlab = key(shop, "gitlab")
    client.post("/ingest/gitlab", headers={"X-Gitlab-Token": gitlab}, json={})
    refused = client.post("/ingest/gitlab", headers={"X-Gitlab-Token": gitlab}, json={})
    assert refused.status_code == 429 and "retry-after" in refused.headers


def test_alertmanager_is_told_503_so_that_it_retries(shop):
    client = throttled_client(shop, rate_limit_ingest="1/minute")
    am = key(shop, "alertmanager")
    client.post("/ingest/alertmanager", headers=bearer(am), json={})
    refused = client.post("/ingest/alertmanager", headers=bearer(am), json={})
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) >= 1


@pytest.mark.parametrize("path", ["/v2/enqueue", "/v2/change/enqueue"])
def test_pagerduty_endpoints_answer_429_in_pagerdutys_shape(shop, path):
    client = throttled_client(shop, rate_limit_ingest="1/minute")
    routing_key = key(shop, "pagerduty")
    event = {"routing_key": routing_key, "event_action": "trigger",
             "payload": {"summary": "disk full", "source": "db-1", "severity": "critical"}}
    if path == "/v2/change/enqueue":
        event = {"routing_key": routing_key, "payload": {"summary": "deployed v2",
                                                         "source": "ci"}}
    assert client.post(path, json=event).status_code == 202
    refused = client.post(path, json=event)
    assert refused.status_code == 429
    assert refused.json()["status"] == "throttle exceeded"
    assert "retry in" in refused.json()["message"]
    assert int(refused.headers["retry-after"]) >= 1


def test_api_requests_are_counted_per_token(sqlite_db):
    client = throttled_client(sqlite_db, rate_limit_api="3/minute")
    pat, ann = make_user(sqlite_db, "pat"), make_user(sqlite_db, "ann")
    statuses = [client.get("/api/v1/users/me", headers=bearer(pat)).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/catalog/services", headers=bearer(pat))
    assert refused.status_code == 429 and "API token" in refused.json()["error"]
    assert int(refused.headers["retry-after"]) >= 1
    assert client.get("/api/v1/users/me", headers=bearer(ann)).status_code == 200
    # anonymous requests are not counted against anyone
    assert client.get("/healthz").status_code == 200


def test_pages_are_counted_per_web_session(sqlite_db):
    client = throttled_client(sqlite_db, rate_limit_api="2/minute")
    client.cookies.set("steward_session", "some-session")
    statuses = [client.get("/catalog", follow_redirects=False).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    client.cookies.set("steward_session", "another-session")
    assert client.get("/catalog", follow_redirects=False).status_code == 303


def test_a_rate_setting_that_is_no_rate_is_refused_by_name(sqlite_db):
    from steward.api.throttle import RateLimit, RateLimitSpecError, Throttles

    with pytest.raises(RateLimitSpecError, match="ingest"):
        Throttles(ingest="lots", api="")
    assert not RateLimit("api", "off").enabled


def test_memory_counts_reset_when_the_window_ends():
    from steward.api.throttle import RateLimit, RateLimitSpecError, Throttles  # noqa: F401

    limit = RateLimit("api", "2/second")
    assert [limit.hit("t") for _ in range(3)][:2] == [None, None]
    limit.clear("t")
    assert limit.hit("t") is None


# -- Redis ----------------------------------------------------------------------------

@pytest.fixture
def redis_prefix():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"steward-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    for name in client.scan_iter(f"{prefix}*"):
        client.delete(name)
    assert not list(client.scan_iter(f"{prefix}*"))
    client.close()


def test_two_servers_share_their_counts_in_redis(redis_prefix):
    from steward.api.throttle import RateLimit, RateLimitSpecError, Throttles  # noqa: F401

    one = RateLimit("ingest", "3/minute", REDIS_URL, key_prefix=redis_prefix)
    two = RateLimit("ingest", "3/minute", REDIS_URL, key_prefix=redis_prefix)
    assert [one.hit("key-a"), two.hit("key-a"), one.hit("key-a")] == [None, None, None]
    wait = two.hit("key-a")
    assert wait is not None and 1 <= wait <= 60
    assert one.hit("key-b") is None


def test_coroutines_count_in_redis_too(redis_prefix):
    from steward.api.throttle import RateLimit, RateLimitSpecError, Throttles  # noqa: F401

    limit = RateLimit("ingest", "2/minute", REDIS_URL, key_prefix=redis_prefix)

    async def three() -> list[int | None]:
        return [await limit.hit_async("k"), limit.hit("k"), await limit.hit_async("k")]

    first, second, third = asyncio.run(three())
    assert first is None and second is None and third is not None


def test_the_server_throttles_ingest_through_redis(shop, redis_prefix):
    from steward.api.throttle import RateLimit, RateLimitSpecError, Throttles  # noqa: F401

    settings = dataclasses.replace(shop.settings, rate_limit_ingest="2/minute",
                                   rate_limit_api="", rate_limit_storage=REDIS_URL)
    first = TestClient(create_app(settings, database=shop))
    second = TestClient(create_app(settings, database=shop))
    for client in (first, second):  # two servers, one count
        client.app.state.throttles = Throttles(ingest="2/minute", api="",
                                               storage_uri=REDIS_URL, key_prefix=redis_prefix)
    generic = key(shop, "generic")
    assert first.post("/api/v1/alerts", headers=bearer(generic),
                      json=alert(1)).status_code == 202
    assert second.post("/api/v1/alerts", headers=bearer(generic),
                       json=alert(2)).status_code == 202
    refused = first.post("/api/v1/alerts", headers=bearer(generic), json=alert(3))
    assert refused.status_code == 429 and "retry-after" in refused.headers


def test_an_unreachable_redis_lets_requests_through():
    from steward.api.throttle import RateLimit, RateLimitSpecError, Throttles  # noqa: F401

    limit = RateLimit("ingest", "1/minute", "redis://127.0.0.1:1/0")
    assert limit.hit("k") is None and limit.hit("k") is None
