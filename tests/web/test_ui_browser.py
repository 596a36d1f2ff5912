"""The web UI in real Chromium against a real ``steward serve`` with the demo organisation.

Every page visited is saved as a full-page screenshot under
test-output/screenshots/ so a person can look at it.
"""

from __future__ import annotations

import re

import pytest

from steward.demo import organisation as org

pytestmark = pytest.mark.ui

O2C_SERVICES = sorted(name for name, _k, _t, owner, _d, _e in org.SERVICES
                      if owner == "order-to-cash")


def csrf_of(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_attribute("form[action='/logout'] input[name=csrf_token]", "value")


def test_login_page_and_wrong_password(page, shot):  # type: ignore[no-untyped-def]
    page.goto("/catalog")
    assert re.search(r"/login\?next=%2Fcatalog$", page.url)
    shot("login")
    page.fill("#username", "admin")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    error = page.locator("[role=alert]")
    assert "Wrong username or password" in error.inner_text()
    assert page.input_value("#username") == "admin"
    shot("login-wrong-password")


def test_admin_filters_catalog_by_team(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("admin")
    page.goto("/catalog")
    assert page.locator("#services tbody tr").count() == len(org.SERVICES)
    assert "Showing 1–33 of 33 services" in page.inner_text(".pager")
    shot("catalog")
    page.select_option("#f-team", "order-to-cash")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"team=order-to-cash"))
    names = page.locator("#services tbody tr td:first-child a").all_inner_texts()
    assert sorted(names) == O2C_SERVICES
    headers = page.locator("#services thead th").all_text_contents()

    def column(name: str) -> int:  # 1-based, whatever columns come before it
        return next(i for i, h in enumerate(headers, 1) if h.strip().startswith(name))

    owner, tier = column("Owner team"), column("Tier")
    owners = set(page.locator(f"#services tbody tr td:nth-child({owner})").all_inner_texts())
    assert owners == {"order-to-cash"}
    shot("catalog-team-order-to-cash")
    # sorting by tier through the header button keeps every row
    page.click(f"#services thead th:nth-child({tier}) button")
    assert page.get_attribute(f"#services thead th:nth-child({tier})", "aria-sort") == \
        "ascending"
    assert page.locator("#services tbody tr").count() == len(O2C_SERVICES)


def test_system_map_has_every_service_and_colours_a_failure(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("admin")
    page.goto("/map")
    nodes = page.locator("svg.steward-systemmap g.node")
    assert nodes.count() == len(org.SERVICES)
    for name, *_rest in org.SERVICES:
        node = page.locator(f"svg g.node[data-service='{name}'] a")
        assert node.get_attribute("href") == f"/services/{name}"
    # without a what-if, each service shows its live health (the demo has open incidents)
    states = nodes.evaluate_all("ns => ns.map(n => n.getAttribute('data-state'))")
    assert set(states) <= {"up", "degraded", "down", "unknown"}
    # Live health: the demo's open cascade has core-db down, and what needs it follows.
    core = page.locator("svg g.node[data-service='core-db']")
    assert core.get_attribute("data-state") == "down"
    assert page.locator("svg g.node[data-service='online-banking']").get_attribute(
        "data-state") in ("down", "degraded")
    live_fill = core.locator("rect").evaluate("r => getComputedStyle(r).fill")
    assert live_fill != page.locator("svg g.node[data-service='web-node-1'] rect").evaluate(
        "r => getComputedStyle(r).fill")
    assert "✕ DOWN" in core.text_content()  # the state in words, not colour alone
    assert "core-db" in page.inner_text("#live-hit")
    shot("map")

    page.fill("#m-failing", "core-db")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"failing=core-db"))
    banking = page.locator("svg g.node[data-service='online-banking']")
    assert banking.get_attribute("data-state") == "down"
    assert "state-down" in banking.get_attribute("class")
    down_fill = banking.locator("rect").evaluate("r => getComputedStyle(r).fill")
    up_fill = page.locator("svg g.node[data-service='web-node-1'] rect").evaluate(
        "r => getComputedStyle(r).fill")
    assert down_fill != up_fill
    assert "online-banking" in page.inner_text(".impact-strip")
    shot("map-failing-core-db")

    page.goto("/map?team=platform")
    assert page.locator("svg g.node.highlight").count() == sum(
        1 for s in org.SERVICES if s[3] == "platform")
    shot("map-team-platform")

    page.goto("/map?focus=kafka")
    assert "focused" in page.get_attribute("svg g.node[data-service='kafka']", "class")
    page.locator("svg g.node[data-service='kafka'] a").click()
    page.wait_for_url(re.compile(r"/services/kafka$"))


def test_service_page_shows_impact(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("admin")
    page.goto("/services/core-db")
    assert page.inner_text("h1") == "core-db"
    business = page.inner_text("#impact-business")
    assert "order-to-cash-process" in business
    assert "online-banking" in business
    table = page.inner_text("#impact-table")
    assert "order-to-cash-process" in table and "online-banking" in table
    row = page.locator("#impact-table tr", has_text="online-banking").first
    assert "down" in row.inner_text()
    assert page.locator("#impact svg g.node").count() >= 3
    assert page.locator("#depends-on").count() == 1
    assert "accounts-service" in page.inner_text("#dependants")
    shot("service-core-db")
    page.emulate_media(color_scheme="dark")
    shot("service-core-db-dark")


def test_member_edits_own_service_but_not_platform(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("alice")
    page.goto("/services/credit-check")
    assert page.locator("form[action='/services/credit-check/edit']").count() == 1
    page.select_option("#e-tier", "2")
    page.click("form[action='/services/credit-check/edit'] button[type=submit]")
    page.wait_for_url(re.compile(r"done=saved"))
    assert "Changes saved." in page.inner_text("[role=status]")
    assert page.input_value("#e-tier") == "2"
    assert "2" in page.locator("#details dd", has_text="most critical").inner_text()
    shot("service-credit-check-saved")
    page.fill("#d-target", "no-such-service")
    with page.expect_response(re.compile(r"/dependencies$")) as answer:
        page.click("#add-dependency button[type=submit]")
    assert answer.value.status == 422
    assert "does not exist" in page.inner_text("[role=alert]")
    assert page.input_value("#d-target") == "no-such-service"
    shot("service-credit-check-dependency-error")

    page.goto("/services/core-db")
    assert page.locator("form[action='/services/core-db/edit']").count() == 0
    assert page.locator("#add-dependency").count() == 0
    assert "Only members of" in page.inner_text("#edit")
    shot("service-core-db-as-member")
    forged = page.request.post("/services/core-db/edit",
                               form={"csrf_token": csrf_of(page), "tier": "4"},
                               max_redirects=0)
    assert forged.status == 403
    assert "only members of the owning team" in forged.text()
    page.reload()
    assert "1 (1 is most critical)" in page.inner_text("#details")


def test_viewer_is_refused_the_audit_log(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("viewer")
    assert page.locator("nav.mainnav a", has_text="Audit log").count() == 0
    response = page.goto("/audit")
    assert response.status == 403
    assert "Not allowed" in page.inner_text("h1")
    shot("audit-as-viewer-403")


def test_post_without_csrf_token_is_refused(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("admin")
    response = page.request.post("/services/core-db/edit", form={"tier": "4"}, max_redirects=0)
    assert response.status == 403
    assert "security token" in response.text()
    response = page.request.post("/teams", form={"name": "sneaky"}, max_redirects=0)
    assert response.status == 403
    page.goto("/services/core-db")
    assert "1 (1 is most critical)" in page.inner_text("#details")


def test_admin_pages_teams_and_audit(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("admin")
    page.click("nav.mainnav a:has-text('Teams')")
    page.wait_for_url(re.compile(r"/teams$"))
    assert page.locator("#teams tbody tr").count() == len(org.TEAMS)
    shot("teams")
    page.fill("#t-name", "release-engineering")
    page.fill("#t-display", "Release Engineering")
    page.fill("#t-email", "release@example.com")
    page.click("form[action='/teams'] button[type=submit]")
    page.wait_for_url(re.compile(r"/teams/release-engineering"))
    assert "Release Engineering" in page.inner_text("h1")
    page.goto("/teams/order-to-cash")
    assert "alice" in page.inner_text("#members")
    assert "orders-service" in page.inner_text("#owned")
    shot("team-order-to-cash")

    page.click("nav.mainnav a:has-text('Audit log')")
    page.wait_for_url(re.compile(r"/audit$"))
    first = page.locator("#audit tbody tr").first
    assert "team.create" in first.inner_text()
    first.locator("summary").click()
    assert first.locator("table.diff").is_visible()
    shot("audit")
    page.click("button:has-text('Verify chain')")
    page.wait_for_url(re.compile(r"verify=1"))
    assert "Chain intact" in page.inner_text("#verify-result")
    page.select_option("#a-type", "dependency")
    page.locator("form[aria-label='Filter the audit log'] button").click()
    page.wait_for_url(re.compile(r"entity_type=dependency"))
    actions = set(page.locator("#audit tbody td:nth-child(4)").all_inner_texts())
    assert actions == {"dependency.create"}
    shot("audit-dependencies")


def test_error_pages(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("admin")
    response = page.goto("/services/no-such-service")
    assert response.status == 404
    assert "does not exist" in page.inner_text("main")
    shot("service-404")
    response = page.goto("/teams/no-such-team")
    assert response.status == 404
    response = page.goto("/no/such/page")
    assert response.status == 404
    assert page.locator("nav.mainnav").count() == 1
    shot("page-404")


def test_sign_out(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("bob")
    assert "Bob Banerjee" in page.inner_text(".whoami")
    page.click("button:has-text('Sign out')")
    page.wait_for_url(re.compile(r"/login$"))
    shot("signed-out")
    page.goto("/teams")
    assert re.search(r"/login\?next=%2Fteams$", page.url)
