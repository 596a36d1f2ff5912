"""Change records: creation, assessment, approval, state machine, and the gate."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward import events
from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.use_cases.accounts import user_team_names
from steward.catalog.models import Service
from steward.changes import assessment, calendar, policy, risk
from steward.changes.models import (
    AWAITING_APPROVAL,
    Approval,
    Change,
    ChangeService,
    ChangeTemplate,
    Deployment,
    TemplateService,
)
from steward.changes.schemas import ChangeCreate, GateRequest
from steward.errors import Conflict, NotFound, PermissionDenied, ValidationError
from steward.timeutil import utcnow

# Where each state may go; standard changes skip authorize, emergency ones skip assess.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("assess", "authorize", "canceled"),
    "assess": ("authorize", "scheduled", "rejected", "canceled"),
    "authorize": ("scheduled", "rejected", "canceled"),
    "scheduled": ("implement", "canceled"),
    "implement": ("review", "closed"),
    "review": ("closed",),
    "closed": (),
    "rejected": (),
    "canceled": (),
}
FINAL_STATES = ("closed", "rejected", "canceled")


def change_snapshot(change: Change) -> dict[str, Any]:
    return {"id": change.id, "title": change.title, "model": change.model,
            "state": change.state, "outcome": change.outcome, "environment": change.environment,
            "risk_score": change.risk_score, "risk_level": change.risk_level,
            "planned_start": change.planned_start, "planned_end": change.planned_end,
            "actual_start": change.actual_start, "actual_end": change.actual_end,
            "template_id": change.template_id, "author": change.author}


def get_change(session: Session, change_id: int) -> Change:
    change = session.get(Change, change_id)
    if change is None:
        raise NotFound(f"change {change_id} does not exist", field="change_id")
    return change


def _services(session: Session, names: list[str]) -> list[Service]:
    found = {s.name: s for s in session.scalars(select(Service).where(Service.name.in_(names)))}
    missing = [n for n in names if n not in found]
    if missing:
        raise ValidationError(f"services: unknown service(s): {', '.join(missing)}",
                              field="services")
    return [found[n] for n in dict.fromkeys(names)]


def _template(session: Session, name: str, services: list[Service]) -> ChangeTemplate:
    template = session.scalar(select(ChangeTemplate).where(ChangeTemplate.name == name))
    if template is None or not template.active:
        raise ValidationError(f"template: no active standard change template {name!r}",
                              field="template")
    covered = set(session.scalars(select(TemplateService.service_id).where(
        TemplateService.template_id == template.id)))
    outside = [s.name for s in services if s.id not in covered]
    if outside:
        raise ValidationError(f"template: {name!r} does not cover {', '.join(outside)}",
                              field="template")
    return template


def create_change(session: Session, actor: Actor, data: ChangeCreate,
                  *, source: str = "api") -> Change:
    """Record a change, assess its risk and apply the approval policy."""
    if data.external_key:
        existing = session.scalar(select(Change).where(Change.external_key == data.external_key))
        if existing is not None:
            return existing
    services = _services(session, list(data.services))
    owner_id = services[0].owner_team_id
    if not any(actor.can_write_team(s.owner_team_id) for s in services):
        actor.require_team_write(owner_id, "open changes on these services")
    owner_id = next((s.owner_team_id for s in services if actor.can_write_team(s.owner_team_id)),
                    owner_id)
    model = data.model
    template = None
    if data.template:
        template = _template(session, data.template, services)
        model = "standard"
    elif model == "standard":
        raise ValidationError("template: a standard change needs its template", field="template")
    start = data.planned_start or utcnow()
    end = data.planned_end or start + timedelta(hours=1)
    if end <= start:
        raise ValidationError("planned_end: must be after planned_start", field="planned_end")
    change = Change(title=data.title, description=data.description, model=model,
                    environment=data.environment, owner_team_id=owner_id,
                    template_id=template.id if template else None, author=actor.name,
                    author_user_id=actor.user_id, planned_start=start, planned_end=end,
                    links=dict(data.links), source=source, external_key=data.external_key)
    session.add(change)
    session.flush()
    for service in services:
        session.add(ChangeService(change_id=change.id, service_id=service.id))
    session.flush()
    audit.record(session, actor, "change.create", "change", change.id,
                 after={**change_snapshot(change), "services": [s.name for s in services]})
    events.publish(session, events.Event("change.created", change.id, actor=actor.name))
    evaluate(session, actor, change, batch_size=data.batch_size)
    return change


def evaluate(session: Session, actor: Actor, change: Change,
             *, batch_size: int | None = None) -> policy.Decision:
    """Assess risk, then let the approval policy decide where the change goes next."""
    services = assessment.affected_services(session, change)
    inp = assessment.risk_input(session, change, services, batch_size)
    result = risk.assess(inp, assessment.risk_weights())
    change.risk_score, change.risk_level = result.score, result.level
    change.risk_factors = [{"key": f.key, "points": f.points, "sentence": f.sentence}
                           for f in result.factors]
    facts = assessment.policy_facts(session, change, services, result.level,
                                    inp.error_budget_remaining)
    decision = policy.evaluate(assessment.policy_rules(), facts)
    change.policy = {"action": decision.action, "rule": decision.rule,
                     "approver_teams": list(decision.approver_teams),
                     "quorum": decision.quorum, "reasons": list(decision.reasons)}
    session.flush()
    if change.model != "emergency" and change.state == "new":
        _move(session, actor, change, "assess")
    if decision.action == "auto_approve":
        change.auto_approved = True
        _authorize(session, actor, change)
    elif decision.action == "auto_reject":
        _move(session, actor, change, "rejected")
    elif change.state != "authorize":
        _move(session, actor, change, "authorize")
    return decision


def _move(session: Session, actor: Actor, change: Change, state: str,
          *, outcome: str | None = None, comment: str = "",
          at: datetime | None = None) -> None:
    if state not in TRANSITIONS[change.state]:
        raise Conflict(f"state: CHG-{change.id} cannot go from {change.state} to {state}; "
                       f"allowed: {', '.join(TRANSITIONS[change.state]) or 'none'}",
                       field="state")
    before = {"state": change.state, "outcome": change.outcome}
    change.state = state
    now = at or utcnow()
    if state == "implement" and change.actual_start is None:
        change.actual_start = now
    if state in FINAL_STATES:
        change.closed_at = now
        if state == "closed":
            change.outcome = outcome or change.outcome or "successful"
            change.actual_end = change.actual_end or now
    session.flush()
    after = {"state": change.state, "outcome": change.outcome}
    if comment:
        after["comment"] = comment
    audit.record(session, actor, "change.transition", "change", change.id,
                 before=before, after=after)
    if state == "rejected":
        events.publish(session, events.Event("change.rejected", change.id, at=now,
                                             actor=actor.name))


def _authorize(session: Session, actor: Actor, change: Change) -> None:
    change.authorized_at = utcnow()
    if change.state == "new":  # an emergency change skips assess, not authorize
        _move(session, actor, change, "authorize")
    _move(session, actor, change, "scheduled")
    events.publish(session, events.Event("change.approved", change.id, actor=actor.name,
                                         data={"auto": change.auto_approved}))


def transition(session: Session, actor: Actor, change_id: int, state: str,
               *, outcome: str | None = None, comment: str = "") -> Change:
    change = locked_change(session, change_id)
    actor.require_team_write(change.owner_team_id, "move this change")
    if state in ("scheduled",) and change.state in ("assess", "authorize"):
        raise Conflict("state: a change is scheduled by its approval policy or approvers, "
                       "not by hand", field="state")
    if state == "closed" and outcome is None and change.state == "implement":
        raise ValidationError("outcome: closing a change needs its outcome", field="outcome")
    _move(session, actor, change, state, outcome=outcome, comment=comment)
    return change


def approvals_of(session: Session, change_id: int) -> list[Approval]:
    return list(session.scalars(select(Approval).where(Approval.change_id == change_id)
                                .order_by(Approval.at, Approval.id)))


def stored_decision(change: Change) -> policy.Decision:
    data = change.policy or {}
    return policy.Decision(action=data.get("action", "require_approval"),
                           rule=data.get("rule", ""),
                           approver_teams=tuple(data.get("approver_teams", ())),
                           quorum=int(data.get("quorum", 1)),
                           reasons=tuple(data.get("reasons", ())))


def locked_change(session: Session, change_id: int) -> Change:
    """The change, its row locked until the transaction ends (PostgreSQL; SQLite
    serialises writers anyway), read afresh: a decision or a move made meanwhile
    by another request is seen before this one is judged."""
    change = session.scalar(select(Change).where(Change.id == change_id).with_for_update()
                            .execution_options(populate_existing=True))
    if change is None:
        raise NotFound(f"change {change_id} does not exist", field="change_id")
    return change


def approval_rights(session: Session, actor: Actor, change: Change,
                    approvals: list[Approval] | None = None) -> tuple[bool, str]:
    """Whether ``actor`` may approve or reject ``change`` now, with the reason either way.

    The one rule for the API, the CLI and the change page: the change waits for
    approval; approvals come from people, members or admins (a viewer only
    reads), who have not voted on it yet, are not its author and belong to an
    approver team (segregation of duties, see :func:`policy.can_approve`).
    """
    if change.state != "authorize":
        return False, f"CHG-{change.id} is {change.state}, not waiting for approval"
    if actor.user_id is None:
        return False, "approvals come from people, not integrations"
    if actor.role not in ("member", "admin"):
        return False, f"a {actor.role} may not approve or reject changes"
    votes = approvals if approvals is not None else approvals_of(session, change.id)
    mine = next((a for a in votes if a.user_id == actor.user_id
                 or a.username.casefold() == actor.name.casefold()), None)
    if mine is not None:
        done = "approved" if mine.decision == "approve" else "rejected"
        return False, f"you have already {done} CHG-{change.id}"
    teams = set(user_team_names(session, actor.user_id))
    return policy.can_approve(actor.name, teams, change.author, stored_decision(change))


def decide(session: Session, actor: Actor, change_id: int, decision: str,
           comment: str = "") -> Change:
    """An approver approves or rejects; segregation of duties holds.

    The change's row is locked first, so of two final approvals (or an approval
    and a rejection) racing, the second sees the first's outcome and is refused.
    """
    change = locked_change(session, change_id)
    approvals = approvals_of(session, change.id)
    allowed, reason = approval_rights(session, actor, change, approvals)
    if not allowed:
        if change.state != "authorize":
            raise Conflict(f"state: {reason}", field="state")
        raise PermissionDenied(reason)
    assert actor.user_id is not None  # approval_rights refuses integrations
    teams = set(user_team_names(session, actor.user_id))
    pending = stored_decision(change)
    team = next((t for t in pending.approver_teams if t in teams), None)
    session.add(Approval(change_id=change.id, user_id=actor.user_id, username=actor.name,
                         team=team, decision=decision, comment=comment))
    session.flush()
    audit.record(session, actor, f"change.{decision}", "change", change.id,
                 after={"decision": decision, "team": team, "comment": comment})
    votes = [(a.username, a.team or "", a.decision) for a in approvals_of(session, change.id)]
    state, _reasons = policy.approval_state(pending, votes, author=change.author)
    if state == "approved":
        _authorize(session, actor, change)
    elif state == "rejected":
        _move(session, actor, change, "rejected")
    return change


def follow_deployment(session: Session, actor: Actor, change: Change,
                      deployment: Deployment) -> None:
    """A deployment moves its change: implementing, then closed with its outcome.

    A deployment is a fact, so it is never refused for its change's state: one
    that ran while its change still waited for approval, or after the change was
    rejected or canceled, is recorded and judged (see :func:`_deployed_unapproved`).
    """
    session.refresh(change, with_for_update=True)  # an approval racing it is seen first
    if change.state in AWAITING_APPROVAL or change.state in ("rejected", "canceled"):
        _deployed_unapproved(session, actor, change, deployment)
        return
    if change.state in FINAL_STATES:
        return
    # The deployment's own times are when the change really happened.
    began = deployment.started_at or deployment.finished_at
    if change.state == "scheduled":
        _move(session, actor, change, "implement", at=began)
    if deployment.status == "succeeded":
        change.actual_end = deployment.finished_at
        if change.state == "implement":
            _move(session, actor, change, "review", at=deployment.finished_at)
        _move(session, actor, change, "closed", outcome="successful",
              at=deployment.finished_at)
    elif deployment.status in ("failed", "rolled_back") and change.state == "implement":
        change.actual_end = deployment.finished_at
        _move(session, actor, change, "closed", at=deployment.finished_at,
              outcome=DEPLOYMENT_OUTCOMES[deployment.status])


DEPLOYMENT_OUTCOMES = {"succeeded": "successful", "failed": "failed",
                       "rolled_back": "rolled_back"}


def _deployed_unapproved(session: Session, actor: Actor, change: Change,
                         deployment: Deployment) -> None:
    """A deployment ran on a change nobody approved: record what happened, flag it.

    While the deployment is only in progress on a change that waits for approval,
    the pipeline may be waiting at the gate, so nothing moves yet. Once it has
    finished, the change was implemented without approval: its approval is moot,
    and it goes to review with the deployment's outcome, where a person looks at it
    (post-implementation review) and closes it. A rejected or canceled change keeps
    its state; the audit log records the deployment that ran anyway. Only
    production deployments are flagged (``deployment.unauthorised``); another
    environment's deployment leaves the change as it was.
    """
    if not deployment.unauthorised:
        return
    waiting = change.state in AWAITING_APPROVAL
    if waiting and deployment.status == "in_progress":
        return
    audit.record(session, actor, "change.unauthorised_deployment", "change", change.id,
                 after={"deployment_id": deployment.id, "deployment_status": deployment.status,
                        "change_state": change.state})
    events.publish(session, events.Event("change.unauthorised", change.id, actor=actor.name,
                                         data={"deployment_id": deployment.id}))
    if not waiting:
        return
    before = {"state": change.state, "outcome": change.outcome}
    change.state = "review"
    change.outcome = DEPLOYMENT_OUTCOMES.get(deployment.status, change.outcome)
    change.actual_start = change.actual_start or deployment.started_at or deployment.finished_at
    change.actual_end = deployment.finished_at
    session.flush()
    audit.record(session, actor, "change.transition", "change", change.id, before=before,
                 after={"state": change.state, "outcome": change.outcome,
                        "comment": f"deployment {deployment.id} {deployment.status} in "
                                   f"{deployment.environment} without approval"})


# -- the gate -------------------------------------------------------------------------

def gate(session: Session, change: Change) -> dict[str, Any]:
    """May the pipeline deploy now? allowed, denied or pending, with reasons."""
    reasons: list[str] = []
    decision = "pending"
    freezes = _freezes_now(session, change)
    if freezes and change.state not in FINAL_STATES:
        decision = "denied"
        reasons = [f"freeze window {w.name!r} is in force now; only emergency changes may "
                   "deploy" for w in freezes]
    elif change.state in ("scheduled", "implement"):
        decision = "allowed"
        reasons.append("auto-approved by policy" if change.auto_approved
                       else "approved by " + ", ".join(
                           sorted({a.username for a in approvals_of(session, change.id)
                                   if a.decision == "approve"})))
    elif change.state == "authorize":
        pending = stored_decision(change)
        votes = [(a.username, a.team or "", a.decision) for a in approvals_of(session, change.id)]
        _state, why = policy.approval_state(pending, votes, author=change.author)
        reasons.extend(list(pending.reasons) + list(why))
    elif change.state in ("new", "assess"):
        reasons.append(f"the change is still in {change.state}")
    else:
        decision = "denied"
        reasons.append(f"the change is {change.state}"
                       + (f" ({change.outcome})" if change.outcome else ""))
    return {"change_id": change.id, "decision": decision, "state": change.state,
            "model": change.model, "risk": {"score": change.risk_score,
                                            "level": change.risk_level},
            "reasons": reasons}


def _freezes_now(session: Session, change: Change) -> list[calendar.Window]:
    if change.model == "emergency":
        return []
    services = assessment.affected_services(session, change)
    now = utcnow()
    return calendar.freezes_overlapping(assessment.all_windows(session), now,
                                        now + timedelta(seconds=1),
                                        assessment.targets_of(session, services))


def gate_for_pipeline(session: Session, actor: Actor, request: GateRequest) -> Change:
    """The change this pipeline run deploys under: given, found again, or opened now."""
    if request.change_id is not None:
        return get_change(session, request.change_id)
    key = (f"{request.service}:{request.environment}:{request.pipeline_run}"
           if request.pipeline_run else None)
    return create_change(session, actor, ChangeCreate(
        title=request.title or f"Deploy {request.service} to {request.environment}",
        services=[request.service], model=request.model, template=request.template,
        environment=request.environment, batch_size=request.batch_size,
        links=dict(request.links), external_key=key), source="pipeline")
