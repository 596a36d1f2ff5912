"""API shapes of on-call: schedules, layers, overrides, escalation policies, who is on
call. Unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from steward.inputs import CLEAN, Id, Label, LongText, NameRef, RequiredLabel, TeamName
from steward.shapes import Out, Timestamp
from steward.timeutil import parse_timestamp

# A year of hours (and a leap day): a longer hand-off interval is surely a mistake.
MAX_INTERVAL_HOURS = 24 * 366
MAX_TIMEOUT_MINUTES = 7 * 24 * 60
MAX_REPEAT = 20
MAX_LAYERS = 20
MAX_MEMBERS = 200
MAX_LEVELS = 20
MAX_TARGETS = 20

TimeZoneName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=64), CLEAN]
Clock = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5), CLEAN]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=100), CLEAN]
TargetKind = Literal["schedule", "user", "team"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _time(value: object, info: object) -> datetime | None:
    if value is None:
        return None
    return parse_timestamp(value, field=getattr(info, "field_name", "time") or "time")


class LayerIn(Strict):
    name: RequiredLabel
    position: int | None = Field(default=None, ge=1, le=1000,
                                 description="higher wins where layers overlap; "
                                             "default: its place in the list (1, 2, ...)")
    starts: datetime = Field(description="the first hand-off, a local wall-clock time in the "
                                         "schedule's time zone (an offset given is converted)")
    handoff_interval_hours: int = Field(ge=1, le=MAX_INTERVAL_HOURS,
                                        description="24 daily, 168 weekly; multiples of 24 "
                                                    "hand off at the same local time")
    members: list[Username] = Field(max_length=MAX_MEMBERS,
                                    description="usernames in rotation order")
    restrict_start: Clock | None = Field(default=None, description="daily window from HH:MM")
    restrict_end: Clock | None = Field(default=None, description="to HH:MM (before the start: "
                                                                 "past midnight)")
    restrict_weekdays: list[Weekday] | None = Field(
        default=None, description="the days a window starts on (none: every day)")


class ScheduleCreate(Strict):
    team: TeamName
    name: RequiredLabel
    time_zone: TimeZoneName = Field(description="an IANA time zone, e.g. Europe/Amsterdam")
    description: LongText = ""
    layers: list[LayerIn] = Field(default_factory=list, max_length=MAX_LAYERS)


class ScheduleUpdate(Strict):
    name: RequiredLabel | None = None
    time_zone: TimeZoneName | None = None
    description: LongText | None = None
    layers: list[LayerIn] | None = Field(default=None, max_length=MAX_LAYERS,
                                         description="replaces every layer when given")


class LayerOut(Out):
    id: int
    name: str
    position: int
    starts: str = Field(description="local wall-clock time, YYYY-MM-DDTHH:MM")
    handoff_interval_hours: int
    members: list[str]
    restrict_start: str | None
    restrict_end: str | None
    restrict_weekdays: list[str] | None


class ScheduleOut(Out):
    id: int
    team: str
    name: str
    time_zone: str
    description: str
    layers: list[LayerOut]
    created_at: Timestamp
    updated_at: Timestamp


class OverrideCreate(Strict):
    user: Username = Field(description="who takes the shift")
    starts_at: datetime
    ends_at: datetime
    reason: LongText = ""
    requested_by: Label | None = Field(default=None,
                                       description="who asked (default: the caller)")

    _times = field_validator("starts_at", "ends_at", mode="before")(_time)


class OverrideOut(Out):
    id: int
    schedule_id: int
    user: str
    starts_at: Timestamp
    ends_at: Timestamp
    requested_by: str
    reason: str
    created_at: Timestamp


class ShiftOut(Out):
    user: str
    start: Timestamp
    end: Timestamp
    layer: str | None
    override: bool
    override_id: int | None


class GapOut(Out):
    start: Timestamp
    end: Timestamp


class ShiftsOut(Out):
    schedule_id: int
    schedule: str
    team: str
    time_zone: str
    start: Timestamp
    end: Timestamp
    shifts: list[ShiftOut]
    gaps: list[GapOut]
    layers: dict[str, list[ShiftOut]] = Field(description="each layer's own shifts")


class TargetIn(Strict):
    kind: TargetKind
    schedule: NameRef | None = Field(default=None,
                                     description="a schedule of the policy's team, by name")
    schedule_id: Id | None = Field(default=None, description="any team's schedule, by id")
    user: Username | None = None
    team: TeamName | None = None


class LevelIn(Strict):
    timeout_minutes: int = Field(ge=1, le=MAX_TIMEOUT_MINUTES,
                                 description="minutes without acknowledgement before the "
                                             "next level")
    targets: list[TargetIn] = Field(max_length=MAX_TARGETS)


class PolicyIn(Strict):
    name: RequiredLabel
    repeat_count: int = Field(default=0, ge=0, le=MAX_REPEAT,
                              description="times the levels run again after the last")
    levels: list[LevelIn] = Field(max_length=MAX_LEVELS)


class TargetOut(Out):
    kind: TargetKind
    schedule_id: int | None
    schedule: str | None
    user: str | None
    team: str | None


class LevelOut(Out):
    level: int
    timeout_minutes: int
    targets: list[TargetOut]


class PolicyOut(Out):
    id: int
    team: str
    name: str
    repeat_count: int
    levels: list[LevelOut]


class OnCallEntry(Out):
    user: str
    email: str
    level: int
    schedule: str | None


class OnCallOut(Out):
    team: str | None = Field(description="the team (for a service: its owner team, None "
                                         "when it has none)")
    at: Timestamp
    oncall: list[OnCallEntry]


class NowNextEntry(Out):
    user: str | None = Field(description="None: nobody (a gap)")
    email: str | None
    start: Timestamp | None
    end: Timestamp | None = Field(description="None: beyond the horizon looked at")
    override: bool


class ScheduleNowNext(Out):
    schedule_id: int
    schedule: str
    time_zone: str
    now: NowNextEntry
    next: NowNextEntry | None


class NowNextOut(Out):
    team: str
    at: Timestamp
    schedules: list[ScheduleNowNext]


class EscalationOut(Out):
    """Where an incident's escalation is."""

    state: str = Field(description="active, stopped, ran_out or no_policy")
    text: str = Field(description='e.g. "level 2 of 2, next step 14:05 UTC"')
    tone: str
    policy: str | None
    cycle: int
    level: int
    levels: int
    next_step_at: Timestamp | None
