"""Publishing components: admins only, audited, validated field by field, seen on the
public page at once; and `steward status` against a real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from serving import admin_token, database_env, served, steward
from sqlalchemy import select
from webclient import sign_in

from steward.audit.models import AuditEntry
from steward.auth.actor import Actor
from steward.auth.use_cases import accounts as auth

SYSTEM = Actor(kind="system", id="test", name="test", role="admin")


def token(db, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return {"Authorization": f"Bearer {auth.create_token(session, SYSTEM, username)}"}


def test_an_admin_publishes_renames_and_hides(web) -> None:  # type: ignore[no-untyped-def]
    admin, viewer = token(web.db, "admin"), token(web.db, "viewer")
    before = web.get("/api/v2/components.json").json()["components"]
    assert "Search" not in {c["name"] for c in before}
    put = web.put("/api/v1/status/components/search-service", headers=admin,
                  json={"published": True, "name": "Search", "group": "Platform",
                        "position": 3, "description": "Finding things"})
    assert put.status_code == 200, put.text
    assert put.json()["public_name"] == "Search" and put.json()["published"] is True
    after = {c["name"]: c for c in web.get("/api/v2/components.json").json()["components"]}
    assert after["Search"]["description"] == "Finding things"
    assert "Search" in web.get("/status").text
    hidden = web.put("/api/v1/status/components/online-banking", headers=admin,
                     json={"published": False})
    assert hidden.status_code == 200
    names = {c["name"] for c in web.get("/api/v2/components.json").json()["components"]}
    assert "online-banking" not in names
    listed = web.get("/api/v1/status/components?published=true", headers=viewer).json()
    assert "online-banking" not in {i["service"] for i in listed["items"]}
    with web.db.read_session() as session:
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.action == "status.component.update")).all()
    assert len(actions) == 2
    # A viewer may look but not change.
    refused = web.put("/api/v1/status/components/search-service", headers=viewer,
                      json={"published": False})
    assert refused.status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"position": -1}, "position"), ({"name": "x" * 201}, "name"),
    ({"published": "perhaps"}, "published"), ({"colour": "red"}, "colour"),
])
def test_bad_settings_name_the_field(web, body, field) -> None:  # type: ignore[no-untyped-def]
    answer = web.put("/api/v1/status/components/search-service", headers=token(web.db, "admin"),
                     json=body)
    assert answer.status_code == 422
    assert field in answer.text


def test_an_unknown_service(web) -> None:  # type: ignore[no-untyped-def]
    answer = web.put("/api/v1/status/components/no-such-service",
                     headers=token(web.db, "admin"), json={"published": True})
    assert answer.status_code == 404 and "service" in answer.text


def test_the_admin_page(web) -> None:  # type: ignore[no-untyped-def]
    csrf = sign_in(web, "admin")
    page = web.get("/admin/status")
    assert page.status_code == 200 and "search-service" in page.text
    saved = web.post("/admin/status/search-service", follow_redirects=False, data={
        "csrf_token": csrf, "published": "on", "name": "Search", "group": "", "position": "2",
        "description": ""})
    assert saved.status_code == 303
    assert "Search" in web.get("/status").text
    bad = web.post("/admin/status/search-service", data={
        "csrf_token": csrf, "published": "on", "name": "Search", "position": "x"})
    assert bad.status_code == 422 and "position" in bad.text
    # An admin reaches it from the navigation; nobody else is shown the link.
    assert 'href="/admin/status"' in web.get("/catalog").text
    sign_in(web, "viewer")
    assert web.get("/admin/status").status_code == 403
    assert 'href="/admin/status"' not in web.get("/catalog").text


@pytest.mark.e2e
def test_the_cli(tmp_path: Path) -> None:
    env = database_env(tmp_path / "steward.db")
    assert steward(env, "init").returncode == 0
    admin = admin_token(env)
    with served(env, tmp_path / "serve.log") as url:
        client = {**env, "STEWARD_URL": url, "STEWARD_TOKEN": admin, "COLUMNS": "200"}
        headers = {"Authorization": f"Bearer {admin}"}
        for name, kind in (("shop", "business_service"), ("search-api", "api")):
            made = httpx.post(f"{url}/api/v1/services", headers=headers,
                              json={"name": name, "kind": kind})
            assert made.status_code == 201, made.text
        published = steward(client, "status", "publish", "search-api", "--name", "Search",
                            "--group", "Shop", "--position", "2")
        assert published.returncode == 0, published.stderr
        assert "published as 'Search'" in published.stdout
        listed = steward(client, "status", "components")
        assert "Search" in listed.stdout and "shop" in listed.stdout
        hidden = steward(client, "status", "hide", "shop")
        assert hidden.returncode == 0 and "hidden" in hidden.stdout
        summary = httpx.get(f"{url}/api/v2/summary.json").json()
        assert [c["name"] for c in summary["components"]] == ["Search"]
        missing = steward(client, "status", "publish", "nope")
        assert missing.returncode != 0 and "nope" in missing.stderr
