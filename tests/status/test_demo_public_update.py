"""The demo: its core-db cascade has a published public update naming the business
services it takes down or degrades, and the platform team publishes its P1 incidents by
itself."""

from __future__ import annotations

import pytest
from helpers import api_client
from webclient import HTML, sign_in

from steward.db import Database

CASCADE = "core-db: too many connections, primary refusing clients"


@pytest.mark.demo
def test_the_cascade_has_a_public_update(db: Database) -> None:
    client = api_client(db)
    sign_in(client, "carol")
    found = client.get("/api/v1/incidents", params={"q": "too many connections"}).json()
    [cascade] = [i for i in found["items"] if i["title"] == CASCADE]
    [update] = client.get(f"/api/v1/incidents/{cascade['id']}/updates").json()["items"]
    assert update["status"] == "identified" and update["author"] == "carol"
    named = {c["name"] for c in update["components"]}
    assert {"online-banking", "order-to-cash-process"} <= named
    assert all(c["published"] for c in update["components"])
    assert "core-db" not in update["body"]
    page = client.get(f"/incidents/{cascade['id']}", headers=HTML).text
    assert "rolling it back" in page and 'id="public-updates-list"' in page
    policy = client.get("/api/v1/teams/platform/status-policy").json()
    assert policy["auto_publish_p1"] is True
