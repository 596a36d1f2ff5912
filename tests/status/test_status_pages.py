"""The public /status pages and feeds on the demo's cascade: no sign-in, no script,
nothing internal, and a public update naming a removed service does not break them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from status_data import PUBLIC_BODY, PUBLIC_TITLE, add_public_data


@pytest.fixture
def site(web):  # type: ignore[no-untyped-def]
    web.ids = add_public_data(web.db)
    return web


def test_the_page_during_the_cascade(site) -> None:  # type: ignore[no-untyped-def]
    answer = site.get("/status")
    assert answer.status_code == 200
    html = answer.text
    assert "Major System Outage" in html
    assert PUBLIC_TITLE in html and PUBLIC_BODY in html
    assert "Major outage" in html and "Degraded performance" in html
    assert "Under maintenance" in html and "Scheduled maintenance" in html
    assert 'href="/status/subscribe"' in html
    assert "<script" not in html
    assert "script-src 'none'" in answer.headers["content-security-policy"]
    # 90 days of bars per component, each day titled.
    banking = html.split(f'id="c{site.ids["banking"]}"')[1].split("</li>")[0]
    assert banking.count("<rect") == 90 and "<title>" in banking
    # Nothing internal: no unpublished service, no internal titles, no people.
    for internal in ("core-db", "accounts-service", "carol", "(internal)",
                     "too many connections", "INC-"):
        assert internal not in html, internal


def test_a_component_and_its_history(site) -> None:  # type: ignore[no-untyped-def]
    page = site.get(f"/status/components/c{site.ids['banking']}")
    assert page.status_code == 200
    assert "online-banking" in page.text and PUBLIC_TITLE in page.text
    assert "Days with an outage" in page.text
    assert "core-db" not in page.text
    for missing in ("/status/components/c999999", "/status/components/nonsense",
                    f"/status/components/c{site.ids['cascade']}x"):
        answer = site.get(missing)
        assert answer.status_code == 404 and "no public component" in answer.text


def test_internal_services_have_no_public_page(site) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from steward.catalog.models import Service
    with site.db.read_session() as session:
        core = session.scalar(select(Service.id).where(Service.name == "core-db"))
    assert site.get(f"/status/components/c{core}").status_code == 404


def test_a_public_incident(site) -> None:  # type: ignore[no-untyped-def]
    page = site.get(f"/status/incidents/i{site.ids['cascade']}")
    assert page.status_code == 200
    text = page.text
    assert PUBLIC_TITLE in text and "Identified" in text and "Investigating" in text
    assert text.index(PUBLIC_BODY) < text.index("We are looking into reports")  # newest first
    assert "core-db" not in text and "carol" not in text
    assert site.get("/status/incidents/i999999").status_code == 404


def test_feeds(site) -> None:  # type: ignore[no-untyped-def]
    atom = site.get("/status/history.atom")
    assert atom.status_code == 200 and atom.headers["content-type"].startswith(
        "application/atom+xml")
    feed = ET.fromstring(atom.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert titles == [PUBLIC_TITLE, "Card payments failed"]
    rss = site.get("/status/history.rss")
    channel = ET.fromstring(rss.content).find("channel")
    assert channel is not None
    links = [i.findtext("link") for i in channel.findall("item")]
    assert re.search(rf"/status/incidents/i{site.ids['cascade']}$", links[0] or "")
    assert PUBLIC_BODY in rss.text and "core-db" not in rss.text


def test_the_answer_is_kept_a_moment(site) -> None:  # type: ignore[no-untyped-def]
    first = site.get("/status").text
    with site.db.session() as session:
        from steward.status.models import StatusUpdate
        session.add(StatusUpdate(incident_id=site.ids["cascade"], status="monitoring",
                                 title="Fix deployed", body="A fix is out.", impact="major"))
    # Served from the cache for a couple of seconds: the same bytes, no new reads.
    assert site.get("/status").text == first
