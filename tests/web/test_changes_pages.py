"""The change, calendar and deployment pages through the ASGI app, on SQLite and
(when configured) PostgreSQL, with the demo's change history in place.

Status codes, CSRF refusals, who may approve (the author never), what a viewer
sees, and domain errors shown on the page with a 4xx.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from webclient import HTML
from webclient import sign_in as sign_in_at

from steward.changes.models import (
    CalendarWindow,
    Change,
    ChangeTemplate,
    Deployment,
    DeploymentCommit,
)
from steward.demo.changes import FREEZE_NAME, PENDING_TITLE


def change_id(client: TestClient, title: str) -> int:
    with client.db.read_session() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(Change.id).where(Change.title == title)))


def change_state(client: TestClient, number: int) -> str:
    with client.db.read_session() as session:  # type: ignore[attr-defined]
        return str(session.get(Change, number).state)  # type: ignore[union-attr]


def posts(text: str) -> list[str]:
    """The actions of the forms that change something, apart from signing out."""
    return [a for a in re.findall(r'<form method="post" action="([^"]+)"', text)
            if a != "/logout"]


def test_demo_history_is_made_through_the_use_cases(web):  # type: ignore[no-untyped-def]
    with web.db.read_session() as session:
        states = dict(session.execute(select(Change.state, func.count())
                                      .group_by(Change.state)).all())
        outcomes = set(session.scalars(select(Change.outcome).where(
            Change.outcome.is_not(None))))
        pending = session.scalar(select(Change).where(Change.title == PENDING_TITLE))
        assert states["authorize"] == 1 and pending.state == "authorize"
        assert pending.risk_level in ("high", "very high")
        assert {"batch_size", "blast_radius", "conflicts"} <= {
            f["key"] for f in pending.risk_factors}
        assert pending.author == "carol"
        assert states["closed"] > 25 and states["rejected"] == 1 and states["canceled"] == 1
        assert states["scheduled"] >= 2 and states["implement"] == 1
        assert outcomes == {"successful", "successful_with_issues", "failed", "rolled_back"}
        unauthorised = session.scalars(select(Deployment).where(
            Deployment.unauthorised.is_(True))).all()
        assert len(unauthorised) >= 3
        assert all(d.environment == "production" and d.change_id is None for d in unauthorised)
        assert session.scalar(select(func.count()).select_from(ChangeTemplate)) == 5
        kinds = {w.kind: w for w in session.scalars(select(CalendarWindow))}
        assert kinds["freeze"].name == FREEZE_NAME
        assert kinds["maintenance"].weekdays == [6]
        late = session.scalar(select(func.count()).select_from(DeploymentCommit).join(
            Deployment, Deployment.id == DeploymentCommit.deployment_id).where(
            DeploymentCommit.committed_at > Deployment.started_at))
        assert late == 0


def test_pages_need_a_login(web):  # type: ignore[no-untyped-def]
    for path in ("/changes", "/changes/1", "/changes/calendar", "/changes/policy",
                 "/deployments", "/deployments/unauthorised"):
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=%2F")


def test_every_page_and_filter_renders(web):  # type: ignore[no-untyped-def]
    sign_in(web, "admin")
    with web.db.read_session() as session:
        ids = list(session.scalars(select(Change.id)))
    for number in ids:
        response = web.get(f"/changes/{number}")
        assert response.status_code == 200, number
        assert f"CHG-{number}" in response.text
    for path in ("/changes", "/changes?state=open", "/changes?model=emergency",
                 "/changes?team=platform&risk=high", "/changes?service=core-db&q=postgres",
                 "/changes?limit=10&offset=10", "/changes/calendar",
                 "/changes/calendar?week=2026-03-29&tz=Europe/Berlin",
                 "/deployments", "/deployments?unauthorised=1&environment=production",
                 "/deployments?team=platform&status=succeeded", "/deployments/unauthorised",
                 "/deployments?service=kafka"):
        response = web.get(path)
        assert response.status_code == 200, path
        assert 'href="/static/steward.css' in response.text
    text = web.get("/changes?limit=10").text
    assert "Showing 1–10 of" in text and 'href="/changes?limit=10&amp;offset=10"' in text
    text = web.get("/changes?state=authorize").text
    assert PENDING_TITLE in text and text.count('class="chg-number"') == 1
    assert "Kafka 3.7" in web.get("/changes?q=kafka").text
    assert "/services/core-db" in web.get("/changes?service=core-db").text
    nav = web.get("/catalog").text
    for link in ('href="/changes"', 'href="/deployments"', 'href="/deployments/unauthorised"'):
        assert link in nav


def test_policy_page_shows_the_rules_in_effect(web, monkeypatch):  # type: ignore[no-untyped-def]
    sign_in(web, "viewer")
    text = web.get("/changes/policy").text
    assert "These are the default rules." in text and 'aria-current="page">Policy' in text
    rows = re.findall(r"<th scope=\"row\"><code>([^<]+)</code>", text)
    assert rows[:2] == ["standard-preapproved", "emergency-owner-approval"]
    assert "$owner, $dependants (quorum 2)" in text and "error budget" in text
    monkeypatch.setenv("STEWARD_CHANGE_POLICY", json.dumps([
        {"name": "freeze-everything", "action": "auto_reject", "environments": ["production"]}]))
    text = web.get("/changes/policy").text
    assert "set by <code>STEWARD_CHANGE_POLICY</code>" in text
    assert re.findall(r"<th scope=\"row\"><code>([^<]+)</code>", text) == ["freeze-everything"]
    assert "environment production" in text and "auto reject" in text
    monkeypatch.setenv("STEWARD_CHANGE_POLICY", '[{"name": "x", "action": "allow"}]')
    refused = web.get("/changes/policy", headers=HTML)
    assert refused.status_code == 422 and "action: unknown action" in refused.text


@pytest.mark.parametrize("path,status,message", [
    ("/changes?state=bogus", 422, "state: unknown state"),
    ("/changes?risk=extreme", 422, "risk: expected one of"),
    ("/changes?model=weird", 422, "model: expected one of"),
    ("/changes?limit=0", 422, "limit: must be"),
    ("/changes/calendar?week=2026-13-01", 422, "week: expected a date"),
    ("/changes/calendar?tz=Mars/Olympus", 422, "unknown time zone"),
    ("/deployments?status=exploded", 422, "status: expected one of"),
    ("/changes/abc", 404, "does not exist"),
    ("/changes/99999", 404, "change 99999 does not exist"),
])
def test_bad_input_is_a_clear_4xx(web, path, status, message):  # type: ignore[no-untyped-def]
    sign_in(web, "viewer")
    response = web.get(path, headers=HTML)
    assert response.status_code == status
    assert message in response.text


def test_new_change_form(web):  # type: ignore[no-untyped-def]
    token = sign_in(web, "alice")
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=10, minute=0)
    form = {"csrf_token": token, "title": "Orders: gift wrapping",
            "services": ["orders-service"], "model": "normal",
            "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
            "planned_end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "environment": "production", "batch_size": "2", "description": "Ribbons."}
    response = web.post("/changes", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert re.fullmatch(r"/changes/\d+\?done=created", response.headers["location"])
    page = web.get(response.headers["location"]).text
    assert "Orders: gift wrapping" in page and "Change recorded" in page
    number = change_id(web, "Orders: gift wrapping")
    with web.db.read_session() as session:
        change = session.get(Change, number)
        assert change.source == "web" and change.author == "alice"
        assert change.planned_start == start.replace(second=0, microsecond=0)

    standard = web.post("/changes", data={**form, "title": "Orders: bigger pages",
                                          "template": "orders-service config"},
                        follow_redirects=False)
    assert standard.status_code == 303
    with web.db.read_session() as session:
        made = session.get(Change, change_id(web, "Orders: bigger pages"))
        assert made.model == "standard" and made.template_id is not None

    for changes, status, message in (
            ({"services": ["no-such-service"]}, 422, "unknown service(s): no-such-service"),
            ({"services": []}, 422, "services"),
            ({"planned_start": "tomorrow"}, 422, "planned_start"),
            ({"planned_end": start.strftime("%Y-%m-%dT%H:%M")}, 422,
             "planned_end: must be after planned_start"),
            ({"batch_size": "many"}, 422, "batch_size: must be a whole number"),
            ({"services": ["core-db"]}, 403, "only members of the owning team"),
            ({"template": "banking-web feature flag"}, 422, "does not cover orders-service"),
            ({"title": ""}, 422, "title")):
        response = web.post("/changes", data={**form, "title": "Retry me", **changes})
        assert response.status_code == status, changes
        assert message in response.text, changes
        assert 'role="alert"' in response.text
    # the form keeps what was typed
    response = web.post("/changes", data={**form, "title": "Keep me",
                                          "services": ["no-such-service"]})
    assert 'value="Keep me"' in response.text
    refused = web.post("/changes", data={k: v for k, v in form.items() if k != "csrf_token"})
    assert refused.status_code == 403 and "security token" in refused.text
    with web.db.read_session() as session:
        assert session.scalar(select(func.count()).where(Change.title.in_(
            ("Retry me", "Keep me")))) == 0


def test_author_cannot_approve_and_peers_can(web):  # type: ignore[no-untyped-def]
    number = change_id(web, PENDING_TITLE)
    path = f"/changes/{number}"
    token = sign_in(web, "carol")
    page = web.get(path).text
    assert 'id="decide"' not in page
    assert "the author of a change cannot approve it" in page
    assert 'class="risk-chart"' in page and "64 commits" in page
    refused = web.post(f"{path}/decide", data={"csrf_token": token, "decision": "approve"})
    assert refused.status_code == 403
    assert "the author of a change cannot approve it" in refused.text

    token = sign_in(web, "viewer")
    page = web.get(path).text
    assert posts(page) == []
    assert "a viewer may not approve or reject changes" in page
    refused = web.post(f"{path}/decide", data={"csrf_token": token, "decision": "approve"})
    assert refused.status_code == 403

    token = sign_in(web, "bob")
    page = web.get(path).text
    assert f"{path}/decide" in posts(page)
    assert web.post(f"{path}/decide", data={"decision": "approve"}).status_code == 403
    bad = web.post(f"{path}/decide", data={"csrf_token": token, "decision": "maybe"})
    assert bad.status_code == 422 and "decision: choose approve or reject" in bad.text
    done = web.post(f"{path}/decide", data={"csrf_token": token, "decision": "approve",
                                            "comment": "Banking is fine with it."},
                    follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("done=approve#approvals")
    page = web.get(path).text
    assert "Banking is fine with it." in page and "1 of 2 approvals so far" in page
    assert change_state(web, number) == "authorize"

    token = sign_in(web, "alice")
    web.post(f"{path}/decide", data={"csrf_token": token, "decision": "approve"})
    assert change_state(web, number) == "scheduled"
    page = web.get(path).text
    assert 'data-gate="allowed"' in page
    again = web.post(f"{path}/decide", data={"csrf_token": token, "decision": "reject"})
    assert again.status_code == 409 and "not waiting for approval" in again.text


def test_owners_move_their_change(web):  # type: ignore[no-untyped-def]
    number = change_id(web, "Orders: partial shipments")
    path = f"/changes/{number}"
    token = sign_in(web, "bob")
    assert posts(web.get(path).text) == []
    refused = web.post(f"{path}/move", data={"csrf_token": token, "state": "implement"})
    assert refused.status_code == 403 and "only members of the owning team" in refused.text

    token = sign_in(web, "alice")
    actions = posts(web.get(path).text)
    assert actions.count(f"{path}/move") == 2  # implement, cancel
    bad = web.post(f"{path}/move", data={"csrf_token": token, "state": "scheduled"})
    assert bad.status_code == 422
    moved = web.post(f"{path}/move", data={"csrf_token": token, "state": "implement"},
                     follow_redirects=False)
    assert moved.status_code == 303
    assert change_state(web, number) == "implement"
    wrong = web.post(f"{path}/move", data={"csrf_token": token, "state": "canceled"})
    assert wrong.status_code == 409 and "cannot go from implement to canceled" in wrong.text
    closed = web.post(f"{path}/move", data={"csrf_token": token, "state": "closed",
                                            "outcome": "successful_with_issues"})
    assert closed.status_code == 200 and "The change is closed." in closed.text
    with web.db.read_session() as session:
        change = session.get(Change, number)
        assert (change.state, change.outcome) == ("closed", "successful_with_issues")
    assert web.post(f"{path}/move", data={"state": "review"}).status_code == 403


def test_calendar_shows_windows_and_conflicts(web):  # type: ignore[no-untyped-def]
    sign_in(web, "viewer")
    with web.db.read_session() as session:
        freeze = session.scalar(select(CalendarWindow).where(CalendarWindow.kind == "freeze"))
        pending = session.scalar(select(Change).where(Change.title == PENDING_TITLE))
        freeze_day = freeze.starts_at.date().isoformat()
        conflict_day = pending.planned_start.date().isoformat()
        pending_id = pending.id
    page = web.get(f"/changes/calendar?week={freeze_day}&tz=UTC").text
    assert 'class="cal-window cal-freeze"' in page and FREEZE_NAME in page
    page = web.get(f"/changes/calendar?week={conflict_day}").text
    assert page.count("cal-conflict") >= 2
    assert f'href="/changes/{pending_id}"' in page
    assert "overlaps and changes orders-service, which depends on core-db" in page
    assert "Platform Sunday maintenance" in page and "every Sunday at 02:00 for 2 h" in page
    assert posts(page) == []


def test_window_forms(web):  # type: ignore[no-untyped-def]
    token = sign_in(web, "admin")
    base = {"csrf_token": token, "week": "2026-03-23", "tz": "Europe/Berlin",
            "name": "Spring release pause", "kind": "freeze", "scope": "all",
            "schedule": "once", "starts_at": "2026-03-28T18:00", "ends_at": "2026-03-30T06:00",
            "timezone": "Europe/Berlin"}
    made = web.post("/changes/calendar/windows", data=base, follow_redirects=False)
    assert made.status_code == 303
    assert made.headers["location"].startswith(
        "/changes/calendar?week=2026-03-28&tz=Europe%2FBerlin&done=window-added")
    with web.db.read_session() as session:
        row = session.scalar(select(CalendarWindow).where(
            CalendarWindow.name == "Spring release pause"))
        # 18:00 CET is 17:00 UTC; 06:00 CEST (after the clocks change) is 04:00 UTC
        assert row.starts_at == datetime(2026, 3, 28, 17, 0, tzinfo=UTC)
        assert row.ends_at == datetime(2026, 3, 30, 4, 0, tzinfo=UTC)
        window_id = row.id
    page = web.get(made.headers["location"]).text
    assert "Window added." in page and "Spring release pause" in page

    weekly = {**base, "name": "Banking Friday pause", "scope": "team",
              "scope_values": "banking-webapp", "schedule": "weekly", "weekdays": ["4"],
              "start_time": "16:00", "duration_minutes": "180"}
    assert web.post("/changes/calendar/windows", data=weekly,
                    follow_redirects=False).status_code == 303
    for changes, status, message in (
            ({"ends_at": "2026-03-28T17:00"}, 422, "ends_at: must be after starts_at"),
            ({"starts_at": "soon"}, 422, "starts_at"),
            ({"timezone": "Mars/Olympus"}, 422, "timezone: unknown time zone"),
            ({"kind": "party"}, 422, "kind"),
            ({"scope": "team", "scope_values": "nobody"}, 422,
             "team &#39;nobody&#39; does not exist"),
            ({"scope": "services", "scope_values": ""}, 422, "scope_values"),
            ({"schedule": "weekly", "weekdays": [], "start_time": "09:00",
              "duration_minutes": "60"}, 422, "weekdays"),
            ({"schedule": "weekly", "weekdays": ["1"], "start_time": "9 am",
              "duration_minutes": "60"}, 422, "start_time"),
            ({"schedule": "weekly", "weekdays": ["1"], "start_time": "09:00",
              "duration_minutes": "long"}, 422, "duration_minutes")):
        response = web.post("/changes/calendar/windows", data={**base, **changes})
        assert response.status_code == status, changes
        assert message in response.text, changes
        assert 'role="alert"' in response.text
    assert web.post("/changes/calendar/windows",
                    data={k: v for k, v in base.items() if k != "csrf_token"}).status_code == 403

    token = sign_in(web, "alice")
    page = web.get("/changes/calendar").text
    assert "/changes/calendar/windows" in posts(page)
    assert not any(a.endswith("/delete") for a in posts(page))
    refused = web.post("/changes/calendar/windows", data={**base, "csrf_token": token})
    assert refused.status_code == 403 and "only an admin may set windows beyond one team" in \
        refused.text
    own = web.post("/changes/calendar/windows", data={
        **base, "csrf_token": token, "name": "O2C month-end", "scope": "team",
        "scope_values": "order-to-cash"}, follow_redirects=False)
    assert own.status_code == 303
    refused = web.post(f"/changes/calendar/windows/{window_id}/delete",
                       data={"csrf_token": token})
    assert refused.status_code == 403 and "only an admin may remove calendar windows" in \
        refused.text

    token = sign_in(web, "admin")
    gone = web.post(f"/changes/calendar/windows/{window_id}/delete",
                    data={"csrf_token": token, "week": "2026-03-23", "tz": "UTC"},
                    follow_redirects=False)
    assert gone.status_code == 303 and "done=window-removed" in gone.headers["location"]
    with web.db.read_session() as session:
        assert session.get(CalendarWindow, window_id) is None
    missing = web.post(f"/changes/calendar/windows/{window_id}/delete",
                       data={"csrf_token": token}, headers=HTML)
    assert missing.status_code == 404


def test_deployments_and_unauthorised_changes(web):  # type: ignore[no-untyped-def]
    sign_in(web, "viewer")
    with web.db.read_session() as session:
        flagged = session.scalar(select(func.count()).select_from(Deployment).where(
            Deployment.unauthorised.is_(True)))
    page = web.get("/deployments/unauthorised").text
    assert f'id="unauthorised-count">{flagged}<' in page
    rows = re.findall(r'<tr class="row-unauthorised">', page)
    assert len(rows) == flagged
    assert page.count("no change") >= flagged
    assert posts(page) == []
    all_page = web.get("/deployments").text
    assert "unauthorised-banner" in all_page and all_page.count('data-deployment="') > 20
    toggled = web.get("/deployments?unauthorised=1").text
    assert toggled.count('<tr class="row-unauthorised">') == flagged
    kafka = web.get("/deployments?service=kafka").text
    services = set(re.findall(r'<td class="nowrap"><a href="/services/([^"]+)">', kafka))
    assert services == {"kafka"}
    failed = web.get("/deployments?status=failed").text
    assert 'data-deployment="failed"' in failed and 'data-deployment="succeeded"' not in failed
    staging = web.get("/deployments?environment=staging").text
    assert "<td>staging</td>" in staging and "<td>production</td>" not in staging
    team = web.get("/deployments?team=platform").text
    assert "/services/kafka" in team and "/services/orders-service" not in team


def sign_in(client, username: str) -> str:  # type: ignore[no-untyped-def]
    return sign_in_at(client, username, "/changes")
