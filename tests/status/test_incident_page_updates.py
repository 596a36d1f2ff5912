"""The incident page's "Public updates" section: the form prefilled from the suggestion,
publishing from it, and an empty message refused with the page saying why."""

from __future__ import annotations

from helpers import api_client, make_user
from status_world import declare_on, world
from webclient import HTML, sign_in

from steward.db import Database
from steward.demo.seed import DEMO_PASSWORD


def test_a_responder_publishes_from_the_incident_page(db: Database) -> None:
    world(db)
    make_user(db, "ann", teams=["payments"], password=DEMO_PASSWORD)
    incident = declare_on(db)
    client = api_client(db)
    token = sign_in(client, "ann")
    page = client.get(f"/incidents/{incident}", headers=HTML)
    assert page.status_code == 200
    assert 'id="public-update-form"' in page.text and 'id="no-public-updates"' in page.text
    assert 'value="Checkout unavailable"' in page.text  # the suggested title
    assert '<option value="major_outage" selected>' in page.text

    empty = client.post(f"/incidents/{incident}/public-update", headers=HTML, data={
        "csrf_token": token, "public_form": "1", "status": "investigating",
        "title": "Checkout unavailable", "body": "  ", "impact": "major"})
    assert empty.status_code == 422
    assert "body: an update needs some text" in empty.text

    done = client.post(f"/incidents/{incident}/public-update", data={
        "csrf_token": token, "public_form": "1", "status": "investigating",
        "title": "Checkout unavailable", "body": "Card payments fail; we are on it.",
        "impact": "major", "component:Checkout": "partial_outage"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith(
        "?done=public_update#public-updates")
    shown = client.get(done.headers["location"], headers=HTML).text
    assert "Card payments fail; we are on it." in shown
    assert "Checkout: partial outage" in shown
    assert "Public update published: investigating" in shown  # the timeline entry
