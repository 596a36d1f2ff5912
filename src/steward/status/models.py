"""What the public status page keeps: which services it publishes and how, the public
updates responders write for incidents, each team's publishing policy, and the people
subscribed to updates. Component states, incidents and maintenance are not stored
here: they are read live from incidents, services' health and changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

# The models of the tables these foreign keys name (see steward/incidents/models.py).
from steward.auth import models as _auth  # noqa: F401
from steward.catalog import models as _catalog  # noqa: F401
from steward.db import Base, UTCDateTime
from steward.incidents import models as _incidents  # noqa: F401
from steward.timeutil import utcnow

# A public incident's states, as Atlassian Statuspage names them.
UPDATE_STATES = ("investigating", "identified", "monitoring", "resolved")
# A public incident's impact, as Statuspage names it.
IMPACTS = ("none", "minor", "major", "critical")


class StatusComponent(Base):
    """How the status page shows a service. A business service is published under its
    own name unless a row says otherwise; any other service only with a row that
    publishes it. The public name, description and group replace the catalog's."""

    __tablename__ = "status_components"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    name: Mapped[str] = mapped_column(String(200), default="")  # "": the catalog's name
    description: Mapped[str] = mapped_column(Text, default="")
    group_name: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatusUpdate(Base):
    """One public update of an incident, as published (drafts are not stored: the form
    starts from a suggestion made from the incident). The latest update's title and
    status are the public incident's; ``components`` lists the published components
    it names, each with the public status it gave them."""

    __tablename__ = "status_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # UPDATE_STATES
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    impact: Mapped[str] = mapped_column(String(10), default="minor")  # IMPACTS
    # [{"service_id": 3, "status": "major_outage"}, ...]
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Who published it (internal: never on the public page); None when a policy did.
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class StatusPolicy(Base):
    """A team's publishing policy: whether its P1 incidents publish their first update
    by themselves (from the suggestion) when they open."""

    __tablename__ = "status_policies"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    auto_publish_p1: Mapped[bool] = mapped_column(Boolean, default=False)


class StatusSubscriber(Base):
    """Someone subscribed by email to the whole page (``components`` empty) or to some
    components (service ids). Updates go to them once ``confirmed_at`` is set (double
    opt-in); an unsubscribed row stays so a second subscription is recognised."""

    __tablename__ = "status_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower case
    components: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Random; the signed links carry it, so a new subscription invalidates old links.
    token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
