"""API shapes of the webhook answers (the payloads are each wire format's own)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from steward.changes.schemas import DeploymentOut
from steward.shapes import Out


class DeploymentWebhookOut(Out):
    """A deployment event recorded (201), or one already recorded (200)."""

    status: Literal["recorded"]
    deployment: DeploymentOut
    created: bool
    duplicate: bool | None = Field(
        default=None, description="present (true) when this delivery was processed before; "
                                  "the answer is the first one's")


class IgnoredOut(Out):
    """An event of a kind Steward does not record (200, nothing written)."""

    status: Literal["ignored"]
    ignored: str = Field(description="why the event records nothing")


class PagerDutyEventAccepted(Out):
    status: Literal["success"]
    message: str
    dedup_key: str


class PagerDutyChangeAccepted(Out):
    status: Literal["success"]
    message: str


class PagerDutyThrottled(Out):
    """PagerDuty's own 429 answer (with ``Retry-After``)."""

    status: Literal["throttle exceeded"]
    message: str


class PagerDutyInvalid(Out):
    """PagerDuty's own 400 answer: every problem found in ``errors``."""

    status: Literal["invalid event"]
    message: str
    errors: list[str]
