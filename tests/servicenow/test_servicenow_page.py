"""The admin page that uploads a ServiceNow export and shows the summary (through the ASGI app)."""

from __future__ import annotations

import re

from helpers import api_client, make_team, make_user
from sqlalchemy import func, select
from webclient import HTML, sign_in

from steward.demo.seed import DEMO_PASSWORD
from steward.incidents.models import Incident

PAGE = "/imports/servicenow"


def stored(db) -> int:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(Incident)) or 0)


def fact(text: str, key: str) -> str:
    found = re.search(rf'<dd id="sum-{key}">([^<]*)</dd>', text)
    assert found, f"no {key} in the summary"
    return found.group(1)


def upload(client, csrf: str, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(PAGE, data={"csrf_token": csrf, **fields}, headers=HTML,
                       files={"export": ("history.csv", data, "text/csv")})


def test_admin_uploads_an_export_and_sees_the_summary(db, snow):
    make_user(db, "root", role="admin", password=DEMO_PASSWORD)
    client = api_client(db)
    csrf = sign_in(client, "root", landing=PAGE)
    page = client.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert 'href="/imports/servicenow" aria-current="page">Import</a>' in page.text
    data = snow.csv([*snow.history(), snow.row("INC2", opened_at="bad")]).encode()
    first = upload(client, csrf, data, timezone="Europe/Amsterdam")
    assert first.status_code == 200
    assert (fact(first.text, "created"), fact(first.text, "events"),
            fact(first.text, "teams"), fact(first.text, "skipped")) == ("1", "4", "1", "1")
    assert "opened_at: not a time in the form D/M/YYYY HH:MM" in first.text
    assert stored(db) == 1
    second = upload(client, csrf, data, timezone="Europe/Amsterdam")
    assert "Nothing changed" in second.text and fact(second.text, "unchanged") == "1"


def test_strict_upload_shows_where_it_stopped(db, snow):
    make_user(db, "root", role="admin", password=DEMO_PASSWORD)
    client = api_client(db)
    csrf = sign_in(client, "root", landing=PAGE)
    data = snow.csv([snow.row("INC1", impact="9 - Huge")]).encode()
    answer = upload(client, csrf, data, strict="on")
    assert "Import stopped" in answer.text and "Stopped at line 2: impact" in answer.text
    assert stored(db) == 0


def test_form_problems_are_shown_without_importing(db, snow):
    make_user(db, "root", role="admin", password=DEMO_PASSWORD)
    client = api_client(db)
    csrf = sign_in(client, "root", landing=PAGE)
    no_file = client.post(PAGE, data={"csrf_token": csrf}, headers=HTML)
    assert no_file.status_code == 422 and "export: choose the exported file" in no_file.text
    bad_zone = upload(client, csrf, snow.csv([snow.row("INC1")]).encode(), timezone="Moon/Base")
    assert bad_zone.status_code == 422 and "timezone: &#39;Moon/Base&#39;" in bad_zone.text
    no_token = upload(client, "wrong", snow.csv([snow.row("INC1")]).encode())
    assert no_token.status_code == 403
    assert stored(db) == 0


def test_members_may_not_open_or_post_the_page(db, snow):
    make_team(db, "ops")
    make_user(db, "pat", role="member", teams=["ops"], password=DEMO_PASSWORD)
    client = api_client(db)
    csrf = sign_in(client, "pat")
    assert client.get(PAGE, headers=HTML).status_code == 403
    assert 'href="/imports/servicenow"' not in client.get("/catalog", headers=HTML).text
    refused = upload(client, csrf, snow.csv([snow.row("INC1")]).encode())
    assert refused.status_code == 403 and "Only an admin may import" in refused.text
    assert stored(db) == 0
