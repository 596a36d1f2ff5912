"""On-call pages on the demo organisation: the schedule form, the schedule's weeks with a
gap and an override, the policy editor, and "on call now / next" on the team, service and
incident pages and in the catalog; what viewers may not do."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from webclient import HTML
from webclient import sign_in as sign_in_at

from steward.timeutil import utcnow

AMS = ZoneInfo("Europe/Amsterdam")


def monday(weeks: int = 0) -> datetime:
    today = utcnow().astimezone(AMS).date()
    return datetime.combine(today - timedelta(days=today.weekday()) + timedelta(weeks=weeks),
                            datetime.min.time())


def create_schedule(web, token: str, *, starts: datetime, members: str = "carol\ndan",
                    **extra: str):  # type: ignore[no-untyped-def]
    return web.post("/teams/platform/schedules/new", headers=HTML, follow_redirects=False,
                    data={"csrf_token": token, "name": "primary", "time_zone": "Europe/Amsterdam",
                          "description": "Platform first line", "layer-0-name": "weekly",
                          "layer-0-starts": starts.strftime("%Y-%m-%dT09:00"),
                          "layer-0-interval": "168", "layer-0-members": members,
                          "layer-0-position": "", "layer-0-restrict_start": "",
                          "layer-0-restrict_end": "", "layer-1-name": "", "layer-1-starts": "",
                          "layer-1-interval": "", "layer-1-members": "", **extra})


@pytest.mark.demo
def test_schedule_form_view_override_and_oncall_everywhere(web) -> None:
    token = sign_in_at(web, "carol")
    form = web.get("/teams/platform/schedules/new", headers=HTML)
    assert form.status_code == 200 and 'name="layer-0-members"' in form.text
    # The first hand-off is next Monday: this week is a gap, said in words and colour.
    made = create_schedule(web, token, starts=monday(1))
    assert made.status_code == 303, made.text
    location = made.headers["location"]
    assert re.fullmatch(r"/schedules/\d+\?done=created", location)
    schedule_id = int(location.split("/")[2].split("?")[0])

    page = web.get(f"{location}&weeks=2", headers=HTML).text
    assert "Schedule created." in page and 'class="oncall-chart"' in page
    assert 'id="gap-count"' in page and "1 gap in these weeks" in page
    assert page.count('class="row-gap"') == 1 and "nobody on call" in page
    assert "Weekly hand-off from" in page and "always at the same local time" in page

    # Thursday of this week, inside the gap whatever day it is today.
    tomorrow = (monday() + timedelta(days=3)).strftime("%Y-%m-%dT")
    covered = web.post(f"/schedules/{schedule_id}/overrides", headers=HTML,
                       follow_redirects=False, data={
                           "csrf_token": token, "user": "dan", "starts_at": tomorrow + "08:00",
                           "ends_at": tomorrow + "20:00", "reason": "covering the gap"})
    assert covered.status_code == 303, covered.text
    page = web.get(covered.headers["location"], headers=HTML).text
    assert "Override added." in page and "covering the gap" in page
    assert page.count('class="row-override"') == 1
    assert "2 gaps in these weeks" in page  # the override splits this week's gap in two
    clash = web.post(f"/schedules/{schedule_id}/overrides", headers=HTML, data={
        "csrf_token": token, "user": "carol", "starts_at": tomorrow + "10:00",
        "ends_at": tomorrow + "11:00"})
    assert clash.status_code == 409 and "overlaps override" in clash.text

    team_page = web.get("/teams/platform", headers=HTML).text
    assert 'id="oncall"' in team_page and f'href="/schedules/{schedule_id}"' in team_page
    service = web.get("/services/core-db", headers=HTML).text
    assert "On call for core-db" in service
    catalog = web.get("/catalog?team=platform", headers=HTML).text
    assert "On call now" in catalog

    policy_form = web.get("/teams/platform/escalation-policy", headers=HTML)
    assert policy_form.status_code == 200
    bad = web.post("/teams/platform/escalation-policy", headers=HTML, data={
        "csrf_token": token, "name": "platform", "repeat_count": "1",
        "level-0-timeout": "5", "level-1-timeout": "10"})
    assert bad.status_code == 422
    assert "levels.0.targets" in bad.text and "targets nobody" in bad.text
    saved = web.post("/teams/platform/escalation-policy", headers=HTML, follow_redirects=False,
                     data={"csrf_token": token, "name": "platform", "repeat_count": "1",
                           "level-0-timeout": "5", "level-0-schedules": str(schedule_id),
                           "level-1-timeout": "10", "level-1-users": "admin",
                           "level-2-timeout": ""})
    assert saved.status_code == 303, saved.text
    oncall = web.get(saved.headers["location"], headers=HTML).text
    assert "Escalation policy saved." in oncall
    assert re.search(r"<td class=\"num\">2</td>\s*<td><strong>admin</strong>", oncall)


@pytest.mark.demo
def test_bad_schedule_forms_name_the_field_and_keep_what_was_typed(web) -> None:
    token = sign_in_at(web, "carol")
    empty = create_schedule(web, token, starts=monday(), members="")
    assert empty.status_code == 422 and "layers.0.members" in empty.text
    assert "empty rotation" in empty.text
    zone = create_schedule(web, token, starts=monday(), time_zone="Mars/Olympus")
    assert zone.status_code == 422 and "time_zone: unknown time zone" in zone.text
    assert 'value="Mars/Olympus"' in zone.text and "Platform first line" in zone.text


@pytest.mark.demo
def test_viewers_and_other_teams_may_not_write(web) -> None:
    token = sign_in_at(web, "viewer")
    assert web.get("/teams/platform/schedules/new", headers=HTML).status_code == 403
    assert create_schedule(web, token, starts=monday()).status_code == 403
    assert web.get("/teams/platform/escalation-policy", headers=HTML).status_code == 403
    page = web.get("/teams/platform/oncall", headers=HTML)
    assert page.status_code == 200 and "platform weekly" in page.text
    assert "New schedule" not in page.text
    bob = sign_in_at(web, "bob")
    assert create_schedule(web, bob, starts=monday()).status_code == 403
