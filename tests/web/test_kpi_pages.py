"""The KPI dashboard through the ASGI app on the demo with its twelve weeks of KPI
history (SQLite and, when configured, PostgreSQL): the organisation, a team, a goal,
the window form, downloads, and errors as pages with their status."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from webclient import HTML, sign_in

from steward.app import create_app
from steward.catalog.models import Service
from steward.demo.kpi_history import SLOS
from steward.demo.organisation import TEAMS
from steward.goals.service import list_goals
from steward.kpis.dora_queries import dora_kpis
from steward.kpis.itsm import itsm_kpis
from steward.slos.service import list_slos
from steward.web.kpi_charts import percent

pytestmark = pytest.mark.demo(kpi_history=True)


@pytest.fixture
def web(db):  # type: ignore[no-untyped-def]
    client = TestClient(create_app(db.settings, database=db))
    client.db = db  # type: ignore[attr-defined]
    return client


def charts(text: str) -> dict[str, int]:
    """Each chart's id and how many of its periods have a value."""
    return {m[0]: int(m[1]) for m in re.findall(
        r'<svg class="kpi-chart[^"]*" id="([^"]+)"[^>]*data-points="(\d+)"', text)}


def section(text: str, ident: str) -> str:
    return text.split(f'id="{ident}"', 1)[1].split("</section>", 1)[0]


def test_organisation_dashboard(web):  # type: ignore[no-untyped-def]
    response = web.get("/kpis", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    sign_in(web, "viewer")
    page = web.get("/kpis")
    assert page.status_code == 200
    text = page.text
    assert 'href="/kpis" aria-current="page"' in text
    with web.db.read_session() as session:  # type: ignore[attr-defined]
        dora = dora_kpis(session, days=84)
        itsm = itsm_kpis(session, days=84)
        goal_names = [g.name for g in list_goals(session)]
    assert dora["deployments"] > 100 and len(dora["weekly"]) == 12
    tiers = section(text, "tiers")
    assert f'tier-badge tier-{dora["tier"]}' in tiers.split("</h2>", 1)[0]
    cfr = tiers.split('data-metric="change_failure_rate"', 1)[1].split("</div>", 1)[0]
    assert percent(dora["change_failure_rate"]["value"]) in cfr
    assert f'tier-{dora["change_failure_rate"]["tier"]}' in cfr
    found = charts(text)
    assert {"chart-deployments", "chart-lead-time", "chart-change-failure-rate",
            "chart-mttr"} <= set(found)
    assert found["chart-deployments"] == 12  # every week of the window has deployments
    assert all(count > 0 for count in found.values()), found
    team_rows = re.findall(r'<tr data-team="([^"]+)">', section(text, "teams-h"))
    assert team_rows == sorted(t[0] for t in TEAMS)
    priorities = section(text, "itsm")
    for priority, figures in itsm["by_priority"].items():
        row = priorities.split(f'<tr data-priority="{priority}">', 1)[1].split("</tr>", 1)[0]
        assert f'<td class="num">{figures["incidents"]}</td>' in row
    goals = section(text, "goals")
    assert [n for n in goal_names if n in goals] == goal_names and len(goal_names) == 2
    assert goals.count('class="goal-fill"') == 2 and "teams meet it" in goals
    with web.db.read_session() as session:  # type: ignore[attr-defined]
        slo_count = len(list_slos(session))
    slos = section(text, "slos")
    assert slos.count('<svg class="kpi-chart') == slo_count >= len(SLOS)
    downloads = section(text, "changes")
    assert 'href="/api/v1/kpis/export?table=dora&amp;format=csv&amp;days=84&amp;group_by=team"' \
        in downloads
    csv = web.get("/api/v1/kpis/export?table=dora&format=csv&days=84&group_by=team")
    assert csv.status_code == 200 and csv.text.startswith("team,")  # the session suffices
    assert "alice" not in text.split('id="main"', 1)[1]  # nothing per person


def test_team_dashboard_and_window(web):  # type: ignore[no-untyped-def]
    sign_in(web, "bob")
    page = web.get("/kpis/teams/order-to-cash?days=28")
    assert page.status_code == 200
    text = page.text
    assert "KPIs of order-to-cash" in text and 'id="teams-table"' not in text
    assert re.search(r'<option value="28" selected>', text)
    found = charts(text)
    assert found["chart-deployments"] >= 3  # four weeks, deployments in most of them
    with web.db.read_session() as session:  # type: ignore[attr-defined]
        dora = dora_kpis(session, team="order-to-cash", days=28)
    assert f"{dora['deployments']} deployments" in section(text, "tiers")
    # The MTTR chart's weeks hold what the ITSM KPIs answer for each week on its own.
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for team in ("order-to-cash", "customer-experience"):
        page = web.get(f"/kpis/teams/{team}",
                       params={"days": 84, "end": end.isoformat()}).text
        chart = page.split('id="chart-mttr"', 1)[1].split("</svg>", 1)[0]
        drawn = dict(re.findall(r'class="point mark"[^>]*data-period="([^"]+)" '
                                r'data-value="([^"]+)"', chart))
        with web.db.read_session() as session:  # type: ignore[attr-defined]
            for w in range(12):
                week_end = end - timedelta(days=7 * w)
                median = itsm_kpis(session, team=team, days=7,
                                   end=week_end)["mttr_hours"]["median"]
                label = (week_end - timedelta(days=7)).strftime("%m-%d")
                if median is None:
                    assert label not in drawn
                else:
                    assert float(drawn[label]) == pytest.approx(median, rel=1e-5), label
        assert len(drawn) >= 4
    slos = section(text, "slos")
    with web.db.read_session() as session:  # type: ignore[attr-defined]
        own = {session.get(Service, s.service_id).name  # type: ignore[union-attr]
               for s in list_slos(session, team="order-to-cash")}
    assert slos.count('<svg class="kpi-chart') >= len(own) >= 2
    assert all(f'href="/services/{name}"' in slos for name in own)
    assert 'href="/services/accounts-service"' not in slos
    for path, status, message in (("/kpis/teams/nobody", 404, "team &#39;nobody&#39; not found"),
                                  ("/kpis?days=3", 422, "days: must be between 7 and"),
                                  ("/kpis?days=week", 422, "days: must be a whole number"),
                                  ("/kpis?end=soon", 422, "end: &#39;soon&#39; is not"),
                                  ("/kpis/goals/abc", 404, "does not exist"),
                                  ("/kpis/goals/999", 404, "goal 999 does not exist")):
        answer = web.get(path, headers=HTML)
        assert answer.status_code == status, path
        assert message in answer.text, (path, answer.text[-600:])


def test_goal_page(web):  # type: ignore[no-untyped-def]
    sign_in(web, "viewer")
    with web.db.read_session() as session:  # type: ignore[attr-defined]
        goal_id, name = next((g.id, g.name) for g in list_goals(session)
                             if g.metric == "change_failure_rate")
    text = web.get(f"/kpis/goals/{goal_id}").text
    assert name in text and "Change failure rate &lt;= 10.0 %" in text
    assert charts(text)["chart-goal"] == 12  # twelve whole weeks of the period so far
    teams = re.findall(r'<tr data-team="([^"]+)">', text)
    assert teams == sorted(t[0] for t in TEAMS)
    assert text.count('class="goal-fill"') == len(TEAMS) + 1
    assert re.search(r"Trend over the period's weeks: <strong>(improving|worsening|flat)<",
                     text)


def test_admin_sets_and_removes_a_goal_from_the_dashboard(web):  # type: ignore[no-untyped-def]
    token = sign_in(web, "viewer")
    assert 'id="new-goal"' not in web.get("/kpis").text
    assert web.get("/kpis/goals/new", headers=HTML).status_code == 403
    form = {"csrf_token": token, "name": "Fast fixes", "metric": "mttr_median_hours",
            "target": "4", "period_start": "2026-01-01", "period_end": "2026-04-01"}
    refused = web.post("/kpis/goals", data=form, headers=HTML, follow_redirects=False)
    assert refused.status_code == 403

    token = sign_in(web, "admin")
    assert 'id="new-goal"' in web.get("/kpis").text
    page = web.get("/kpis/goals/new").text
    assert 'name="csrf_token"' in page and 'value="change_failure_rate"' in page
    assert web.post("/kpis/goals", data={**form, "csrf_token": "stale"}, headers=HTML,
                    follow_redirects=False).status_code == 403
    with web.db.read_session() as session:  # type: ignore[attr-defined]
        before = len(list_goals(session))
    for change, status, message in (({"target": "fast"}, 422, "target: expected a number"),
                                    ({"target": "-1"}, 422, "target: must not be negative"),
                                    ({"metric": "mood"}, 422, "metric: unknown metric"),
                                    ({"period_end": "2025-12-01"}, 422,
                                     "period_end: must be after period_start"),
                                    ({"name": "Deploy on at least 3 days a week"}, 409,
                                     "name: a goal named")):
        answer = web.post("/kpis/goals", data={**form, "csrf_token": token, **change},
                          headers=HTML)
        assert answer.status_code == status, (change, answer.text[-500:])
        assert message in answer.text.replace("&#39;", "'"), change
        assert 'value="2026-01-01"' in answer.text  # what was typed stays in the form
    with web.db.read_session() as session:  # type: ignore[attr-defined]
        assert len(list_goals(session)) == before  # nothing half-stored
    made = web.post("/kpis/goals", data={**form, "csrf_token": token}, follow_redirects=False)
    assert made.status_code == 303
    location = made.headers["location"]
    assert re.fullmatch(r"/kpis/goals/\d+\?done=created", location)
    shown = web.get(location).text
    assert "Goal set." in shown and "Fast fixes" in shown and "&lt;= 4.0 h" in shown
    goal_id = location.split("/")[3].split("?")[0]
    removed = web.post(f"/kpis/goals/{goal_id}/delete", data={"csrf_token": token},
                       follow_redirects=False)
    assert removed.status_code == 303 and removed.headers["location"] == "/kpis?done=deleted"
    assert "Goal removed." in web.get("/kpis?done=deleted").text
    assert web.get(f"/kpis/goals/{goal_id}", headers=HTML).status_code == 404
