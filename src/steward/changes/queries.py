"""Reading changes for pages, routers and the CLI: listing and showing changes, what one
change's page shows a person, templates, calendar windows and the week of the change
calendar, deployments, and the change success scores.

The ``*_listing``, ``*_detail`` and ``*_view`` functions return plain data. ``list_changes``,
``list_templates`` and ``list_windows`` return the rows themselves, for reads that go on
inside the changes domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from steward.auth.actor import Actor
from steward.catalog.models import Service, Team
from steward.changes import assessment, calendar
from steward.changes.models import (
    Approval,
    CalendarWindow,
    Change,
    ChangeService,
    ChangeTemplate,
    Deployment,
)
from steward.changes.use_cases import lifecycle
from steward.changes.use_cases.deployments import (
    Recorded,
    deployment_out,
    get_deployment,
    list_deployments,
)
from steward.changes.use_cases.records import template_out, window_out
from steward.db import text_search
from steward.timeutil import isoformat_z, utcnow

# -- listing and showing changes -------------------------------------------------------


def list_changes(session: Session, *, state: str | None = None, model: str | None = None,
                 team: str | None = None, service: str | None = None,
                 risk_level: str | None = None, q: str | None = None,
                 start: datetime | None = None, end: datetime | None = None,
                 limit: int = 100, offset: int = 0) -> tuple[int, list[Change]]:
    query = select(Change)
    if state:
        query = query.where(Change.state.in_(state.split(",")))
    if model:
        query = query.where(Change.model == model)
    if risk_level:
        query = query.where(Change.risk_level == risk_level)
    if team:
        query = query.join(Team, Team.id == Change.owner_team_id).where(Team.name == team)
    if service:
        query = query.where(Change.id.in_(select(ChangeService.change_id).join(
            Service, Service.id == ChangeService.service_id).where(Service.name == service)))
    if q:
        query = query.where(text_search(q, Change.title, Change.description))
    if start is not None:
        query = query.where(Change.planned_end > start)
    if end is not None:
        query = query.where(Change.planned_start < end)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Change.id.desc()).limit(limit).offset(offset)).all()
    return total, list(rows)


def change_listing(session: Session, *, state: str | None = None, model: str | None = None,
                   team: str | None = None, service: str | None = None,
                   risk_level: str | None = None, q: str | None = None,
                   start: datetime | None = None, end: datetime | None = None,
                   limit: int = 100, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """The changes :func:`list_changes` finds, each as :func:`change_out` shows it."""
    total, rows = list_changes(session, state=state, model=model, team=team, service=service,
                               risk_level=risk_level, q=q, start=start, end=end, limit=limit,
                               offset=offset)
    return total, [change_out(session, change) for change in rows]


def pending_changes(session: Session, service: str, *,
                    limit: int = 20) -> tuple[int, list[dict[str, Any]]]:
    """The changes touching ``service`` not yet carried out (new to implementing), newest
    first, each as :func:`change_out` shows it."""
    return change_listing(session, state=",".join(assessment.OPEN_STATES), service=service,
                          limit=limit)


def change_out(session: Session, change: Change, *, detail: bool = False) -> dict[str, Any]:
    services = list(session.scalars(select(Service.name).join(
        ChangeService, ChangeService.service_id == Service.id).where(
        ChangeService.change_id == change.id).order_by(Service.name)))
    team = session.get(Team, change.owner_team_id) if change.owner_team_id else None
    template = session.get(ChangeTemplate, change.template_id) if change.template_id else None
    out: dict[str, Any] = {
        "id": change.id, "number": f"CHG-{change.id}", "title": change.title,
        "model": change.model, "state": change.state, "outcome": change.outcome,
        "environment": change.environment, "team": team.name if team else None,
        "services": services, "template": template.name if template else None,
        "author": change.author,
        "risk": {"score": change.risk_score, "level": change.risk_level,
                 "factors": change.risk_factors or []},
        "auto_approved": change.auto_approved,
        # a production deployment of this change ran without its approval
        "unauthorised": session.scalar(select(Deployment.id).where(
            Deployment.change_id == change.id, Deployment.unauthorised.is_(True))
            .limit(1)) is not None,
        "planned_start": isoformat_z(change.planned_start),
        "planned_end": isoformat_z(change.planned_end),
        "actual_start": isoformat_z(change.actual_start),
        "actual_end": isoformat_z(change.actual_end),
        "links": change.links or {}, "source": change.source,
        "created_at": isoformat_z(change.created_at),
        "closed_at": isoformat_z(change.closed_at),
    }
    if detail:
        out["description"] = change.description
        out["policy"] = change.policy or {}
        out["approvals"] = [
            {"user": a.username, "team": a.team, "decision": a.decision, "comment": a.comment,
             "at": isoformat_z(a.at)}
            for a in session.scalars(select(Approval).where(Approval.change_id == change.id)
                                     .order_by(Approval.at))]
        out["deployments"] = [
            {"id": d.id, "version": d.version, "status": d.status,
             "environment": d.environment, "unauthorised": d.unauthorised,
             "finished_at": isoformat_z(d.finished_at)}
            for d in session.scalars(select(Deployment).where(Deployment.change_id == change.id)
                                     .order_by(Deployment.id))]
    return out


def change_detail(session: Session, change_id: int) -> dict[str, Any]:
    """One change with its policy, approvals and deployments; NotFound names ``change_id``."""
    return change_out(session, lifecycle.get_change(session, change_id), detail=True)


def change_view(session: Session, change_id: int, actor: Actor) -> dict[str, Any]:
    """One change as its page shows it to ``actor``: the detail, the approvals in the order
    they came, whether this person may decide now (and why not), the gate, the
    deployments, the open changes it overlaps, and where the person may move it."""
    change = lifecycle.get_change(session, change_id)
    approvals = lifecycle.approvals_of(session, change.id)
    deployments = list(session.scalars(select(Deployment).where(
        Deployment.change_id == change.id).order_by(Deployment.id)))
    names = dict(session.execute(select(Service.id, Service.name).where(
        Service.id.in_({d.service_id for d in deployments}))).all()) if deployments else {}
    conflicts: list[dict[str, Any]] = []
    if change.state not in lifecycle.FINAL_STATES:
        services = assessment.affected_services(session, change)
        conflicts = [{"id": other.id, "label": other.label, "reason": reason}
                     for other, reason in assessment.conflicting_changes(session, change,
                                                                         services)]
    can_write = actor.can_write_team(change.owner_team_id)
    return {
        "change": change_out(session, change, detail=True),
        "approvals": [_vote(a) for a in approvals],
        "approval": _approval_box(session, actor, change, approvals),
        "gate": lifecycle.gate(session, change),
        "deployments": [deployment_out(session, d, names) for d in deployments],
        "conflicts": conflicts,
        "can_write": can_write,
        "next_states": list(lifecycle.TRANSITIONS[change.state]) if can_write else [],
    }


def _vote(approval: Approval) -> dict[str, Any]:
    return {"username": approval.username, "team": approval.team,
            "decision": approval.decision, "comment": approval.comment, "at": approval.at}


def _approval_box(session: Session, actor: Actor, change: Change,
                  approvals: list[Approval]) -> dict[str, Any]:
    """Whether ``actor`` may approve now, and if not, the reason in words."""
    if change.state != "authorize":
        return {"open": False, "can": False, "reason": ""}
    mine = next((a for a in approvals if a.username.casefold() == actor.name.casefold()),
                None)
    allowed, reason = lifecycle.approval_rights(session, actor, change, approvals)
    if mine is not None:
        return {"open": True, "can": False, "voted": _vote(mine), "reason": reason}
    return {"open": True, "can": allowed, "reason": reason}


# -- templates -------------------------------------------------------------------------

def list_templates(session: Session) -> list[ChangeTemplate]:
    return list(session.scalars(select(ChangeTemplate).order_by(ChangeTemplate.name)))


def template_listing(session: Session, *, active_only: bool = False) -> list[dict[str, Any]]:
    """Every template by name (only those in use with ``active_only``)."""
    return [template_out(session, t) for t in list_templates(session)
            if t.active or not active_only]


# -- calendar windows and the week of the calendar ------------------------------------

def list_windows(session: Session) -> list[CalendarWindow]:
    return list(session.scalars(select(CalendarWindow).order_by(CalendarWindow.kind,
                                                                CalendarWindow.name)))


def window_listing(session: Session) -> list[dict[str, Any]]:
    """Every freeze and maintenance window, freezes first, then by name."""
    return [window_out(row) for row in list_windows(session)]


def occurrences_between(session: Session, start: datetime,
                        end: datetime) -> list[dict[str, Any]]:
    found = []
    for row in list_windows(session):
        for s, e in calendar.occurrences(assessment.pure_window(row), start, end):
            found.append({"window": window_out(row), "start": isoformat_z(s),
                          "end": isoformat_z(e)})
    return sorted(found, key=lambda o: o["start"])


# Rejected and canceled changes will not happen, so the calendar leaves them out.
OFF_CALENDAR = ("rejected", "canceled")


def calendar_week(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """What the change calendar shows between ``start`` and ``end``: every window (as
    :class:`calendar.Window`, freezes first, then by name) and the changes planned
    then, each with its services and, while it is open, its conflicts in words."""
    windows = [assessment.pure_window(row) for row in list_windows(session)]
    _, found = list_changes(session, start=start, end=end, limit=1000)
    changes = {c.id: c for c in found if c.state not in OFF_CALENDAR}
    services: dict[int, list[Service]] = {}
    if changes:
        for change_id, service in session.execute(
                select(ChangeService.change_id, Service).join(
                    Service, Service.id == ChangeService.service_id)
                .where(ChangeService.change_id.in_(changes)).order_by(Service.name)):
            services.setdefault(change_id, []).append(service)
    planned = []
    for change in changes.values():
        touched = services.get(change.id, [])
        planned_start, planned_end = assessment.window_of(change)
        conflicts = [reason for _other, reason in assessment.conflicting_changes(
            session, change, touched)] if change.state not in lifecycle.FINAL_STATES else []
        planned.append({"id": change.id, "label": f"CHG-{change.id}", "title": change.title,
                        "state": change.state, "risk_level": change.risk_level,
                        "services": [s.name for s in touched], "start": planned_start,
                        "end": planned_end, "conflicts": conflicts})
    return {"windows": windows, "changes": planned}


# -- deployments -------------------------------------------------------------------------

def deployment_listing(session: Session, *, service: str | None = None,
                       team: str | None = None, environment: str | None = None,
                       status: str | None = None, unauthorised: bool | None = None,
                       limit: int = 100, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """Deployments, newest first, each with its author and its service's owning team. A
    team narrows the list only when no service is named."""
    team_id = None
    if team and not service:
        team_id = session.scalar(select(Team.id).where(Team.name == team)) or -1
    total, rows = list_deployments(session, service=service, team_id=team_id,
                                   environment=environment, status=status,
                                   unauthorised=unauthorised, limit=limit, offset=offset)
    names = dict(session.execute(select(Service.id, Service.name)).all())
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    owners = dict(session.execute(select(Service.id, Service.owner_team_id)).all())
    return total, [{**deployment_out(session, d, names), "author": d.author,
                    "team": teams.get(owners.get(d.service_id) or -1)} for d in rows]


def unauthorised_deployment_count(session: Session) -> int:
    """Production deployments that ran with no approved change."""
    total, _ = list_deployments(session, unauthorised=True, limit=1)
    return total


def deployment_environments(session: Session) -> list[str]:
    """The environments deployments were recorded for, sorted here."""
    return sorted(session.scalars(select(Deployment.environment).distinct()))


# -- change success scores ---------------------------------------------------------------

# ServiceNow-style change success score: what each closed change adds.
OUTCOME_POINTS = {"successful": 3, "successful_with_issues": -2, "failed": -5,
                  "rolled_back": -5}


def success_scores(session: Session, *, days: int = 90,
                   team: str | None = None) -> list[dict[str, Any]]:
    """Per team: closed changes by outcome, success rate and score over ``days``.

    Incidents caused by a change take points off too (-10 P1, -5 P2, -2 P3)
    once incident management records causes.
    """
    since = utcnow() - timedelta(days=days)
    query = (select(Team.name, Change.outcome, func.count())
             .join(Team, Team.id == Change.owner_team_id)
             .where(Change.state == "closed", Change.closed_at >= since)
             .group_by(Team.name, Change.outcome))
    if team:
        query = query.where(Team.name == team)
    by_team: dict[str, dict[str, int]] = {}
    for name, outcome, count in session.execute(query):
        by_team.setdefault(name, {})[outcome or "successful"] = int(count)
    out = []
    for name in sorted(by_team):
        outcomes = by_team[name]
        closed = sum(outcomes.values())
        successful = outcomes.get("successful", 0) + outcomes.get("successful_with_issues", 0)
        out.append({"team": name, "days": days, "closed": closed, "outcomes": outcomes,
                    "success_rate": successful / closed if closed else None,
                    "score": sum(OUTCOME_POINTS.get(o, 0) * n for o, n in outcomes.items())})
    return out


# -- deployments as the API answers them -------------------------------------------------

def recorded_deployments_out(session: Session,
                             recorded: Sequence[Recorded]) -> list[dict[str, Any]]:
    """Deployments just recorded, each as the API shows it with whether it is new."""
    names = dict(session.execute(select(Service.id, Service.name).where(
        Service.id.in_({r.deployment.service_id for r in recorded}))).all())
    return [{**deployment_out(session, r.deployment, names), "created": r.created}
            for r in recorded]


def deployment_page(session: Session, *, service: str | None = None,
                    environment: str | None = None, status: str | None = None,
                    unauthorised: bool | None = None, limit: int = 100,
                    offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """One page of deployments (unfinished first, then latest finished) and how many match."""
    total, rows = list_deployments(session, service=service, environment=environment,
                                   status=status, unauthorised=unauthorised, limit=limit,
                                   offset=offset)
    return total, [deployment_out(session, d) for d in rows]


def deployment_detail(session: Session, deployment_id: int) -> dict[str, Any]:
    """One deployment with its commits; 404 when there is none."""
    return deployment_out(session, get_deployment(session, deployment_id), with_commits=True)


# -- what the overview lists ------------------------------------------------------------

def _change_briefs(session: Session, changes: Sequence[Change]) -> list[dict[str, Any]]:
    """Changes in brief, with their services read in one statement for all of them."""
    ids = [c.id for c in changes]
    services: dict[int, list[str]] = {}
    teams: dict[int, str] = {}
    if ids:
        for change_id, name in session.execute(
                select(ChangeService.change_id, Service.name)
                .join(Service, Service.id == ChangeService.service_id)
                .where(ChangeService.change_id.in_(ids)).order_by(Service.name)):
            services.setdefault(change_id, []).append(name)
        owners = {c.owner_team_id for c in changes if c.owner_team_id is not None}
        if owners:
            teams = dict(session.execute(select(Team.id, Team.name)
                                         .where(Team.id.in_(owners))).all())
    return [{"id": c.id, "number": f"CHG-{c.id}", "title": c.title, "model": c.model,
             "state": c.state, "risk_level": c.risk_level, "author": c.author,
             "team": teams.get(c.owner_team_id or -1), "services": services.get(c.id, []),
             "planned_start": isoformat_z(c.planned_start),
             "planned_end": isoformat_z(c.planned_end),
             "actual_start": isoformat_z(c.actual_start)} for c in changes]


def changes_in_flight(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Changes being implemented now, and the open ones planned to start between
    ``start`` and ``end`` (today, for the overview), by planned start."""
    rows = session.scalars(select(Change).where(or_(
        Change.state == "implement",
        and_(Change.state.in_(assessment.OPEN_STATES), Change.planned_start >= start,
             Change.planned_start < end)))
        .order_by(Change.planned_start.nulls_last(), Change.id)).all()
    return _change_briefs(session, rows)


def awaiting_approval_by(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The changes waiting for approval that ``actor`` may approve or reject now, by the
    same rule as the change page (:func:`lifecycle.approval_rights`), oldest first."""
    if actor.user_id is None or actor.role not in ("member", "admin"):
        return []
    waiting = list(session.scalars(select(Change).where(Change.state == "authorize")
                                   .order_by(Change.created_at, Change.id)))
    if not waiting:
        return []
    votes: dict[int, list[Approval]] = {c.id: [] for c in waiting}
    for approval in session.scalars(select(Approval).where(
            Approval.change_id.in_(list(votes))).order_by(Approval.at, Approval.id)):
        votes[approval.change_id].append(approval)
    mine = []
    reasons = {}
    for change in waiting:
        allowed, reason = lifecycle.approval_rights(session, actor, change, votes[change.id])
        if allowed:
            mine.append(change)
            reasons[change.id] = reason
    return [{**brief, "reason": reasons[brief["id"]], "approvals": len(votes[brief["id"]])}
            for brief in _change_briefs(session, mine)]
