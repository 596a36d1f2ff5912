"""The incident page says where its escalation is, and its timeline shows each step."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from helpers import make_user
from webclient import sign_in

from escalation_setup import declare, fire, oncall_team
from steward.app import create_app
from steward.auth.actor import Actor
from steward.demo.seed import DEMO_PASSWORD
from steward.incidents.use_cases import lifecycle


def _escalation_line(html: str) -> str:
    found = re.search(r'<dd id="escalation">(.*?)</dd>', html, re.S)
    assert found, "no escalation line on the page"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_incident_page_shows_the_escalation_and_its_steps(db) -> None:
    oncall_team(db)
    make_user(db, "dana", role="admin", password=DEMO_PASSWORD)
    incident = declare(db)
    web = TestClient(create_app(db.settings, database=db))
    sign_in(web, "dana")
    assert 'id="escalation"' not in web.get(f"/incidents/{incident}").text  # not started

    fire(db)
    fire(db, after=timedelta(minutes=6))
    page = web.get(f"/incidents/{incident}").text
    line = _escalation_line(page)
    assert re.fullmatch(r"level 2 of 2, next step \d\d:\d\d UTC \(payments policy\)", line), line
    assert "Escalated to level 2 of 2: paged carol" in page
    assert "\u21d1" in page  # the timeline's escalation glyph, with its label

    with db.session() as session:
        lifecycle.act(session, Actor(kind="user", id="alice", name="alice", role="admin"),
                      incident, "acknowledge")
    line = _escalation_line(web.get(f"/incidents/{incident}").text)
    assert line == "stopped: acknowledged by alice (payments policy)"
