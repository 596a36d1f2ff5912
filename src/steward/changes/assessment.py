"""Gathering the facts for a change's risk and approval policy from the database."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from steward import config
from steward.catalog.graph import load_graph
from steward.catalog.impact import analyse
from steward.catalog.models import Service, Team
from steward.changes import calendar, hooks, policy, risk
from steward.changes.models import (
    CalendarWindow,
    Change,
    ChangeService,
    ChangeTemplate,
    Deployment,
)
from steward.errors import ValidationError
from steward.timeutil import utcnow

OPEN_STATES = ("new", "assess", "authorize", "scheduled", "implement")


def risk_weights() -> risk.RiskWeights:
    raw = config.settings().risk_weights
    if not raw:
        return risk.DEFAULT_WEIGHTS
    try:
        return risk.RiskWeights.from_mapping(json.loads(raw))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"STEWARD_RISK_WEIGHTS: {exc}", field="STEWARD_RISK_WEIGHTS") from exc


def policy_rules() -> tuple[policy.Rule, ...]:
    raw = config.settings().change_policy
    if not raw:
        return policy.DEFAULT_RULES
    try:
        rules = tuple(policy.Rule(**_rule_fields(item)) for item in json.loads(raw))
        for rule in rules:
            rule.validate()
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"STEWARD_CHANGE_POLICY: {exc}",
                              field="STEWARD_CHANGE_POLICY") from exc
    return rules


def _rule_fields(item: dict[str, Any]) -> dict[str, Any]:
    """A rule as JSON writes it, its lists as the tuples a Rule holds."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in item.items()}


def policy_in_effect() -> dict[str, Any]:
    """The approval policy changes get now: its rules in order (the first that matches
    decides), the guards above them, and the risk weights and levels the rules read;
    each with where it comes from (the defaults, or the setting that replaces them)."""
    current = config.settings()
    rules_set, weights_set = bool(current.change_policy), bool(current.risk_weights)
    bounds = [*risk.LEVEL_THRESHOLDS, None]
    return {
        "source": "STEWARD_CHANGE_POLICY" if rules_set else "default",
        "rules": [policy.rule_out(rule) for rule in policy_rules()],
        "no_rule": policy.NO_RULE_FALLBACK,
        "guards": list(policy.GUARDS),
        "risk": {"source": "STEWARD_RISK_WEIGHTS" if weights_set else "default",
                 "weights": asdict(risk_weights()),
                 "levels": [{"level": level, "below": below}
                            for level, below in zip(risk.LEVELS, bounds, strict=True)]},
    }


def business_timezone() -> str:
    return config.settings().timezone


def pure_window(row: CalendarWindow) -> calendar.Window:
    return calendar.Window(
        id=row.id, name=row.name, kind=row.kind,
        scope=calendar.Scope(row.scope_kind, tuple(str(v) for v in row.scope_values or ())),
        starts_at=row.starts_at, ends_at=row.ends_at, weekdays=tuple(row.weekdays or ()),
        start_time=row.start_time, duration_minutes=row.duration_minutes,
        timezone=row.timezone or "UTC")


def all_windows(session: Session) -> list[calendar.Window]:
    return [pure_window(row) for row in session.scalars(select(CalendarWindow))]


def affected_services(session: Session, change: Change) -> list[Service]:
    return list(session.scalars(select(Service).join(
        ChangeService, ChangeService.service_id == Service.id).where(
        ChangeService.change_id == change.id).order_by(Service.name)))


def targets_of(session: Session, services: list[Service]) -> list[calendar.Target]:
    teams: dict[int | None, str] = dict(session.execute(select(Team.id, Team.name)).all())
    return [calendar.Target(s.name, teams.get(s.owner_team_id), s.tier) for s in services]


def window_of(change: Change) -> tuple[datetime, datetime]:
    start = change.planned_start or change.created_at
    end = change.planned_end or start + timedelta(hours=1)
    return start, end


def conflicting_changes(session: Session, change: Change,
                        services: list[Service]) -> list[tuple[calendar.PlannedChange, str]]:
    graph = load_graph(session)
    start, end = window_of(change)

    def related(name: str) -> dict[str, str]:
        ci = graph.by_name.get(name)
        if ci is None:
            return {}
        found = {graph.cis[d].name: "dependency" for d, _ in graph.dependencies.get(ci, ())}
        found.update({graph.cis[d].name: "dependant" for d, _ in graph.dependants.get(ci, ())})
        return found

    others = []
    rows = session.execute(
        select(Change.id, Change.planned_start, Change.planned_end, Change.created_at,
               Service.name)
        .join(ChangeService, ChangeService.change_id == Change.id)
        .join(Service, Service.id == ChangeService.service_id)
        .where(Change.state.in_(OPEN_STATES), Change.id != change.id,
               Change.planned_start < end)).all()
    by_change: dict[int, list[str]] = {}
    spans: dict[int, tuple[datetime, datetime]] = {}
    for change_id, p_start, p_end, created, name in rows:
        by_change.setdefault(change_id, []).append(name)
        s = p_start or created
        spans[change_id] = (s, p_end or s + timedelta(hours=1))
    for change_id, names in by_change.items():
        s, e = spans[change_id]
        others.append(calendar.PlannedChange(change_id, f"CHG-{change_id}", tuple(names), s, e))
    me = calendar.PlannedChange(change.id, f"CHG-{change.id}",
                                tuple(s.name for s in services), start, end)
    return calendar.conflicts(me, others, related)


def risk_input(session: Session, change: Change, services: list[Service],
               batch_size: int | None) -> risk.RiskInput:
    graph = load_graph(session)
    ids = [graph.by_name[s.name] for s in services if s.name in graph.by_name]
    impact = analyse(graph, ids)
    blast = [a for a in impact.affected.values() if a.id not in set(ids)]
    tiers = [s.tier for s in services] + [graph.cis[a.id].tier for a in blast]
    total, failed = change_failure_stats(session, [s.id for s in services], change.environment)
    windows = all_windows(session)
    targets = targets_of(session, services)
    start, end = window_of(change)
    freezes = calendar.freezes_overlapping(windows, start, end, targets)
    return risk.RiskInput(
        model=change.model,
        batch_size=batch_size,
        blast_radius=len(blast),
        business_services_affected=sum(1 for a in impact.affected.values()
                                       if a.kind == "business_service"),
        most_critical_tier=min(tiers) if tiers else 4,
        change_failure_rate=(failed / total) if total else None,
        recent_deployments=total,
        open_incidents=hooks.open_incidents(session, [s.id for s in services]),
        freeze_windows=tuple(w.name for w in freezes),
        outside_maintenance=calendar.outside_maintenance(windows, start, end, targets),
        conflicts=tuple(reason for _, reason in conflicting_changes(session, change, services)),
        off_hours=risk.is_off_hours(start, business_timezone()),
        error_budget_remaining=hooks.error_budget_remaining(session, [s.id for s in services]),
    )


def policy_facts(session: Session, change: Change, services: list[Service],
                 level: str, budget_left: float | None) -> policy.ChangeFacts:
    teams: dict[int | None, str] = dict(session.execute(select(Team.id, Team.name)).all())
    graph = load_graph(session)
    ids = {graph.by_name[s.name] for s in services if s.name in graph.by_name}
    dependant_teams = sorted({team for i in ids for d, _ in
                              graph.dependants.get(i, ()) if (team := graph.cis[d].team)} -
                             {teams.get(change.owner_team_id)})
    within = None
    if change.template_id is not None:
        template = session.get(ChangeTemplate, change.template_id)
        within = template is not None and risk.level_at_most(level, template.risk_ceiling)
    return policy.ChangeFacts(
        model=change.model, risk_level=level, tiers=tuple(sorted({s.tier for s in services})),
        owner_team=teams.get(change.owner_team_id), dependant_teams=tuple(dependant_teams),
        environment=change.environment,
        error_budget_exhausted=budget_left is not None and budget_left <= 0,
        within_template_ceiling=within, service=services[0].name if services else None)


def change_failure_stats(session: Session, service_ids: list[int], environment: str,
                         days: int = 30) -> tuple[int, int]:
    """(finished deployments, failed ones) of these services over the last ``days``."""
    if not service_ids:
        return 0, 0
    since = utcnow() - timedelta(days=days)
    failed = or_(Deployment.status.in_(("failed", "rolled_back")),
                 Deployment.caused_incident_id.is_not(None),
                 Deployment.id.in_(select(Deployment.rollback_of_id).where(
                     Deployment.rollback_of_id.is_not(None))))
    row = session.execute(select(
        func.count(), func.count().filter(failed)).where(and_(
            Deployment.service_id.in_(service_ids),
            func.lower(Deployment.environment) == environment.lower(),
            Deployment.status != "in_progress", Deployment.finished_at >= since))).one()
    return int(row[0]), int(row[1])
