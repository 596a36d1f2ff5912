"""SLOs for the demo from reported counts, through the same use cases as everyone else.

(The KPI history adds incident-impact SLOs for other services when it runs.)

- banking-web: 99 % of requests over 28 days from daily load-balancer counts,
  two bad days in the middle: a burn-down with steps, about half the budget left.
- transfers-service: 99.9 % of transfers over 28 days, hourly counts, and a
  count a minute for the last hour; a bad afternoon four days ago spent the
  whole budget, so its normal changes lose auto-approval until the window moves
  past it. Transfers have been failing since accounts-service slowed down
  under the core-db cascade (``demo.incidents``): the burn alerts this raises
  when the seed ends join that incident.
- ledger-service: 99.95 % of the time from incident impact, untouched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from steward.auth.actor import Actor
from steward.db import Database
from steward.demo.incidents import TRANSFERS_FAILING
from steward.slos import service as slos
from steward.slos.schemas import SliReportIn, SloCreate
from steward.timeutil import utcnow

SEED = Actor(kind="system", id="demo", name="demo-seed", role="admin")
DAILY_REQUESTS = 1_200_000
BAD_DAYS = {9: 0.025, 17: 0.018}  # days ago -> share of failed requests
HOURLY_TRANSFERS = 2_000
BAD_HOURS = {4 * 24 - 14: 0.30, 4 * 24 - 15: 0.22, 4 * 24 - 16: 0.05}  # hours ago -> failed
FAILING_SHARE = 0.5  # of transfers while accounts-service is slow under the cascade


def _create(session: Session, service: str, **fields: object) -> int:
    return slos.create_slo(session, SEED, service, SloCreate.model_validate(fields)).id


def _report(end: datetime, length: timedelta, total: int, bad_share: float) -> SliReportIn:
    bad = int(total * bad_share)
    return SliReportIn(start=end - length, end=end, good=total - bad, total=total)


def _last_minutes(since: datetime) -> list[SliReportIn]:
    """A report a minute from ``since`` to the current minute; the failing ones at the end."""
    minute = timedelta(minutes=1)
    end = utcnow().replace(second=0, microsecond=0)
    failing_from = end - TRANSFERS_FAILING
    reports = []
    at = since + minute
    while at <= end:
        share = FAILING_SHARE if at > failing_from else 0.0002
        reports.append(_report(at, minute, HOURLY_TRANSFERS // 60, share))
        at += minute
    return reports


def seed_slos(db: Database) -> str:
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    day, hour = timedelta(days=1), timedelta(hours=1)
    with db.session() as session:
        web = _create(session, "banking-web", name="successful requests", objective=0.99,
                      window_days=28, sli="counts",
                      description="Requests answered without a server error (load balancer "
                                  "logs, reported daily).")
        slos.add_reports(session, SEED, web, [
            _report(now - day * (days_ago - 1), day, DAILY_REQUESTS,
                    BAD_DAYS.get(days_ago, 0.003)) for days_ago in range(28, 0, -1)])
        transfers = _create(session, "transfers-service", name="transfers succeed",
                            objective=0.999, window_days=28, sli="counts",
                            description="Transfers between accounts complete (counts "
                                        "reported by the transfer workers).")
        slos.add_reports(session, SEED, transfers, [
            *(_report(now - hour * (hours_ago - 1), hour, HOURLY_TRANSFERS,
                      BAD_HOURS.get(hours_ago, 0.0002)) for hours_ago in range(7 * 24, 1, -1)),
            *_last_minutes(now - hour)])
        _create(session, "ledger-service", name="ledger available", objective=0.9995,
                window_days=28, sli="impact",
                description="Time in incidents counts against the budget.")
    return "3 SLOs from reported counts and incident impact"
