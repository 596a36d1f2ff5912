"""Small checks that several wire formats share; each names the field it refuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from steward.errors import ValidationError
from steward.timeutil import parse_timestamp


@dataclass(frozen=True)
class Ignored:
    """A delivery a source sent that records nothing; answered 2xx with the reason,
    so the sender never counts it as a failure (GitLab disables hooks that fail)."""

    reason: str


class UnreadableTime(ValidationError):
    """An event's time that does not parse: that event is refused (400, not 422), and only
    it; the other events of its batch are recorded and the answer lists it
    (:class:`Refusal`)."""

    status_code = 400


@dataclass(frozen=True)
class Refusal:
    """One event of a batch refused: its place in the batch, the field and why."""

    index: int
    field: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


def event_time(value: Any, field: str) -> datetime:
    """An event's time; :class:`UnreadableTime` naming ``field`` when it does not parse.
    Any time that parses is kept as reported: how much of it counts is the domain's rule
    (``incidents.event_time``)."""
    try:
        return parse_timestamp(value, field=field)
    except ValidationError as exc:
        raise UnreadableTime(exc.message, field=field) from None


def refuse_batch(refused: list[Refusal]) -> UnreadableTime:
    """The error of a batch whose every event was refused: the first, with all of them
    (as every error's details: each field, which names the event's place, and message)."""
    first = refused[0]
    return UnreadableTime(f"{first.field}: {first.message}", field=first.field,
                          details=[{"field": r.field, "message": r.message} for r in refused])


def object_at(parent: dict[str, Any], path: str) -> dict[str, Any]:
    """``parent[last part of path]``, which must be an object."""
    value = parent.get(path.rsplit(".", 1)[-1])
    if not isinstance(value, dict):
        raise ValidationError(f"{path}: expected an object", field=path)
    return value


def required_str(parent: dict[str, Any], path: str) -> str:
    """``parent[last part of path]``, which must be a non-empty string."""
    value = parent.get(path.rsplit(".", 1)[-1])
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{path}: is required (a non-empty string)", field=path)
    return value.strip()


def list_problems(items: Any, name: str, required: str,
                  optional: tuple[str, ...]) -> list[tuple[str, str]]:
    """PagerDuty-style problems of a list of objects (``links``, ``images``)."""
    if items is None:
        return []
    if not isinstance(items, list):
        return [(name, f"'{name}' must be an array")]
    problems: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            problems.append((where, f"'{where}' must be an object"))
            continue
        if not isinstance(item.get(required), str) or not item[required].strip():
            problems.append((f"{where}.{required}", f"'{where}.{required}' is missing or blank"))
        for key in optional:
            if item.get(key) is not None and not isinstance(item[key], str):
                problems.append((f"{where}.{key}", f"'{where}.{key}' must be a string"))
    return problems
