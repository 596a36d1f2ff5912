"""POST /api/v1/imports/servicenow: admin only, CSV or gzip body, the summary as answer."""

from __future__ import annotations

import gzip

from helpers import api_client, bearer, make_team, make_user
from sqlalchemy import func, select

from steward.incidents.models import Incident


def stored(db) -> int:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(Incident)) or 0)


def body(snow) -> bytes:  # type: ignore[no-untyped-def]
    return snow.csv([*snow.history("INC0000045"), snow.row("INC0000046")]).encode()


def test_admin_imports_and_gets_the_summary(db, snow):
    client = api_client(db)
    token = make_user(db, "root", role="admin")
    answer = client.post("/api/v1/imports/servicenow?timezone=Europe/Amsterdam&filename=x.csv",
                         content=body(snow),
                         headers={**bearer(token), "content-type": "text/csv"})
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["incidents"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert (out["events"], out["timezone"], out["files"]) == (5, "Europe/Amsterdam", ["x.csv"])
    assert stored(db) == 2
    listed = client.get("/api/v1/incidents?status=closed", headers=bearer(token)).json()
    closed = [i for i in listed["items"] if i["title"].startswith("INC0000045")]
    assert closed and closed[0]["started_at"] == "2016-02-29T00:16:00Z"
    again = client.post("/api/v1/imports/servicenow?timezone=Europe/Amsterdam",
                        content=gzip.compress(body(snow)),
                        headers={**bearer(token), "content-type": "application/gzip"})
    assert again.status_code == 200
    assert again.json()["changed"] is False and stored(db) == 2


def test_members_and_anonymous_callers_are_refused_and_nothing_is_stored(db, snow):
    make_team(db, "ops")
    client = api_client(db)
    token = make_user(db, "pat", role="member", teams=["ops"])
    refused = client.post("/api/v1/imports/servicenow", content=body(snow),
                          headers=bearer(token))
    assert refused.status_code == 403
    assert "only an admin" in refused.json()["error"]
    assert client.post("/api/v1/imports/servicenow", content=body(snow)).status_code == 401
    assert stored(db) == 0


def test_bad_requests_name_the_field(db, snow):
    client = api_client(db)
    headers = bearer(make_user(db, "root", role="admin"))
    bad_zone = client.post("/api/v1/imports/servicenow?timezone=Nowhere/Else",
                           content=body(snow), headers=headers)
    assert bad_zone.status_code == 422 and bad_zone.json()["field"] == "timezone"
    empty = client.post("/api/v1/imports/servicenow", content=b"", headers=headers)
    assert empty.status_code == 422 and empty.json()["field"] == "body"
    no_header = client.post("/api/v1/imports/servicenow", content=b"a,b\n1,2\n", headers=headers)
    assert no_header.status_code == 422 and "no number, opened_at column" in \
        no_header.json()["error"]
    assert stored(db) == 0


def test_this_route_takes_bodies_bigger_than_the_general_limit(db, snow):
    client = api_client(db)
    headers = bearer(make_user(db, "root", role="admin"))
    limit = db.settings.max_body_bytes
    big = body(snow) + b"INC1," * (limit // 5 + 10)  # one long bad line after the good rows
    assert len(big) > limit
    answer = client.post("/api/v1/imports/servicenow", content=big, headers=headers)
    assert answer.status_code == 200, answer.text[:200]
    assert answer.json()["incidents"]["created"] == 2
    assert answer.json()["skipped"]["rows"] == 1
    elsewhere = client.post("/api/v1/teams", content=big, headers=headers)
    assert elsewhere.status_code == 413


def test_openapi_describes_the_csv_body(db):
    schema = api_client(db).get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/imports/servicenow"]["post"]
    assert {"text/csv", "application/gzip"} <= set(operation["requestBody"]["content"])
    assert {p["name"] for p in operation["parameters"]} >= {"timezone", "strict"}
