"""The web UI's pages through the ASGI app, on SQLite and (when configured) PostgreSQL.

Fast checks of the page logic without a browser: sign-in, redirects, CSRF,
permissions, forms that write through the domain services, error pages.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from webclient import HTML, TOKEN, csrf

from steward.audit import service as audit
from steward.catalog.use_cases import services as catalog
from steward.demo import organisation as org
from steward.demo.seed import DEMO_PASSWORD


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD,
            next_url: str = "") -> object:
    page = client.get("/login")
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": password, "next": next_url},
                       follow_redirects=False)


def test_pages_need_a_login_and_redirect_back(web):  # type: ignore[no-untyped-def]
    for path in ("/catalog", "/services/core-db", "/map?failing=core-db", "/teams", "/audit"):
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=%2F")
    assert web.get("/", follow_redirects=False).headers["location"] == "/login"
    response = sign_in(web, "admin", next_url="/map?failing=core-db")
    assert response.status_code == 303
    assert response.headers["location"] == "/map?failing=core-db"


def test_login_sets_a_safe_session_cookie(web):  # type: ignore[no-untyped-def]
    response = sign_in(web, "admin")
    cookie = next(h for h in response.headers.get_list("set-cookie")
                  if h.startswith("steward_session="))
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil",
                                    "javascript:alert(1)"])
def test_login_never_redirects_off_site(web, target):  # type: ignore[no-untyped-def]
    assert sign_in(web, "alice", next_url=target).headers["location"] == "/"


def test_wrong_password_and_missing_login_token(web):  # type: ignore[no-untyped-def]
    response = sign_in(web, "admin", password="nope-nope")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert "steward_session" not in response.cookies
    response = web.post("/login", data={"username": "admin", "password": DEMO_PASSWORD},
                        follow_redirects=False)
    assert response.status_code == 403
    assert "expired" in response.text
    assert "steward_session" not in response.cookies


def test_every_page_renders_for_an_admin(web):  # type: ignore[no-untyped-def]
    sign_in(web, "admin")
    catalog_page = web.get("/catalog")
    assert catalog_page.status_code == 200
    assert "Showing 1–33 of 33 services" in catalog_page.text
    for path in ("/services/core-db", "/services/web-pool", "/map", "/teams",
                 "/teams/platform", "/audit", "/audit?verify=1&entity_type=service"):
        response = web.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert 'href="/static/steward.css' in response.text
    assert "Chain intact" in web.get("/audit?verify=1").text
    assert web.get("/static/steward.css").status_code == 200


def test_catalog_filters_and_paging(web):  # type: ignore[no-untyped-def]
    sign_in(web, "viewer")
    text = web.get("/catalog?team=order-to-cash").text
    o2c = [s[0] for s in org.SERVICES if s[3] == "order-to-cash"]
    assert f"Showing 1–{len(o2c)} of {len(o2c)} services" in text
    assert "/services/core-db" not in text
    text = web.get("/catalog?kind=pool").text
    assert "/services/web-pool" in text and "Showing 1–1 of 1" in text
    text = web.get("/catalog?limit=10&offset=10").text
    assert "Showing 11–20 of 33 services" in text
    assert 'href="/catalog?limit=10&amp;offset=20"' in text
    assert web.get("/catalog?tier=9").status_code == 422
    assert "tier: must be" in web.get("/catalog?tier=x").text
    assert web.get("/catalog?limit=0").status_code == 422


def test_service_page_shows_dependencies_and_impact(web):  # type: ignore[no-untyped-def]
    sign_in(web, "viewer")
    text = web.get("/services/core-db").text
    assert 'id="impact-business"' in text
    business = text.split('id="impact-business"')[1].split("</ul>")[0]
    for name in ("order-to-cash-process", "online-banking", "customer-support"):
        assert f'/services/{name}"' in business
    assert 'class="steward-systemmap"' in text
    assert "/edit" not in text  # a viewer gets no edit form
    pool = web.get("/services/web-pool").text
    assert "Members needed up" in pool


def test_map_colours_the_impact_of_failing_services(web):  # type: ignore[no-untyped-def]
    sign_in(web, "viewer")
    text = web.get("/map?failing=core-db").text
    node = re.search(r'<g class="([^"]*)"[^>]*data-service="online-banking"', text)
    assert node and "state-down" in node.group(1)
    assert text.count('class="node ') == len(org.SERVICES)
    both = web.get("/map?failing=web-node-1&failing=web-node-2").text
    pool = re.search(r'<g class="([^"]*)"[^>]*data-service="web-pool"', both)
    assert pool and "state-down" in pool.group(1)
    unknown = web.get("/map?failing=nope")
    assert unknown.status_code == 422
    assert "unknown service" in unknown.text
    missing = web.get("/map?focus=nope")
    assert missing.status_code == 422 and "no service named" in missing.text
    team = web.get("/map?team=identity").text
    assert len(re.findall(r'<g class="node [^"]*highlight"', team)) == sum(
        1 for s in org.SERVICES if s[3] == "identity")


def test_not_found_pages_are_html_but_the_api_stays_json(web):  # type: ignore[no-untyped-def]
    sign_in(web, "admin")
    response = web.get("/services/nope")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "does not exist" in response.text
    assert web.get("/teams/nope").status_code == 404
    page = web.get("/no/such/page", headers=HTML)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    api = web.get("/api/v1/no-such-thing", headers=HTML)
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"
    assert web.get("/api/v1/services/nope").json()["error"]


def test_forms_refuse_a_missing_or_wrong_csrf_token(web, db):  # type: ignore[no-untyped-def]
    sign_in(web, "admin")
    for data in ({"tier": "2"}, {"tier": "2", "csrf_token": "forged"}):
        response = web.post("/services/core-db/edit", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "security token" in response.text
    assert web.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert web.post("/teams", data={"name": "x"}, follow_redirects=False).status_code == 403
    with db.read_session() as session:
        assert catalog.get_service(session, "core-db").tier == 1


def test_member_edits_own_service_and_is_refused_others(web, db):  # type: ignore[no-untyped-def]
    sign_in(web, "alice")
    token = csrf(web, "/services/erp")
    assert 'action="/services/erp/edit"' in web.get("/services/erp").text
    response = web.post("/services/erp/edit", data={
        "csrf_token": token, "tier": "2", "lifecycle": "production", "owner": "order-to-cash",
        "description": "Orders and finance."}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/services/erp?done=saved")
    assert "Changes saved." in web.get(response.headers["location"]).text
    with db.read_session() as session:
        erp = catalog.get_service(session, "erp")
        assert (erp.tier, erp.description) == (2, "Orders and finance.")
        _, entries = audit.list_entries(session, entity_type="service", limit=1)
        assert entries[0].actor_name == "alice" and entries[0].action == "service.update"

    page = web.get("/services/core-db").text
    assert 'action="/services/core-db/edit"' not in page
    refused = web.post("/services/core-db/edit", data={"csrf_token": token, "tier": "4"},
                       follow_redirects=False)
    assert refused.status_code == 403
    assert "only members of the owning team" in refused.text
    bad = web.post("/services/erp/edit", data={"csrf_token": token, "tier": "7"})
    assert bad.status_code == 422 and "tier" in bad.text
    giveaway = web.post("/services/erp/edit", data={"csrf_token": token, "owner": "platform"})
    assert giveaway.status_code == 403
    with db.read_session() as session:
        assert catalog.get_service(session, "core-db").tier == 1
        assert catalog.get_service(session, "erp").tier == 2
    assert web.post("/services/nope/edit", data={"csrf_token": token}).status_code == 404


def test_member_adds_and_removes_a_dependency(web, db):  # type: ignore[no-untyped-def]
    sign_in(web, "alice")
    token = csrf(web)
    response = web.post("/services/credit-check/dependencies", data={
        "csrf_token": token, "depends_on": "kafka", "type": "soft", "note": "scores events"},
        follow_redirects=False)
    assert response.status_code == 303
    with db.read_session() as session:
        _, deps = catalog.list_dependencies(session, service="credit-check")
    assert [(d["depends_on"], d["type"], d["description"]) for d in deps] == [
        ("kafka", "soft", "scores events")]
    again = web.post("/services/credit-check/dependencies",
                     data={"csrf_token": token, "depends_on": "kafka"})
    assert again.status_code == 409 and "already depends on" in again.text
    unknown = web.post("/services/credit-check/dependencies",
                       data={"csrf_token": token, "depends_on": "no-such"})
    assert unknown.status_code == 422 and "does not exist" in unknown.text
    foreign = web.post("/services/kafka/dependencies",
                       data={"csrf_token": token, "depends_on": "core-db"})
    assert foreign.status_code == 403
    removed = web.post(f"/services/credit-check/dependencies/{deps[0]['id']}/delete",
                       data={"csrf_token": token}, follow_redirects=False)
    assert removed.status_code == 303
    with db.read_session() as session:
        assert catalog.list_dependencies(session, service="credit-check")[0] == 0
    gone = web.post(f"/services/credit-check/dependencies/{deps[0]['id']}/delete",
                    data={"csrf_token": token})
    assert gone.status_code == 404


def test_teams_and_audit_permissions(web):  # type: ignore[no-untyped-def]
    sign_in(web, "viewer")
    assert web.get("/audit").status_code == 403
    assert 'href="/audit"' not in web.get("/teams").text
    token = csrf(web, "/teams")
    refused = web.post("/teams", data={"csrf_token": token, "name": "sneaky"})
    assert refused.status_code == 403
    web.cookies.clear()
    sign_in(web, "admin")
    token = csrf(web, "/teams")
    created = web.post("/teams", data={"csrf_token": token, "name": "sre", "display_name": "SRE",
                                       "email": "sre@example.com"}, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"].startswith("/teams/sre")
    team = web.get("/teams/sre").text
    assert "sre@example.com" in team
    duplicate = web.post("/teams", data={"csrf_token": token, "name": "sre"})
    assert duplicate.status_code == 409 and "already exists" in duplicate.text
    invalid = web.post("/teams", data={"csrf_token": token, "name": "bad name!"})
    assert invalid.status_code == 422
    log = web.get("/audit?entity_type=team").text
    assert "team.create" in log and "<details>" in log


def test_logout_ends_the_session(web):  # type: ignore[no-untyped-def]
    sign_in(web, "bob")
    token = csrf(web)
    session_cookie = web.cookies.get("steward_session")
    response = web.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert web.get("/catalog", follow_redirects=False).status_code == 303
    # the old cookie no longer works either: the session is gone on the server
    web.cookies.set("steward_session", session_cookie)
    assert web.get("/catalog", follow_redirects=False).status_code == 303


def test_nul_in_a_form_field_or_a_parameter_is_an_error_page_naming_it(web):  # type: ignore[no-untyped-def]
    sign_in(web, "admin")
    token = csrf(web, "/teams")
    refused = web.post("/teams", data={"csrf_token": token, "name": "sre",
                                       "display_name": "S\x00RE"}, headers=HTML)
    assert refused.status_code == 422 and "display_name" in refused.text
    assert web.get("/teams/sre", headers=HTML).status_code == 404  # nothing was written
    for page in ("/catalog?q=a%00", "/changes?q=%00", "/incidents?team=%00",
                 "/services/led%00ger"):
        answer = web.get(page, headers=HTML)
        assert answer.status_code == 422, page
        assert "NUL" in answer.text and "<html" in answer.text.lower()


def test_ids_and_offsets_beyond_the_columns_are_not_found_or_refused(web):  # type: ignore[no-untyped-def]
    sign_in(web, "admin")
    for page in ("/changes/2147483648", "/incidents/9999999999", "/slos/2147483648",
                 "/goals/2147483648"):
        assert web.get(page, headers=HTML).status_code == 404, page
    assert web.get("/catalog?offset=100000000000000000000", headers=HTML).status_code == 422
