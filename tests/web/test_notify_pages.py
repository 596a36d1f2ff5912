"""The profile page (contact methods, rules, quiet hours) and a team's subscriptions
through the ASGI app, on the demo organisation: bob is in banking-webapp, carol in
platform."""

from __future__ import annotations

import html
import re

import pytest
from webclient import HTML
from webclient import sign_in as sign_in_at

SECRET = re.compile(r"<code>(whsec_[A-Za-z0-9_-]+)</code>")


@pytest.fixture
def client(web):  # type: ignore[no-untyped-def]
    return web


def test_profile_adds_a_contact_method_a_rule_and_quiet_hours(client) -> None:  # type: ignore[no-untyped-def]
    csrf = sign_in_at(client, "bob", "/profile")
    page = client.get("/profile")
    # The demo pages everyone on its own pager at once.
    assert page.status_code == 200 and "demo pager" in page.text
    added = client.post("/profile/contact-methods", headers=HTML, data={
        "csrf_token": csrf, "kind": "webhook", "target": "https://hooks.example.test/bob",
        "label": "phone"})
    assert added.status_code == 200 and "Contact method added." in added.text
    method_id = re.search(r'<option value="(\d+)">webhook: https://hooks.example.test/bob',
                          added.text)
    assert method_id is not None
    rule = client.post("/profile/rules", headers=HTML, data={
        "csrf_token": csrf, "urgency": "high", "contact_method_id": method_id.group(1),
        "delay_minutes": "5"})
    assert "Notification rule added." in rule.text and "5 min" in rule.text
    quiet = client.post("/profile/preferences", headers=HTML, data={
        "csrf_token": csrf, "time_zone": "Europe/Amsterdam", "quiet_start": "22:00",
        "quiet_end": "07:00"})
    assert "Time zone and quiet hours saved." in quiet.text
    bad = client.post("/profile/preferences", headers=HTML, data={
        "csrf_token": csrf, "time_zone": "Mars/Base"})
    assert bad.status_code == 422 and "unknown time zone" in html.unescape(bad.text)
    refused = client.post("/profile/contact-methods", headers=HTML, data={
        "csrf_token": "forged", "kind": "email", "target": "x@example.test"})
    assert refused.status_code == 403


def test_team_page_adds_a_subscription_and_shows_its_secret_once(client) -> None:  # type: ignore[no-untyped-def]
    csrf = sign_in_at(client, "carol", "/teams/platform")
    made = client.post("/teams/platform/subscriptions", headers=HTML, data={
        "csrf_token": csrf, "name": "ops-bus", "kind": "webhook",
        "url": "https://hooks.example.test/ops",
        "event_types": ["incident.triggered", "incident.resolved"]})
    assert made.status_code == 200, made.text
    secret = SECRET.search(made.text)
    assert secret is not None
    again = client.get("/teams/platform")
    assert "ops-bus" in again.text and secret.group(1) not in again.text
    other = client.post("/teams/banking-webapp/subscriptions", headers=HTML, data={
        "csrf_token": csrf, "name": "x", "kind": "webhook", "url": "https://h.example.test/x",
        "event_types": ["incident.triggered"]})
    assert other.status_code == 403
    assert 'id="add-subscription"' not in client.get("/teams/banking-webapp").text
