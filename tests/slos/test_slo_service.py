"""SLO use cases on SQLite and PostgreSQL: the SLI from incidents and from counts,
burn alerts that open and mitigate incidents, rights, and the change-policy hook."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import make_service, make_team, make_user
from sqlalchemy import select

from steward.auth.actor import SYSTEM
from steward.auth.use_cases import accounts as auth
from steward.catalog.models import Service
from steward.changes import hooks
from steward.errors import Conflict, NotFound, PermissionDenied, ValidationError
from steward.incidents.models import Alert, Incident, IncidentService
from steward.incidents.use_cases import lifecycle
from steward.slos import burn_alerts as slo_alerts
from steward.slos import service as slos
from steward.slos.schemas import SliReportIn, SloCreate, SloUpdate
from steward.slos.status import burndown, status_of
from steward.timeutil import utcnow

H = timedelta(hours=1)


@pytest.fixture
def org(db):
    make_team(db, "payments")
    make_team(db, "web")
    make_service(db, "checkout", "payments")
    make_service(db, "search", "web")
    for name, role, teams in (("pat", "member", ["payments"]), ("wes", "member", ["web"]),
                              ("vic", "viewer", []), ("ada", "admin", [])):
        make_user(db, name, role, teams)
    return db


def actor(session, name):
    return auth.actor_for_user(session, auth.get_user(session, name))


def create(db, name="availability", **fields):
    data = {"name": name, "objective": 0.9, "window_days": 1, "sli": "impact", **fields}
    with db.session() as session:
        return slos.create_slo(session, actor(session, "pat"), "checkout",
                               SloCreate(**data)).id


def declare(session, service, started, ended=None, how="mitigate"):
    incident = lifecycle.declare(session, SYSTEM, f"{service} trouble", service,
                                 started_at=started)
    if ended is not None:
        lifecycle.act(session, SYSTEM, incident.id, how, ended)
    return incident


def test_impact_sli_is_the_union_of_incident_time_clipped_to_the_window(org):
    slo_id = create(org)
    now = utcnow().replace(microsecond=0)
    with org.session() as session:
        declare(session, "checkout", now - 26 * H, now - 23 * H)  # 1 h inside the window
        declare(session, "checkout", now - 10 * H, now - 8 * H)
        declare(session, "checkout", now - 9 * H, now - 7 * H, how="resolve")  # overlaps
        declare(session, "search", now - 5 * H, now - 4 * H)  # another service
        # checkout affected by an incident that started on search: 30 minutes
        other = declare(session, "search", now - 3 * H, now - 2.5 * H)
        session.add(IncidentService(incident_id=other.id, first_alert_at=now - 3 * H,
                                    service_id=session.scalar(
                                        select(Service.id).where(Service.name == "checkout"))))
    with org.read_session() as session:
        status = status_of(session, slos.get_slo(session, slo_id), now)
    # bad: 1 h + [10 h, 7 h) = 3 h + 0.5 h = 4.5 h of 24 h
    assert status.bad_seconds == pytest.approx(4.5 * 3600)
    assert status.sli == pytest.approx(1 - 4.5 / 24)
    assert status.budget.consumed == pytest.approx((4.5 / 24) / 0.1)
    assert status.budget.left == pytest.approx(1 - 1.875)
    assert status.budget.exhausted
    assert status.burn_rates["1h"] == 0
    assert status.burn_rates["6h"] == pytest.approx((0.5 / 6) / 0.1)
    # 3 days: all of the first incident (3 h) + 3 h + 0.5 h
    assert status.burn_rates["3d"] == pytest.approx((6.5 / 72) / 0.1)
    assert [r.name for r in status.firing] == []


def test_an_open_incident_counts_until_now_and_pages(org):
    slo_id = create(org, objective=0.99)
    now = utcnow().replace(microsecond=0)
    with org.session() as session:
        declare(session, "checkout", now - 2 * H)
    with org.read_session() as session:
        status = status_of(session, slos.get_slo(session, slo_id), now)
    assert status.bad_seconds == pytest.approx(2 * 3600)
    assert status.burn_rates["1h"] == pytest.approx(100)
    assert status.burn_rates["5m"] == pytest.approx(100)
    assert {r.name for r in status.firing} == {"fast-burn", "slow-burn", "ticket-burn"}


def report(start, end, good, total):
    return SliReportIn(start=start, end=end, good=good, total=total)


def test_counts_sli_sums_reports_and_prorates_the_window_edge(org):
    slo_id = create(org, sli="counts", objective=0.95)
    now = utcnow().replace(microsecond=0)
    with org.session() as session:
        slos.add_reports(session, actor(session, "pat"), slo_id, [
            report(now - 30 * H, now - 18 * H, 1100, 1200),  # half inside the 24 h window
            report(now - 2 * H, now - H, 990, 1000),
            report(now - H, now, 1000, 1000)])
    with org.read_session() as session:
        status = status_of(session, slos.get_slo(session, slo_id), now)
    assert (status.good, status.total) == (pytest.approx(2540), pytest.approx(2600))
    assert status.sli == pytest.approx(2540 / 2600)
    assert status.budget.left == pytest.approx(1 - (60 / 2600) / 0.05)
    assert status.burn_rates["1h"] == 0
    assert status.burn_rates["6h"] == pytest.approx((10 / 2000) / 0.05)
    assert status.burn_rates["3d"] == pytest.approx((110 / 3200) / 0.05)
    assert status.firing == []


def test_report_validation_stores_nothing_on_a_bad_item(org):
    slo_id = create(org, sli="counts")
    impact_id = create(org, name="impact")
    now = utcnow()
    good = report(now - H, now, 5, 10)
    with org.session() as session:
        pat = actor(session, "pat")
        for bad, field in ((report(now - H, now, 11, 10), "reports[1].good"),
                           (report(now, now - H, 1, 1), "reports[1].end"),
                           (report(now, now + H, 1, 1), "reports[1].end")):
            with pytest.raises(ValidationError) as caught:
                slos.add_reports(session, pat, slo_id, [good, bad])
            assert caught.value.field == field
        with pytest.raises(Conflict):
            slos.add_reports(session, pat, impact_id, [good])
    with org.read_session() as session:
        assert status_of(session, slos.get_slo(session, slo_id)).total == 0


def test_rights_owners_and_admins_write_viewers_and_others_cannot(org):
    with org.session() as session:
        for name in ("vic", "wes"):
            with pytest.raises(PermissionDenied):
                slos.create_slo(session, actor(session, name), "checkout",
                                SloCreate(name="x", objective=0.99))
        made = slos.create_slo(session, actor(session, "ada"), "checkout",
                               SloCreate(name="latency", objective=0.99, sli="counts"))
        with pytest.raises(PermissionDenied):
            slos.add_reports(session, actor(session, "wes"), made.id,
                             [report(utcnow() - H, utcnow(), 1, 1)])
        with pytest.raises(PermissionDenied):
            slos.update_slo(session, actor(session, "vic"), made.id, SloUpdate(objective=0.9))
        with pytest.raises(Conflict):
            slos.create_slo(session, actor(session, "pat"), "checkout",
                            SloCreate(name="latency", objective=0.9))
        with pytest.raises(NotFound):
            slos.create_slo(session, actor(session, "pat"), "nowhere",
                            SloCreate(name="a", objective=0.9))
        slos.update_slo(session, actor(session, "pat"), made.id, SloUpdate(objective=0.95))
        assert slos.get_slo(session, made.id).objective == 0.95


def _slo_alerts(session):
    return list(session.scalars(select(Alert).where(Alert.source == "slo").order_by(Alert.id)))


def test_burn_alerts_open_an_incident_and_mitigate_it_when_they_clear(org):
    slo_id = create(org, sli="counts", objective=0.999, window_days=28)
    now = utcnow().replace(microsecond=0)
    with org.session() as session:
        slos.add_reports(session, actor(session, "pat"), slo_id,
                         [report(now - timedelta(minutes=10), now, 900, 1000)])
    with org.session() as session:
        alerts = _slo_alerts(session)
        assert {a.dedup_key for a in alerts} == {f"slo:{slo_id}:fast-burn",
                                                f"slo:{slo_id}:slow-burn",
                                                f"slo:{slo_id}:ticket-burn"}
        assert {a.severity for a in alerts if "ticket" in a.dedup_key} == {"warning"}
        assert {a.severity for a in alerts if "ticket" not in a.dedup_key} == {"critical"}
        fast = next(a for a in alerts if a.dedup_key.endswith("fast-burn"))
        assert "availability" in fast.summary and "100.0x over 1h" in fast.summary
        incident = session.get(Incident, fast.incident_id)
        assert incident.status == "triggered"
        assert incident.origin_service_id == session.scalar(
            select(Service.id).where(Service.name == "checkout"))
        incident_id = incident.id
        # evaluating again changes nothing: one active alert per rule
        again = slo_alerts.evaluate_all(session)
        assert again.raised == [] and again.cleared == []
        assert len(_slo_alerts(session)) == 3
    # Another region reports the same ten minutes, all good: the burn drops below 1x.
    with org.session() as session:
        slos.add_reports(session, actor(session, "pat"), slo_id,
                         [report(now - timedelta(minutes=10), now, 999_000, 999_000)])
    with org.read_session() as session:
        assert {a.status for a in _slo_alerts(session)} == {"resolved"}
        assert session.get(Incident, incident_id).status == "mitigated"


def test_deleting_an_slo_resolves_its_alerts(org):
    slo_id = create(org, sli="counts", objective=0.999)
    now = utcnow()
    with org.session() as session:
        slos.add_reports(session, actor(session, "pat"), slo_id,
                         [report(now - timedelta(minutes=10), now, 0, 100)])
        assert any(a.status == "firing" for a in _slo_alerts(session))
        slos.delete_slo(session, actor(session, "pat"), slo_id)
    with org.read_session() as session:
        assert {a.status for a in _slo_alerts(session)} == {"resolved"}


def test_error_budget_hook_gives_the_smallest_budget_left(org):
    spent = create(org, name="spent", sli="counts", objective=0.99)
    create(org, name="fine", sli="counts", objective=0.5)
    now = utcnow()
    with org.session() as session:
        ids = dict(session.execute(select(Service.name, Service.id)).all())
        assert hooks.error_budget_remaining(session, [ids["search"]]) is None
        assert hooks.error_budget_remaining(session, [ids["checkout"]]) == 1.0
        slos.add_reports(session, actor(session, "pat"), spent,
                         [report(now - 5 * H, now - 4 * H, 98, 100)])
    with org.read_session() as session:
        # 2 % bad against a 1 % budget: spent (0 for change risk, which takes 0..1);
        # the 50 % SLO still has 96 % left
        assert hooks.error_budget_remaining(session, [ids["checkout"], ids["search"]]) == 0.0
        assert hooks.error_budget_remaining(session, [ids["search"]]) is None


def test_burndown_falls_to_the_budget_left_now(org):
    slo_id = create(org, sli="counts", objective=0.9, window_days=3)
    now = utcnow().replace(microsecond=0)
    with org.session() as session:
        slos.add_reports(session, actor(session, "pat"), slo_id, [
            report(now - 60 * H, now - 59 * H, 95, 100),
            report(now - 30 * H, now - 29 * H, 90, 100),
            report(now - 5 * H, now - 4 * H, 100, 100)])
    with org.read_session() as session:
        slo = slos.get_slo(session, slo_id)
        points = burndown(session, slo, now)
        left_now = status_of(session, slo, now).budget.left
    assert len(points) == 4
    # allowance: 10 % of 300 events = 30 bad; 5 spent by day 1, 15 by day 2
    assert [p["budget_left"] for p in points] == pytest.approx(
        [1.0, 1 - 5 / 30, 1 - 15 / 30, 1 - 15 / 30])
    assert points[-1]["budget_left"] == pytest.approx(left_now)
