"""The pure parts of public updates: the suggested draft for each incident state, and
the signed subscriber links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from steward.errors import ValidationError
from steward.status import drafts, links

START = datetime(2026, 3, 4, 9, 5, tzinfo=UTC)
SHOP = drafts.Component(1, "Shop", "down")
BANK = drafts.Component(2, "Online banking", "degraded")


@pytest.mark.parametrize(("status", "cause", "expected"), [
    ("triggered", False, "investigating"), ("acknowledged", False, "investigating"),
    ("acknowledged", True, "identified"), ("mitigated", False, "monitoring"),
    ("resolved", False, "resolved"), ("closed", True, "resolved")])
def test_the_draft_follows_where_the_responders_are(status: str, cause: bool,
                                                     expected: str) -> None:
    draft = drafts.suggest(drafts.IncidentFacts(status, "P1", START, cause, [SHOP, BANK]))
    assert draft["status"] == expected
    statuses = {c["name"]: c["status"] for c in draft["components"]}
    if expected == "resolved":
        assert set(statuses.values()) == {"operational"} and draft["impact"] == "none"
    elif expected == "monitoring":
        assert set(statuses.values()) == {"degraded_performance"}
    else:
        assert statuses == {"Shop": "major_outage", "Online banking": "degraded_performance"}
        assert draft["impact"] == "critical"


def test_the_draft_names_components_and_time_and_keeps_a_title() -> None:
    first = drafts.suggest(drafts.IncidentFacts("triggered", "P2", START, components=[BANK]))
    assert first["title"] == "Online banking degraded" and first["impact"] == "minor"
    assert "Online banking" in first["body"] and "09:05 UTC on 4 March 2026" in first["body"]
    later = drafts.suggest(drafts.IncidentFacts("mitigated", "P2", START, components=[BANK],
                                                last_title="Slow sign-in"))
    assert later["title"] == "Slow sign-in"
    nothing = drafts.suggest(drafts.IncidentFacts("triggered", "P3", START))
    assert nothing["title"] == "Service disruption" and nothing["components"] == []


def test_an_update_needs_text_a_known_status_and_published_components() -> None:
    names = {"shop": 1, "web-shop": 1}
    ok = drafts.check_update({"status": "identified", "body": " Found it. ",
                              "components": ["WEB-SHOP", {"name": "shop"}]},
                             last_title="Shop down", names=names, default_status={})
    assert ok["body"] == "Found it." and ok["title"] == "Shop down"
    assert ok["components"] == [{"service_id": 1, "status": "partial_outage"}]
    for data, field in (({"status": "identified", "body": "\n "}, "body"),
                        ({"status": "done", "body": "x"}, "status"),
                        ({"status": "resolved", "body": "x", "impact": "huge"}, "impact"),
                        ({"status": "resolved", "body": "x",
                          "components": [{"name": "shop", "status": "on fire"}]},
                         "components")):
        with pytest.raises(ValidationError) as caught:
            drafts.check_update(data, last_title="T", names=names, default_status={})
        assert caught.value.field == field
    with pytest.raises(ValidationError) as caught:
        drafts.check_update({"status": "investigating", "body": "x"}, last_title="",
                            names=names, default_status={})
    assert caught.value.field == "title"


def test_links_are_bound_to_purpose_subscriber_token_and_key() -> None:
    key = links.signing_key(b"k" * 32)
    expires = START + timedelta(days=7)
    token = links.make_link_token(key, purpose="confirm", subscriber_id=7,
                                  subscriber_token="abc", expires_at=expires)
    claim = links.read_link_token(token, "confirm")
    links.verify(key, claim, "abc")
    assert claim.subscriber_id == 7 and claim.expires_at == expires
    assert not claim.expired(START) and claim.expired(expires)
    with pytest.raises(links.BadLink):
        links.verify(key, claim, "a new subscription's token")
    with pytest.raises(links.BadLink):
        links.verify(links.signing_key(b"another" * 5), claim, "abc")
    with pytest.raises(links.BadLink):
        links.read_link_token(token, "unsubscribe")
    later = token.replace(f".{int(expires.timestamp())}.", f".{int(expires.timestamp()) + 99}.")
    with pytest.raises(links.BadLink):
        links.verify(key, links.read_link_token(later, "confirm"), "abc")
    forever = links.make_link_token(key, purpose="unsubscribe", subscriber_id=7,
                                    subscriber_token="abc")
    assert links.read_link_token(forever, "unsubscribe").expires_at is None
