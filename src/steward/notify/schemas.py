"""API shapes for contact methods, notification rules, quiet hours, subscriptions and
notifications."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from steward.inputs import Id, Label, TeamName, Url
from steward.shapes import Out, Timestamp

ContactKind = Literal["email", "webhook", "chat"]
SubscriptionKind = Literal["webhook", "chat", "cdevents"]
RuleUrgency = Literal["high", "low", "any"]
EventType = Literal["incident.triggered", "incident.acknowledged", "incident.escalated",
                    "incident.resolved", "change.created", "change.approved",
                    "change.rejected", "change.unauthorised"]
NotificationState = Literal["pending", "delivered", "dead", "skipped"]


class ContactMethodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ContactKind
    target: Url = Field(description="an email address, or the http(s) URL of a webhook or "
                                    "chat webhook")
    label: Label = ""


class ContactMethodOut(Out):
    id: int
    kind: str
    target: str
    label: str
    created_at: Timestamp


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contact_method_id: Id
    urgency: RuleUrgency = "any"
    delay_minutes: int = Field(default=0, ge=0, le=24 * 60,
                               description="minutes after the page starts")


class RuleOut(Out):
    id: int
    contact_method_id: int
    contact_kind: str
    contact_target: str
    urgency: str
    delay_minutes: int


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_zone: str = Field(default="UTC", max_length=64, description="an IANA time zone")
    quiet_start: str | None = Field(default=None, max_length=5, description="HH:MM, local")
    quiet_end: str | None = Field(default=None, max_length=5, description="HH:MM, local")


class PreferencesOut(Out):
    time_zone: str
    quiet_start: str | None
    quiet_end: str | None


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: TeamName
    kind: SubscriptionKind = "webhook"
    url: Url
    event_types: list[EventType] = Field(min_length=1, max_length=8)


class SubscriptionOut(Out):
    id: int
    team: str
    name: str
    kind: str
    url: str
    event_types: list[str]
    active: bool
    signed: bool
    created_by: str
    created_at: Timestamp


class SubscriptionCreated(SubscriptionOut):
    secret: str | None = Field(description="the signing secret, shown only in this answer "
                                           "(webhooks; none for chat and CDEvents)")


class NotificationOut(Out):
    id: int
    channel: str
    target: str
    event_type: str
    urgency: str
    subject: str
    state: str
    attempts: int
    last_error: str
    incident_id: int | None
    change_id: int | None
    user: str | None
    subscription: str | None
    due_at: Timestamp
    last_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    created_at: Timestamp
