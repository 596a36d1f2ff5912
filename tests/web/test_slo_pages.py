"""SLO pages on the demo organisation: the list with burn-down charts, one SLO with its
edit form, the service page's SLO section, the create form, and what viewers may not do."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from webclient import HTML
from webclient import sign_in as sign_in_at

from steward.auth.actor import SYSTEM
from steward.auth.use_cases import accounts as auth
from steward.slos.models import Slo


def slo_id(web, name: str) -> int:  # type: ignore[no-untyped-def]
    with web.db.read_session() as session:
        return int(session.scalar(select(Slo.id).where(Slo.name == name)))


def test_list_shows_status_and_burndown_charts(web):
    sign_in_at(web, "viewer")
    page = web.get("/slos", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert 'aria-current="page">SLOs' in html
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*transfers succeed(?:(?!</tr>).)*</tr>", html, re.S)
    assert row and "✕ spent" in row.group(0) and "-100.0%" in row.group(0)
    web_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*successful requests(?:(?!</tr>).)*</tr>",
                        html, re.S)
    assert web_row and "✓ ok" in web_row.group(0)
    assert html.count('<svg class="slo-chart"') == 3
    assert "from 100% to -100% (spent)" in html
    filtered = web.get("/slos?team=banking-webapp", headers=HTML).text
    assert "transfers succeed" in filtered and "ledger available" not in filtered


def test_service_page_shows_its_slos_and_the_budget_policy(web):
    sign_in_at(web, "viewer")
    html = web.get("/services/transfers-service", headers=HTML).text
    section = html[html.index('id="slos"'):]
    assert "transfers succeed" in section and "✕ spent" in section
    assert "its changes need the owning team" in section
    assert "Define an SLO" not in section  # a viewer does not get the form
    sign_in_at(web, "bob")
    assert "Define an SLO" in web.get("/services/transfers-service", headers=HTML).text


def test_a_spent_demo_budget_takes_auto_approval_away(web):
    with web.db.session() as session:
        token = auth.create_token(session, SYSTEM, "bob")
    change = web.post("/api/v1/changes", headers={"Authorization": f"Bearer {token}"}, json={
        "title": "Retry timeouts", "services": ["transfers-service"], "batch_size": 1})
    assert change.status_code == 201, change.text
    detail = web.get(f"/api/v1/changes/{change.json()['id']}",
                     headers={"Authorization": f"Bearer {token}"}).json()
    assert detail["auto_approved"] is False
    assert "error_budget" in {f["key"] for f in detail["risk"]["factors"]}


def test_owner_creates_edits_and_deletes_an_slo_through_the_forms(web):
    csrf = sign_in_at(web, "bob")
    bad = web.post("/services/accounts-service/slos", headers=HTML, data={
        "csrf_token": csrf, "name": "balances", "objective": "1.5", "window_days": "28",
        "sli": "impact"})
    assert bad.status_code == 422 and "objective" in bad.text
    with web.db.read_session() as session:
        assert session.scalar(select(Slo.id).where(Slo.name == "balances")) is None
    made = web.post("/services/accounts-service/slos", headers=HTML, follow_redirects=False,
                    data={"csrf_token": csrf, "name": "balances", "objective": "0.995",
                          "window_days": "14", "sli": "impact", "description": "Balances load"})
    assert made.status_code == 303
    number = slo_id(web, "balances")
    assert made.headers["location"] == f"/slos/{number}?done=created"
    detail = web.get(f"/slos/{number}", headers=HTML).text
    assert "99.500% over 14 days" in detail and 'id="burn-rules"' in detail
    edited = web.post(f"/slos/{number}/edit", headers=HTML, follow_redirects=False,
                      data={"csrf_token": csrf, "objective": "0.99", "window_days": "abc"})
    assert edited.status_code == 422 and "window_days" in edited.text
    edited = web.post(f"/slos/{number}/edit", headers=HTML, follow_redirects=False,
                      data={"csrf_token": csrf, "objective": "0.99", "window_days": "7"})
    assert edited.status_code == 303
    assert "99.000% over 7 days" in web.get(f"/slos/{number}", headers=HTML).text
    gone = web.post(f"/slos/{number}/delete", headers=HTML, follow_redirects=False,
                    data={"csrf_token": csrf})
    assert gone.status_code == 303 and gone.headers["location"] == "/slos?done=deleted"
    assert web.get(f"/slos/{number}", headers=HTML).status_code == 404


def test_viewers_and_other_teams_cannot_write(web):
    number = slo_id(web, "transfers succeed")
    csrf = sign_in_at(web, "viewer")
    assert "Only members of" in web.get(f"/slos/{number}", headers=HTML).text
    refused = web.post(f"/slos/{number}/edit", headers=HTML,
                       data={"csrf_token": csrf, "objective": "0.5"})
    assert refused.status_code == 403
    csrf = sign_in_at(web, "alice")  # order-to-cash, not banking-webapp
    assert web.post(f"/slos/{number}/delete", headers=HTML,
                    data={"csrf_token": csrf}).status_code == 403
    assert web.post(f"/slos/{number}/delete", headers=HTML,
                    data={"csrf_token": "wrong"}).status_code == 403
    assert slo_id(web, "transfers succeed") == number


@pytest.mark.ui
def test_slo_pages_in_a_browser(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("bob")
    page.click("nav.mainnav >> text=SLOs")
    page.wait_for_url(re.compile(r"/slos$"))
    assert page.locator("svg.slo-chart").count() >= 3
    shot("slos-list")
    page.click("#slo-table >> text=transfers succeed")
    page.wait_for_selector("#burn-rules")
    assert "spent" in page.inner_text("#slo-budget")
    shot("slo-detail")
    page.goto("/services/transfers-service#slos")
    assert "transfers succeed" in page.inner_text("#service-slos")
    shot("service-slos")
