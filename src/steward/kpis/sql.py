"""SQL building blocks for KPIs that give the same answers on SQLite and PostgreSQL.

Times become seconds since the epoch (``epoch``) so durations are plain
subtraction. Percentiles are ``PERCENTILE_CONT`` on PostgreSQL; SQLite has no
such aggregate, so there window functions (``ROW_NUMBER`` and ``COUNT`` over
the group) fetch only the rows next to each percentile's position, and
``stats.interpolate`` turns them into the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Float, Integer, Select, and_, cast, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from steward.catalog.models import Service, Team
from steward.changes.models import Deployment
from steward.changes.use_cases.deployments import production_environments
from steward.errors import NotFound, ValidationError
from steward.kpis import stats
from steward.timeutil import as_utc, isoformat_z, utcnow

WEEK_SECONDS = 7 * 86400
MAX_DAYS = 3660


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    days: int

    @property
    def end_epoch(self) -> float:
        return self.end.timestamp()

    @property
    def weeks(self) -> int:
        return self.days // 7

    def out(self) -> dict[str, Any]:
        return {"start": isoformat_z(self.start), "end": isoformat_z(self.end),
                "days": self.days}


def window(days: int, end: datetime | None) -> Window:
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"days: expected a whole number from 1 to {MAX_DAYS}",
                              field="days")
    if end is not None and end.tzinfo is None:
        raise ValidationError("end: give a time zone (for example Z)", field="end")
    end = as_utc(end) if end is not None else utcnow()
    return Window(start=end - timedelta(days=days), end=end, days=days)


@dataclass
class Scope:
    """Which records a KPI covers: everything, one team's, or one service's."""

    team: str | None = None
    service: str | None = None
    team_id: int | None = None
    service_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def out(self) -> dict[str, Any]:
        return {"team": self.team, "service": self.service}


def scope(session: Session, team: str | None, service: str | None) -> Scope:
    result = Scope(team=team or None, service=service or None)
    if result.team:
        team_id = session.scalar(select(Team.id).where(Team.name == result.team))
        if team_id is None:
            raise NotFound(f"team {result.team!r} not found", field="team")
        result.team_id = team_id
    if result.service:
        service_id = session.scalar(select(Service.id).where(Service.name == result.service))
        if service_id is None:
            raise NotFound(f"service {result.service!r} not found", field="service")
        result.service_id = service_id
    return result


GroupBy = Literal["team", "service"]


def group_by_of(value: str) -> GroupBy:
    """A KPI table's grouping, checked: by team or by service."""
    if value == "team":
        return "team"
    if value == "service":
        return "service"
    raise ValidationError("group_by: expected team or service", field="group_by")


def production_names(session: Session) -> list[str]:
    """The environment names in use that count as production (in any letter case).

    Read with a loose index scan (one index probe per distinct name) rather than
    ``SELECT DISTINCT``, which PostgreSQL answers by reading the whole index.
    """
    first = select(func.min(Deployment.environment).label("env")).cte("names", recursive=True)
    following = (select(func.min(Deployment.environment))
                 .where(Deployment.environment > first.c.env).scalar_subquery())
    names = first.union_all(select(following).where(first.c.env.is_not(None)))
    prod = production_environments()
    found = [n for n in session.scalars(select(names.c.env).where(names.c.env.is_not(None)))
             if n.lower() in prod]
    return found or ["production"]


def epoch(session: Session, column: Any) -> ColumnElement[float]:
    """Seconds since 1970 of a UTC timestamp column."""
    if dialect(session) == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(func.extract("epoch", column), Float)


def utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    if dialect(session) == "sqlite":
        return func.date(column)
    return func.date(func.timezone("UTC", column))


def week_index(session: Session, column: Any, win: Window) -> ColumnElement[int]:
    """0 for the last 7 days before the window's end, 1 for the 7 before, ..."""
    age = (literal(win.end_epoch) - epoch(session, column)) / WEEK_SECONDS
    if dialect(session) == "sqlite":
        return cast(age, Integer)
    return cast(func.floor(age), Integer)


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def percentile_rows(session: Session, source: Select[*tuple[Any, ...]], groups: int,
                    ps: Sequence[float] = (0.5, 0.9)
                    ) -> dict[tuple[Any, ...], dict[str | float, Any]]:
    """Percentiles, mean and count of ``v`` per group.

    ``source`` selects ``groups`` group columns then a value column ``v``.
    Answers {group tuple: {"n": count, "mean": mean, 0.5: median, ...}}.
    """
    src = source.subquery()
    cols = list(src.c)
    keys, value = cols[:groups], cols[groups]
    if dialect(session) == "postgresql":
        return _native_percentiles(session, keys, value, ps)
    partition = keys or None
    ranked = select(*keys, value.label("v"),
                    func.row_number().over(partition_by=partition, order_by=value).label("rn"),
                    func.count().over(partition_by=partition).label("n"),
                    func.sum(value).over(partition_by=partition).label("total")).subquery()
    rk = list(ranked.c)[:groups]
    near = [and_(ranked.c.rn - 1 >= literal(p) * (ranked.c.n - 1) - 1,
                 ranked.c.rn - 1 <= literal(p) * (ranked.c.n - 1) + 1) for p in ps]
    found: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: {"ranked": {}})
    for row in session.execute(select(*rk, ranked.c.rn, ranked.c.n, ranked.c.v,
                                      ranked.c.total).where(or_(*near))):
        entry = found[tuple(row[:groups])]
        entry["n"] = int(row.n)
        entry["mean"] = float(row.total) / int(row.n)
        entry["ranked"][int(row.rn)] = float(row.v)
    out: dict[tuple[Any, ...], dict[str | float, Any]] = {}
    for key, entry in found.items():
        n = entry["n"]
        result: dict[str | float, Any] = {"n": n, "mean": entry["mean"]}
        for p in ps:
            result[p] = stats.interpolate(entry["ranked"], n, p)
        out[key] = result
    return out


def _native_percentiles(session: Session, keys: list[Any], value: Any,
                        ps: Sequence[float]) -> dict[tuple[Any, ...], dict[str | float, Any]]:
    """PostgreSQL's own PERCENTILE_CONT: the same answers, in one sort per group."""
    found = [func.percentile_cont(p).within_group(value) for p in ps]
    out: dict[tuple[Any, ...], dict[str | float, Any]] = {}
    for row in session.execute(select(*keys, func.count(), func.avg(value), *found)
                               .group_by(*keys)):
        n = int(row[len(keys)])
        if not n:
            continue
        values = row[len(keys) + 2:]
        out[tuple(row[:len(keys)])] = {
            "n": n, "mean": float(row[len(keys) + 1]),
            **{p: float(v) for p, v in zip(ps, values, strict=True)}}
    return out
