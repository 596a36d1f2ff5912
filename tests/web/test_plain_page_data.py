"""Templates get plain data: render() refuses a context holding a database row, and every
page of the demo organisation renders through that check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from webclient import HTML
from webclient import sign_in as sign_in_at

from steward.catalog.models import Service
from steward.changes.models import Change
from steward.goals.models import Goal
from steward.incidents.models import Incident
from steward.slos.models import Slo
from steward.web import render


@dataclass
class Holder:
    rows: list[Any]


def test_a_row_anywhere_near_the_top_of_the_context_is_refused_naming_its_key():
    row = Service(name="api")
    for context, key in (({"service": row}, "service"),
                         ({"ok": 1, "rows": [{"entry": row}]}, "rows"),
                         ({"page": Holder(rows=[(1, row)])}, "page")):
        with pytest.raises(TypeError, match=repr(key)):
            render.refuse_rows(context)


def test_plain_data_passes():
    render.refuse_rows({"rows": [{"name": "api", "tier": 1}], "page": Holder(rows=[("a", 2)]),
                        "text": "x", "nothing": None, "fmt": lambda v: v})


def test_pages_render_with_rows_refused(web):  # type: ignore[no-untyped-def]
    with web.db.read_session() as session:
        slo_id = session.scalar(select(Slo.id).order_by(Slo.id))
        goal_id = session.scalar(select(Goal.id).order_by(Goal.id))
        incident_id = session.scalar(select(Incident.id).order_by(Incident.id))
        change_id = session.scalar(select(Change.id).order_by(Change.id))
    pages = ["/catalog", "/services/transfers-service", "/teams", "/teams/platform",
             "/audit", "/audit?verify=1", "/map?failing=transfers-service", "/slos",
             f"/slos/{slo_id}", "/services/transfers-service/slos/new", "/kpis",
             "/kpis/teams/platform", "/kpis/goals/new", f"/kpis/goals/{goal_id}",
             "/changes/policy", "/imports/servicenow", "/imports/backstage",
             "/incidents", "/incidents?status=resolved", f"/incidents/{incident_id}",
             "/changes", f"/changes/{change_id}", "/changes/calendar", "/deployments",
             "/deployments/unauthorised", "/integrations", "/", "/nowhere"]
    sign_in_at(web, "admin")
    for path in pages:
        page = web.get(path, headers=HTML)
        assert page.status_code == (404 if path == "/nowhere" else 200), path
