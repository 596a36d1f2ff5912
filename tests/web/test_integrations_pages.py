"""The integrations page through the ASGI app, on SQLite and (when configured) PostgreSQL,
with the demo organisation: carol is in platform (owner of core-db), bob in
banking-webapp, viewer only reads.

A new key is shown in the answer to the create form and in no later page; it works at
once (``POST /api/v1/alerts``) and stops working when revoked. Refusals (another team, a
viewer, a missing CSRF token) are 403 with nothing stored.
"""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from webclient import HTML
from webclient import sign_in as sign_in_at

from steward.api.app import create_app
from steward.auth.actor import SYSTEM
from steward.auth.models import Integration
from steward.auth.use_cases.integrations import INTEGRATION_TYPES, by_key, create_integration


def count(client: TestClient) -> int:
    with client.db.read_session() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(Integration)) or 0)


def create(client: TestClient, csrf: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/integrations", data={"csrf_token": csrf, **fields}, headers=HTML)


KEY = re.compile(r'<code class="secret" id="new-key-value"[^>]*>([^<]+)</code>')
SNIPPET = re.compile(r'<pre class="snippet" id="new-key-snippet"[^>]*>(.*?)</pre>', re.S)

def new_key(text: str) -> str:
    found = KEY.search(text)
    assert found, "no key box on the page"
    return found.group(1)


def alert(client: TestClient, key: str) -> int:
    return client.post("/api/v1/alerts", headers={"authorization": f"Bearer {key}"}, json={
        "service": "core-db", "dedup_key": "ui-test", "status": "firing",
        "summary": "from the integrations page test"}).status_code


def revoke_forms(text: str) -> list[str]:
    return re.findall(r'action="/integrations/(\d+)/revoke"', text)


def test_page_needs_a_login(db):  # type: ignore[no-untyped-def]
    client = TestClient(create_app(db.settings, database=db))
    response = client.get("/integrations?service=core-db", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fintegrations%3Fservice%3Dcore-db"


def test_list_filters_and_what_a_viewer_sees(web):  # type: ignore[no-untyped-def]
    with web.db.session() as session:
        create_integration(session, SYSTEM, "pagerduty", service="core-db", name="pd-core")
        create_integration(session, SYSTEM, "github", team="banking-webapp", name="gh-bank")
    sign_in(web, "viewer")
    page = web.get("/integrations")
    assert page.status_code == 200
    assert 'aria-current="page">Integrations' in page.text
    assert "pd-core" in page.text and "gh-bank" in page.text
    assert 'method="post" action="/integrations"' not in page.text  # no create form
    assert 'id="i-type"' not in page.text
    assert revoke_forms(page.text) == []  # read only

    by_service = web.get("/integrations?service=core-db").text
    assert "pd-core" in by_service and "gh-bank" not in by_service
    by_team = web.get("/integrations?team=banking-webapp").text
    assert "gh-bank" in by_team and "pd-core" not in by_team
    by_type = web.get("/integrations?type=github&team=banking-webapp").text
    assert "gh-bank" in by_type and "pd-core" not in by_type
    assert "No integrations match" in web.get("/integrations?type=grafana&team=identity").text
    assert web.get("/integrations?type=nope", headers=HTML).status_code == 422

    service = web.get("/services/core-db").text
    assert 'id="integrations"' in service and "pd-core" in service
    assert 'href="/integrations?service=core-db"' in service


def test_admin_creates_a_key_shown_once_that_works(web):  # type: ignore[no-untyped-def]
    csrf = sign_in(web, "admin")
    before = count(web)
    response = create(web, csrf, type="generic", service="core-db", name="ops-script")
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    key = new_key(response.text)
    assert key.startswith("stk_")
    assert "only time it is shown" in response.text and "keeps only a hash" in response.text
    snippet = html.unescape(SNIPPET.search(response.text).group(1))  # type: ignore[union-attr]
    assert "http://testserver/api/v1/alerts" in snippet
    assert f"Authorization: Bearer {key}" in snippet
    assert count(web) == before + 1
    assert response.text.count(key) == 2  # the key box and the snippet, nowhere else

    assert alert(web, key) == 202
    with web.db.read_session() as session:
        row = by_key(session, key)
        assert (row.name, row.type) == ("ops-script", "generic")

    for path in ("/integrations", "/integrations?service=core-db", "/services/core-db",
                 "/audit"):
        later = web.get(path)
        assert later.status_code == 200, path
        assert key not in later.text, path
        assert key[10:] not in later.text, path
    assert "ops-script" in web.get("/integrations").text


def test_owning_team_member_creates_an_alertmanager_key(web):  # type: ignore[no-untyped-def]
    csrf = sign_in(web, "carol")  # platform owns core-db
    page = web.get("/integrations").text
    assert 'id="i-type"' in page
    assert '<option value="core-db"' in page.split('id="i-service"')[1]
    assert '<option value="online-banking"' not in page.split('id="i-service"')[1]
    response = create(web, csrf, type="alertmanager", service="core-db", name="prod am")
    assert response.status_code == 201, response.text
    key = new_key(response.text)
    snippet = html.unescape(SNIPPET.search(response.text).group(1))  # type: ignore[union-attr]
    assert "webhook_configs:" in snippet
    assert "url: http://testserver/ingest/alertmanager" in snippet
    assert "authorization:\n            type: Bearer\n" in snippet
    assert f"credentials: {key}" in snippet
    with web.db.read_session() as session:
        assert by_key(session, key, types=("alertmanager",)).name == "prod am"
    assert alert(web, key) == 202
    assert key not in web.get("/integrations").text


@pytest.mark.parametrize("type_, expected", [
    ("pagerduty", ["pagerduty_configs:", "routing_key: {key}",
                   "url: http://testserver/v2/enqueue"]),
    ("github", ["http://testserver/ingest/github", "application/json", "Secret:        {key}"]),
    ("gitlab", ["http://testserver/ingest/gitlab", "Secret token:  {key}"]),
    ("grafana", ["http://testserver/ingest/grafana", "Bearer", "{key}"]),
    ("cdevents", ["http://testserver/ingest/cdevents", "Authorization: Bearer {key}"]),
])
def test_snippets_per_type(web, type_, expected):  # type: ignore[no-untyped-def]
    csrf = sign_in(web, "admin")
    response = create(web, csrf, type=type_, team="platform")
    assert response.status_code == 201, response.text
    key = new_key(response.text)
    snippet = html.unescape(SNIPPET.search(response.text).group(1))  # type: ignore[union-attr]
    for part in expected:
        assert part.format(key=key) in snippet, (part, snippet)
    if type_ == "pagerduty":
        assert re.fullmatch(r"[0-9a-f]{32}", key)


def test_other_team_viewer_and_bad_input_are_refused(web):  # type: ignore[no-untyped-def]
    before = count(web)
    csrf = sign_in(web, "bob")  # banking-webapp, not platform
    for fields in ({"service": "core-db"}, {"team": "platform"},
                   {"service": "online-banking", "team": "platform"}):
        response = create(web, csrf, type="generic", name="sneaky", **fields)
        assert response.status_code == 403, fields
        assert "Not saved:" in response.text and "owning team" in response.text
        assert KEY.search(response.text) is None
    response = create(web, csrf, type="generic", name="nowhere")
    assert response.status_code == 422
    assert "Choose a service or a team" in response.text
    response = create(web, csrf, type="carrier-pigeon", service="online-banking")
    assert response.status_code == 422
    assert "type: must be one of" in response.text
    assert count(web) == before

    csrf = sign_in(web, "viewer")
    response = create(web, csrf, type="generic", service="core-db")
    assert response.status_code == 403
    assert KEY.search(response.text) is None
    assert count(web) == before

    sign_in(web, "admin")
    response = web.post("/integrations", data={"type": "generic", "service": "core-db"},
                        headers=HTML)
    assert response.status_code == 403
    assert "security token" in response.text
    assert count(web) == before


def test_revoke_stops_the_key(web):  # type: ignore[no-untyped-def]
    csrf = sign_in(web, "carol")
    key = new_key(create(web, csrf, type="generic", service="core-db", name="to-revoke").text)
    with web.db.read_session() as session:
        number = by_key(session, key).id
    assert alert(web, key) == 202
    assert str(number) in revoke_forms(web.get("/integrations").text)

    bob = sign_in(web, "bob")
    assert str(number) not in revoke_forms(web.get("/integrations").text)
    refused = web.post(f"/integrations/{number}/revoke", data={"csrf_token": bob},
                       headers=HTML)
    assert refused.status_code == 403
    assert "owning team" in refused.text
    assert alert(web, key) == 202

    csrf = sign_in(web, "carol")
    no_token = web.post(f"/integrations/{number}/revoke", data={}, headers=HTML)
    assert no_token.status_code == 403
    assert alert(web, key) == 202

    done = web.post(f"/integrations/{number}/revoke",
                    data={"csrf_token": csrf, "back": "/integrations?service=core-db"},
                    follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/integrations?service=core-db&done=revoked"
    assert alert(web, key) == 401
    page = web.get(done.headers["location"]).text
    assert "Integration revoked" in page
    assert str(number) not in revoke_forms(page)
    assert f'id="integration-{number}" class="row-revoked"' in page

    again = web.post(f"/integrations/{number}/revoke", data={"csrf_token": csrf},
                     headers=HTML)
    assert again.status_code == 409
    assert web.post("/integrations/999999/revoke", data={"csrf_token": csrf},
                    headers=HTML).status_code == 404
    other = new_key(create(web, csrf, type="generic", service="core-db").text)
    with web.db.read_session() as session:
        other_id = by_key(session, other).id
    outside = web.post(f"/integrations/{other_id}/revoke",
                       data={"csrf_token": csrf, "back": "https://evil.example/"},
                       follow_redirects=False)
    assert outside.headers["location"] == "/integrations?done=revoked"  # never elsewhere


def test_every_type_is_offered(web):  # type: ignore[no-untyped-def]
    sign_in(web, "admin")
    form = web.get("/integrations").text.split('id="i-type"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([a-z]+)"', form) == list(INTEGRATION_TYPES)


def sign_in(client, username: str) -> str:  # type: ignore[no-untyped-def]
    return sign_in_at(client, username, "/integrations")
