"""A team's status page policy: whether its P1 incidents publish their first public
update by themselves, from the suggested draft, as they open (``status.listeners``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.catalog.use_cases.teams import get_team
from steward.status.models import StatusPolicy


def set_policy(session: Session, actor: Actor, team: str, *, auto_publish_p1: bool) -> bool:
    """Members of the team and admins set it; answers the value now in force."""
    found = get_team(session, team)
    actor.require_team_write(found.id, "change the team's status page policy")
    policy = session.get(StatusPolicy, found.id)
    before = bool(policy and policy.auto_publish_p1)
    if policy is None:
        policy = StatusPolicy(team_id=found.id, auto_publish_p1=auto_publish_p1)
        session.add(policy)
    policy.auto_publish_p1 = auto_publish_p1
    session.flush()
    if before != auto_publish_p1:
        audit.record(session, actor, "team.status_policy", "team", found.id,
                     before={"auto_publish_p1": before},
                     after={"auto_publish_p1": auto_publish_p1})
    return auto_publish_p1
