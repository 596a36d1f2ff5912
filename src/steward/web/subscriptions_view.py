"""What a team's page shows of its subscriptions."""

from __future__ import annotations

from typing import Any

from steward.db import Session
from steward.notify import queries
from steward.notify.outbound import EVENT_TYPES
from steward.web.guard import Viewer


def subscriptions_context(session: Session, viewer: Viewer, team_id: int, team: str
                          ) -> dict[str, Any]:
    return {"subscriptions": queries.subscriptions(session, team),
            "can_edit_team": viewer.can_write_team(team_id),
            "event_types": EVENT_TYPES, "default_events": EVENT_TYPES[:4],
            "sub_form": {}, "subscription_error": "", "created_secret": None}
