"""The incident pages through the ASGI app, on SQLite and (when configured) PostgreSQL,
with the demo's incidents: a live acknowledged P1 cascade with core-db as origin and
three other open incidents (``steward.demo.incidents``), a closed P1 with a confirmed
cause and a resolved manual P4.

Status codes, redirects to the login, CSRF refusals, what a viewer sees and may not
do, lifecycle errors shown on the page with their 4xx, and every form writing through
the incident use cases.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy import select
from webclient import HTML
from webclient import sign_in as sign_in_at

from steward.app import create_app
from steward.changes.models import Deployment
from steward.incidents.models import OPEN_STATES, Incident, TimelineEntry

CASCADE = "core-db: too many connections, primary refusing clients"


def incident_id(client: TestClient, title: str) -> int:
    with client.db.read_session() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(Incident.id).where(Incident.title == title)))


def cascade_id(client: TestClient) -> int:
    return incident_id(client, CASCADE)


def open_ids(client: TestClient) -> list[str]:
    with client.db.read_session() as session:  # type: ignore[attr-defined]
        return [str(i) for i in session.scalars(select(Incident.id).where(
            Incident.status.in_(OPEN_STATES)))]


def ids_where(client: TestClient, *conditions) -> list[str]:  # type: ignore[no-untyped-def]
    with client.db.read_session() as session:  # type: ignore[attr-defined]
        return sorted(str(i) for i in session.scalars(select(Incident.id).where(*conditions)))


def load(client: TestClient, number: int) -> SimpleNamespace:
    """The incident's columns, read now."""
    with client.db.read_session() as session:  # type: ignore[attr-defined]
        found = session.get(Incident, number)
        assert found is not None
        return SimpleNamespace(**{c.key: getattr(found, c.key)
                                  for c in Incident.__table__.columns})


def posts(text: str) -> list[str]:
    """The actions of the forms that change something, apart from signing out."""
    return [a for a in re.findall(r'<form method="post" action="([^"]+)"', text)
            if a != "/logout"]


def rows(text: str) -> list[str]:
    return re.findall(r'<a class="inc-number" href="/incidents/(\d+)">', text)


def test_pages_need_a_login(db):  # type: ignore[no-untyped-def]
    web = TestClient(create_app(db.settings, database=db))
    for path in ("/incidents", "/incidents?status=all", "/incidents/1"):
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=%2Fincidents")
    for path in ("/incidents", "/incidents/1/act", "/incidents/1/note", "/incidents/1/cause"):
        response = web.post(path, data={"action": "resolve"}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"


def test_list_filters_paging_and_nav_count(web):  # type: ignore[no-untyped-def]
    sign_in(web, "viewer")
    live = cascade_id(web)
    page = web.get("/incidents")
    assert page.status_code == 200
    text = page.text
    opened = open_ids(web)
    assert str(live) in opened and len(opened) >= 4
    assert sorted(rows(text)) == sorted(opened)  # open only, by default
    assert 'id="incident-live" data-refresh="30"' in text
    assert 'data-priority="P1"' in text and 'data-status="acknowledged"' in text
    assert "/services/core-db" in text and "/teams/platform" in text
    assert "/services/online-banking" in text and "/services/order-to-cash-process" in text
    assert "min ago" in text and " UTC" in text
    assert re.search(rf'id="nav-open-incidents">\({len(opened)}<', text)
    assert 'href="/incidents" aria-current="page"' in text
    assert posts(text) == []  # a viewer declares nothing
    everything = web.get("/incidents?status=all").text
    total = len(opened) + 2  # and the resolved manual one and the closed one
    assert len(rows(everything)) == total and "Help-centre search is slow" in everything
    assert 'data-status="closed"' in everything and "✓ met" in everything
    p4 = rows(web.get("/incidents?status=all&priority=P4").text)
    assert str(incident_id(web, "Help-centre search is slow")) in p4
    assert sorted(p4) == ids_where(web, Incident.priority == "P4")
    assert rows(web.get("/incidents?status=closed").text) == [
        str(incident_id(web, "Card authorisations failing (38%)"))]
    platform = rows(web.get("/incidents?status=all&team=platform").text)
    assert str(live) in platform and str(incident_id(web, "Help-centre search is slow")) \
        not in platform
    assert rows(web.get("/incidents?status=all&service=accounts-service").text) == [str(live)]
    assert rows(web.get("/incidents?status=all&q=HELP-CENTRE").text) != []
    assert "No incidents match these filters." in web.get("/incidents?q=nothing-like-it").text
    paged = web.get("/incidents?status=all&limit=1").text
    assert len(rows(paged)) == 1 and f"Showing 1–1 of {total} incidents" in paged
    assert 'href="/incidents?status=all&amp;limit=1&amp;offset=1"' in paged
    for path, message in (("/incidents?status=broken", "status: unknown status"),
                          ("/incidents?priority=P9", "priority: expected one of"),
                          ("/incidents?limit=0", "limit: must be")):
        response = web.get(path, headers=HTML)
        assert response.status_code == 422 and message in response.text, path
    # the nav count shows on every page
    assert re.search(rf'id="nav-open-incidents">\({len(opened)}<', web.get("/catalog").text)


def test_incident_page_for_a_viewer(web):  # type: ignore[no-untyped-def]
    token = sign_in(web, "viewer")
    live = cascade_id(web)
    path = f"/incidents/{live}"
    text = web.get(path).text
    assert f"INC-{live}" in text and CASCADE in text
    origin = text.split('id="origin"', 1)[1].split("</dd>", 1)[0]
    assert "/services/core-db" in origin and "most upstream alerting service" in origin
    business = text.split('id="business-services"', 1)[1].split("</dd>", 1)[0]
    assert "online-banking" in business and "order-to-cash-process" in business
    suspects = text.split('id="suspects-table"', 1)[1].split("</table>", 1)[0]
    assert "/services/core-db" in suspects and "15.8-config-42" in suspects
    assert "deployed 7 minutes before the incident started" in suspects
    assert "Confirm as cause" not in suspects
    alerts = text.split('id="alerts-table"', 1)[1].split("</table>", 1)[0]
    for service in ("core-db", "orders-service", "accounts-service", "auth-service"):
        assert f"/services/{service}" in alerts, service
    assert 'data-severity="critical"' in alerts and 'data-alert="firing"' in alerts
    timeline = text.split('id="timeline-list"', 1)[1].split("</ol>", 1)[0]
    assert timeline.index("Alert on orders-service") < timeline.index("checking pgbouncer") \
        < timeline.index("Alert on auth-service")
    assert 'class="steward-systemmap"' in text
    assert 'data-service="online-banking"' in text and 'data-service="core-db"' in text
    assert re.search(r'class="node[^"]*highlight[^"]*"[^>]*data-service="core-db"', text)
    assert re.search(r'href="/map\?failing=[^"]*core-db', text)
    assert "on track" in text and "Respond by" in text
    assert posts(text) == [] and "cannot-respond" in text

    with web.db.read_session() as session:
        top = session.scalar(select(Deployment.id).where(Deployment.version == "15.8-config-42"))
    for action, data in (("act", {"action": "resolve"}), ("assign", {"assignee": "viewer"}),
                         ("priority", {"impact": "3"}), ("note", {"text": "hello"}),
                         ("cause", {"deployment_id": str(top)}),
                         ("fix", {"deployment_id": str(top)})):
        refused = web.post(f"{path}/{action}", data={"csrf_token": token, **data})
        assert refused.status_code == 403, action
    forged = web.post("/incidents", data={"csrf_token": token, "title": "x",
                                          "service": "core-db"})
    assert forged.status_code == 403
    assert load(web, live).status == "acknowledged" and load(web, live).caused_by_deployment_id \
        is None

    closed = web.get(f"/incidents/{incident_id(web, 'Card authorisations failing (38%)')}").text
    assert "✱ confirmed cause" in closed and "8.4.0" in closed and "8.4.1" in closed
    manual = web.get(f"/incidents/{incident_id(web, 'Help-centre search is slow')}").text
    assert "declared by hand" in manual and "No alerts: this incident was declared by hand" in \
        manual
    for bad, status in (("/incidents/99999", 404), ("/incidents/abc", 404),
                        ("/incidents/0", 404)):
        assert web.get(bad, headers=HTML).status_code == status, bad


def test_responder_actions_and_their_errors(web):  # type: ignore[no-untyped-def]
    token = sign_in(web, "carol")
    live = cascade_id(web)
    opened = len(open_ids(web))
    path = f"/incidents/{live}"
    text = web.get(path).text
    for action in ("act", "assign", "priority", "note", "fix"):
        assert f"{path}/{action}" in posts(text), action
    assert 'value="mitigate"' in text and 'value="resolve"' in text
    assert 'value="acknowledge"' not in text and 'value="close"' not in text

    refused = web.post(f"{path}/act", data={"action": "resolve"})
    assert refused.status_code == 403 and "security token" in refused.text
    future = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = web.post(f"{path}/act", data={"csrf_token": token, "action": "resolve",
                                             "at": future, "note": "keep me"})
    assert response.status_code == 422
    assert "at: cannot record a time in the future" in response.text
    assert 'role="alert"' in response.text and 'value="keep me"' in response.text
    early = web.post(f"{path}/act", data={"csrf_token": token, "action": "resolve",
                                          "at": "2001-01-01T00:00"})
    assert early.status_code == 422 and "at: is before the incident started" in early.text
    wrong = web.post(f"{path}/act", data={"csrf_token": token, "action": "close"})
    assert wrong.status_code == 409
    assert f"status: INC-{live} is acknowledged; close needs resolved" in wrong.text
    assert web.post(f"{path}/act", data={"csrf_token": token, "action": "explode"}
                    ).status_code == 422
    assert web.post("/incidents/99999/act", data={"csrf_token": token, "action": "resolve"},
                    headers=HTML).status_code == 404
    assert load(web, live).status == "acknowledged"

    at = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    done = web.post(f"{path}/act", data={"csrf_token": token, "action": "resolve",
                                         "at": at.strftime("%Y-%m-%dT%H:%M"),
                                         "note": "pool size back to 200"},
                    follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=resolve"
    resolved = load(web, live)
    assert resolved.status == "resolved" and resolved.resolved_at == at
    text = web.get(done.headers["location"]).text
    assert "Resolved." in text and "pool size back to 200" in text
    assert 'value="close"' in text and 'value="reopen"' in text and 'value="resolve"' not in text
    assert re.search(rf'id="nav-open-incidents">\({opened - 1}<', text)  # one fewer open

    # people: only what changed is written; unknown users are refused
    moved = web.post(f"{path}/assign", data={"csrf_token": token, "assignee": "carol",
                                             "commander": "alice", "team": "platform"},
                     follow_redirects=False)
    assert moved.headers["location"] == f"{path}?done=assigned#respond"
    again = web.post(f"{path}/assign", data={"csrf_token": token, "assignee": "carol",
                                             "commander": "alice", "team": "platform"},
                     follow_redirects=False)
    assert again.headers["location"] == f"{path}?done=unchanged#respond"
    unknown = web.post(f"{path}/assign", data={"csrf_token": token, "assignee": "nobody"})
    assert unknown.status_code == 422 and "assignee: user &#39;nobody&#39; does not exist" in \
        unknown.text
    with web.db.read_session() as session:
        texts = list(session.scalars(select(TimelineEntry.text).where(
            TimelineEntry.incident_id == live, TimelineEntry.kind == "assignment")))
    assert texts == ["Now assignee carol, incident commander alice."]

    lowered = web.post(f"{path}/priority", data={"csrf_token": token, "impact": "2",
                                                 "urgency": "1"}, follow_redirects=False)
    assert lowered.status_code == 303
    after = load(web, live)
    assert (after.priority, after.impact_overridden, after.urgency_overridden) == (
        "P2", True, False)
    assert web.post(f"{path}/priority", data={"csrf_token": token, "impact": "7"}
                    ).status_code == 422

    noted = web.post(f"{path}/note", data={"csrf_token": token, "text": "Postmortem Friday."},
                     follow_redirects=False)
    assert noted.headers["location"] == f"{path}?done=note#timeline"
    assert "Postmortem Friday." in web.get(path).text
    empty = web.post(f"{path}/note", data={"csrf_token": token, "text": "  "})
    assert empty.status_code == 422 and "text: a note needs some text" in empty.text

    closed = web.post(f"{path}/act", data={"csrf_token": token, "action": "close"},
                      follow_redirects=False)
    assert closed.status_code == 303 and load(web, live).status == "closed"
    reopened = web.post(f"{path}/act", data={"csrf_token": token, "action": "reopen"},
                        follow_redirects=False)
    assert reopened.status_code == 303
    assert (load(web, live).status, load(web, live).reopen_count) == ("triggered", 1)
    assert 'value="acknowledge"' in web.get(path).text


def test_confirm_cause_and_record_fix(web):  # type: ignore[no-untyped-def]
    token = sign_in(web, "bob")  # banking-webapp: anyone but a viewer responds to any incident
    live = cascade_id(web)
    path = f"/incidents/{live}"
    with web.db.read_session() as session:
        top = session.scalar(select(Deployment.id).where(Deployment.version == "15.8-config-42"))
    assert f'action="{path}/cause"' in web.get(path).text
    for value, message in (("abc", "deployment_id: the number of a deployment"),
                           ("99999", "deployment_id: deployment 99999 does not exist")):
        bad = web.post(f"{path}/cause", data={"csrf_token": token, "deployment_id": value})
        assert bad.status_code == 422 and message in bad.text
    confirmed = web.post(f"{path}/cause", data={"csrf_token": token,
                                                "deployment_id": str(top)},
                         follow_redirects=False)
    assert confirmed.headers["location"] == f"{path}?done=cause#suspects"
    text = web.get(confirmed.headers["location"]).text
    assert "Cause confirmed" in text
    suspects = text.split('id="suspects-table"', 1)[1].split("</table>", 1)[0]
    assert 'class="suspect suspect-confirmed"' in suspects and "✱ confirmed cause" in suspects
    assert "Confirm as cause" not in suspects
    cause = text.split('id="cause"', 1)[1].split("</dd>", 1)[0]
    assert "15.8-config-42" in cause
    with web.db.read_session() as session:
        deployment = session.get(Deployment, top)
        assert deployment.caused_incident_id == live
        assert session.get(Incident, live).caused_by_deployment_id == top

    fixed = web.post(f"{path}/fix", data={"csrf_token": token, "deployment_id": str(top)},
                     follow_redirects=False)
    assert fixed.headers["location"] == f"{path}?done=fix#suspects"
    assert 'id="fixes"' in web.get(path).text
    with web.db.read_session() as session:
        assert session.get(Deployment, top).fixes_incident_id == live


def test_declare_an_incident(web):  # type: ignore[no-untyped-def]
    token = sign_in(web, "dan")
    opened = len(open_ids(web))
    page = web.get("/incidents").text
    assert "/incidents" in posts(page) and 'id="declare"' in page
    form = {"csrf_token": token, "title": "Login page times out", "service": "auth-service",
            "impact": "auto", "urgency": "1", "description": "Reported by support."}
    for changes, message in (({"service": ""}, "service"),
                             ({"service": "no-such-service"},
                              "service: service &#39;no-such-service&#39; does not exist"),
                             ({"title": ""}, "title"),
                             ({"urgency": "9"}, "urgency: 1 (high) to 3 (low)")):
        response = web.post("/incidents", data={**form, **changes})
        assert response.status_code == 422, changes
        assert message in response.text and 'role="alert"' in response.text, changes
        assert 'value="Login page times out"' in response.text or changes.get("title") == ""
    assert web.post("/incidents", data={k: v for k, v in form.items() if k != "csrf_token"}
                    ).status_code == 403
    made = web.post("/incidents", data=form, follow_redirects=False)
    assert made.status_code == 303
    assert re.fullmatch(r"/incidents/\d+\?done=declared", made.headers["location"])
    number = int(made.headers["location"].split("/")[2].split("?")[0])
    text = web.get(made.headers["location"]).text
    assert "Incident declared." in text and "Login page times out" in text
    assert "Reported by support." in text and "declared by hand" in text
    incident = load(web, number)
    assert incident.manual and incident.status == "triggered"
    assert (incident.impact_overridden, incident.urgency_overridden) == (False, True)
    assert incident.priority == "P1"  # auth-service is tier 1 under two business services
    listed = web.get("/incidents").text
    assert str(number) in rows(listed) and str(cascade_id(web)) in rows(listed)
    assert re.search(rf'id="nav-open-incidents">\({opened + 1}<', listed)


def sign_in(client, username: str) -> str:  # type: ignore[no-untyped-def]
    return sign_in_at(client, username, "/incidents")


def test_a_recurrence_links_back_and_alerts_show_both_times(web):  # type: ignore[no-untyped-def]
    from helpers import make_service

    from steward.auth.use_cases import accounts as auth
    from steward.incidents.commands import RecordAlert
    from steward.incidents.use_cases import lifecycle
    from steward.incidents.use_cases.alerts import record_alert

    make_service(web.db, "lonely", owner="platform", tier=3)
    then = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    with web.db.session() as session:
        old = record_alert(session, None, RecordAlert(
            dedup_key="lonely-down", status="firing", service="lonely", summary="lonely down",
            occurred_at=then, received_at=then)).incident
        assert old is not None
        carol = auth.actor_for_user(session, auth.get_user(session, "carol"))
        lifecycle.act(session, carol, old.id, "resolve", at=then + timedelta(minutes=10))
        old_id = old.id
    with web.db.session() as session:
        new = record_alert(session, None, RecordAlert(
            dedup_key="lonely-down", status="firing", service="lonely", summary="lonely down",
            severity="catastrophic", occurred_at=datetime(2015, 3, 1, tzinfo=UTC))).incident
        assert new is not None
        new_id = new.id
    sign_in(web, "carol")
    text = web.get(f"/incidents/{new_id}").text
    assert re.search(rf'id="recurrence-of"><a href="/incidents/{old_id}">INC-{old_id}</a>', text)
    assert "2015-03-01 00:00:00 UTC" in text  # the time reported, beside the one counted
    assert "11 years before it was received" in text
    assert "sent as “catastrophic”" in text
    resolved = web.get(f"/incidents/{old_id}").text
    assert "1 alert resolved with the incident." in resolved
